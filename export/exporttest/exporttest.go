// Package exporttest holds what tests of the exports share: a CSV export
// written independently, with encoding/csv, to compare the export's bytes
// with.
package exporttest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/export"
)

// ReferenceCSV is the CSV export of events as encoding/csv writes their
// cells.
func ReferenceCSV(tb testing.TB, events ...*trail.Event) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(export.CSVHeader)
	for _, e := range events {
		targets, _ := json.Marshal(e.Targets)
		if e.Targets == nil {
			targets = []byte("[]")
		}
		var first trail.Target
		if len(e.Targets) > 0 {
			first = e.Targets[0]
		}
		t := TextCell
		_ = w.Write([]string{t(e.ID), e.OccurredAt.UTC().Format(time.RFC3339Nano), t(e.Action),
			t(e.Actor.Type), t(e.Actor.ID), t(e.Actor.Name), string(targets),
			t(e.Context.IP), t(e.Context.UserAgent), t(e.Context.Location),
			t(e.TraceID), t(e.Tenant), string(e.Metadata),
			strconv.Itoa(e.Version), e.ReceivedAt.UTC().Format(time.RFC3339Nano), string(e.Actor.Metadata),
			t(first.Type), t(first.ID), t(first.Name)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TextCell is a text cell as the CSV export writes it: OWASP's defence
// against CSV injection puts a single quote before a cell that starts
// with '=', '+', '-', '@', a tab or a carriage return.
func TextCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
