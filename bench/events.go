// Package bench measures Trail's ingest, query and export performance in
// one run against a real store and a real HTTP server on loopback: the
// numbers behind docs/benchmarks.md. `trail bench` runs it.
package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/trailhq/trail"
)

// Shape of the generated data set: enough distinct values that filters are
// selective the way real audit logs are.
const (
	numTenants = 10
	numActors  = 5000
	numTargets = 20000
)

var actions = []string{
	"user.created", "user.updated", "user.deleted", "user.login.success", "user.login.failure",
	"api_key.created", "api_key.revoked", "team.member.added", "team.member.removed", "project.created",
	"project.deleted", "project.settings.updated", "invoice.paid", "invoice.refunded", "export.downloaded",
	"role.changed", "sso.configured", "webhook.created", "deploy.started", "deploy.finished",
}

// Tenant returns the name of generated tenant i.
func Tenant(i int) string { return fmt.Sprintf("tenant%02d", i%numTenants) }

// gen makes realistic events of about 500 bytes of JSON each.
type gen struct {
	rnd  *rand.Rand
	base time.Time
}

func newGen(seed uint64) *gen {
	return &gen{rnd: rand.New(rand.NewPCG(seed, 7)), base: time.Now().Add(-30 * 24 * time.Hour)}
}

// input returns one event as a client would send it.
func (g *gen) input(i int) map[string]any {
	actor := g.rnd.IntN(numActors)
	target := g.rnd.IntN(numTargets)
	return map[string]any{
		"action":      actions[g.rnd.IntN(len(actions))],
		"occurred_at": g.at(i).Format(timeLayout),
		"tenant":      Tenant(actor),
		"actor": map[string]any{"type": "user", "id": fmt.Sprintf("user_%05d", actor),
			"name": fmt.Sprintf("User Number %d", actor), "metadata": map[string]any{"role": "admin"}},
		"targets": []any{map[string]any{"type": "project", "id": fmt.Sprintf("proj_%05d", target),
			"name": fmt.Sprintf("Project %d", target)}},
		"context": map[string]any{"ip": fmt.Sprintf("10.%d.%d.%d", actor%256, target%256, i%256),
			"user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
			"location":   "Berlin, DE"},
		"metadata": map[string]any{"request_id": fmt.Sprintf("req_%016x", g.rnd.Uint64()),
			"plan": "enterprise", "changes": map[string]any{"before": "viewer", "after": "editor"}},
		"trace_id": fmt.Sprintf("%032x", g.rnd.Uint64()),
	}
}

// timeLayout writes RFC 3339 times of one width, so that a request body
// made once can be sent again with new times written in place (stamp).
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// at is when generated event i occurred: events arrive in time order, as
// they do in a real audit log, so each time index takes them at its end.
func (g *gen) at(i int) time.Time {
	return g.base.Add(time.Duration(i) * 2 * time.Second / 3).UTC()
}

// events returns n validated events ready for AppendBatches, numbered from
// first.
func (g *gen) events(first, n int, now time.Time) ([]*trail.Event, error) {
	body := map[string]any{"events": g.inputs(first, n)}
	raw, _ := json.Marshal(body)
	ins, err := trail.ParseEvents(raw, now)
	if err != nil {
		return nil, err
	}
	out := make([]*trail.Event, len(ins))
	for i, in := range ins {
		out[i] = in.Event(in.Tenant, now)
	}
	return out, nil
}

func (g *gen) inputs(first, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = g.input(first + i)
	}
	return out
}

// body is a POST /v1/events body made once and sent many times, each time
// with the occurred_at of the events it then stands for.
type body struct {
	data  []byte
	times []int // offsets of the occurred_at values in data
}

// body returns a body of n events.
func (g *gen) body(first, n int) body {
	var data []byte
	if n == 1 {
		data, _ = json.Marshal(g.input(first))
	} else {
		data, _ = json.Marshal(map[string]any{"events": g.inputs(first, n)})
	}
	b := body{data: data}
	field := []byte(`"occurred_at":"`)
	for off := 0; ; {
		i := bytes.Index(data[off:], field)
		if i < 0 {
			return b
		}
		off += i + len(field)
		b.times = append(b.times, off)
	}
}

// stamp returns a copy of b whose events occurred as generated events
// first, first+1, ... would have: without it, bodies sent again would put
// old times back into the time indexes, in an order no real log has.
func (g *gen) stamp(b body, first int) []byte {
	out := slices.Clone(b.data)
	var t [64]byte // not out itself: AppendFormat writes past what it keeps
	for k, off := range b.times {
		copy(out[off:], g.at(first+k).AppendFormat(t[:0], timeLayout))
	}
	return out
}
