package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailhq/trail"
)

// inserter writes the rows of one append transaction through prepared
// statements.
type inserter struct {
	events, targets, actions *sql.Stmt
}

func newInserter(ctx context.Context, tx *sql.Tx) (*inserter, error) {
	var ins inserter
	var err error
	prepare := func(q string) *sql.Stmt {
		var s *sql.Stmt
		if err == nil {
			s, err = tx.PrepareContext(ctx, q)
		}
		return s
	}
	ins.events = prepare(`INSERT INTO events (pos, id, tenant, seq, action, occurred_at, received_at,
		actor_type, actor_id, actor_name, ip, trace_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	ins.targets = prepare(`INSERT OR IGNORE INTO event_targets (tenant, type, id, occurred_at, event_id, pos)
		VALUES (?, ?, ?, ?, ?, ?)`)
	ins.actions = prepare(`INSERT OR IGNORE INTO event_actions (tenant, action) VALUES (?, ?)`)
	if err != nil {
		ins.close()
		return nil, fmt.Errorf("prepare inserts: %w", err)
	}
	return &ins, nil
}

func (ins *inserter) event(ctx context.Context, e *trail.Event, data []byte) error {
	at := e.OccurredAt.UnixMicro()
	_, err := ins.events.ExecContext(ctx, e.Pos, e.ID, e.Tenant, e.Seq, e.Action, at, e.ReceivedAt.UnixMicro(),
		e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Context.IP, e.TraceID, data)
	if err != nil {
		if isConstraint(err) {
			return trail.Errorf(trail.ECONFLICT, "event %s: already stored", e.ID)
		}
		return fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	for _, t := range e.Targets {
		if _, err := ins.targets.ExecContext(ctx, e.Tenant, t.Type, t.ID, at, e.ID, e.Pos); err != nil {
			return fmt.Errorf("insert target of event %s: %w", e.ID, err)
		}
	}
	return nil
}

func (ins *inserter) action(ctx context.Context, tenant, action string) error {
	if _, err := ins.actions.ExecContext(ctx, tenant, action); err != nil {
		return fmt.Errorf("insert action: %w", err)
	}
	return nil
}

// flush writes any rows still buffered.
func (ins *inserter) flush(ctx context.Context) error { return nil }

func (ins *inserter) close() {
	for _, s := range []*sql.Stmt{ins.events, ins.targets, ins.actions} {
		if s != nil {
			s.Close()
		}
	}
}
