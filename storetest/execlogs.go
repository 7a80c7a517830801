package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func logRecord(tenant, trace string, sec int) *trail.LogRecord {
	at := base.Add(time.Duration(sec) * time.Second)
	return &trail.LogRecord{ID: trail.NewID(at), Tenant: tenant, TraceID: trace, SpanID: "s1", Time: at,
		Level: trail.LevelInfo, Message: fmt.Sprintf("step %d", sec), Attributes: json.RawMessage(`{"n":1}`),
		Resource: json.RawMessage(`{"service.name":"billing"}`), ReceivedAt: at}
}

func testExecLogs(t *testing.T, open func(t *testing.T) trail.Store) {
	ls := open(t)
	var want []*trail.LogRecord
	for _, sec := range []int{3, 1, 2, 5, 4} {
		want = append(want, logRecord("acme", "t1", sec))
	}
	noise := []*trail.LogRecord{logRecord("globex", "t1", 1), logRecord("acme", "t2", 1)}
	if err := ls.AppendLogs(ctx(t), append(append([]*trail.LogRecord{}, want...), noise...)); err != nil {
		t.Fatal(err)
	}
	want = []*trail.LogRecord{want[1], want[2], want[0], want[4], want[3]} // time order
	first, err := ls.TraceLogs(ctx(t), "acme", "t1", nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "first page", first, want[:3])
	last := first[2]
	rest, _ := ls.TraceLogs(ctx(t), "acme", "t1", &trail.LogCursor{Time: last.Time, ID: last.ID}, 3)
	wantEqual(t, "second page", rest, want[3:])
	n, err := ls.PruneLogs(ctx(t), base.Add(3*time.Second), 100)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "pruned", n, int64(4)) // t1 at 1s and 2s, globex and t2 at 1s
	left, _ := ls.TraceLogs(ctx(t), "acme", "t1", nil, 100)
	wantEqual(t, "left", left, want[2:])
}
