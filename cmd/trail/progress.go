package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often the export progress line is redrawn.
const progressEvery = 200 * time.Millisecond

// recordCounter passes bytes through to w and counts the records written:
// lines of JSONL, or rows of CSV after the header. In CSV a newline inside
// a quoted field does not end a record.
type recordCounter struct {
	w       io.Writer
	csv     bool
	inQuote bool // only the writing goroutine touches it
	lines   atomic.Int64
}

func newRecordCounter(w io.Writer, csv bool) *recordCounter {
	return &recordCounter{w: w, csv: csv}
}

// Write implements io.Writer.
func (c *recordCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	var lines int64
	for _, b := range p[:n] {
		switch {
		case b == '"' && c.csv:
			c.inQuote = !c.inQuote
		case b == '\n' && !c.inQuote:
			lines++
		}
	}
	c.lines.Add(lines)
	return n, err
}

// Records returns how many records have been written so far.
func (c *recordCounter) Records() int64 {
	n := c.lines.Load()
	if c.csv && n > 0 {
		n-- // the header
	}
	return n
}

// showProgress redraws one status line on w (a terminal) until the
// returned stop function is called, which prints the final count.
func showProgress(w io.Writer, c *recordCounter, now func() time.Time) (stop func() error) {
	start := now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "\r%s", progressLine(c.Records(), now().Sub(start)))
			}
		}
	}()
	return func() error {
		close(done)
		wg.Wait()
		_, err := fmt.Fprintf(w, "\r%s\n", progressLine(c.Records(), now().Sub(start)))
		return err
	}
}

// progressLine formats a count and its rate, padded to overwrite a longer
// previous line.
func progressLine(n int64, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(n) / s
	}
	return fmt.Sprintf("exported %d events (%.0f events/s, %s)   ", n, rate, elapsed.Round(100*time.Millisecond))
}
