package trail

// WriterQueueLen returns how many requests wait for the writer.
var WriterQueueLen = func(w *Writer) int { return len(w.reqs) }

// ParseEventsCareful is ParseEvents without its fast path.
var ParseEventsCareful = parseCareful

// DecodesFast reports whether ParseEvents takes its fast path for body.
func DecodesFast(body []byte) bool { _, ok := parseFast(body); return ok }
