package trail

// WriterQueueLen returns how many requests wait for the writer.
var WriterQueueLen = func(w *Writer) int { return len(w.reqs) }

// ParseEventsCareful is ParseEvents without its fast path.
var ParseEventsCareful = parseCareful
