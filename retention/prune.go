package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// ActionDeleted is the action of the event that records what a run
// deleted from a tenant's log.
const ActionDeleted = "retention.deleted"

// prune extends tenant's pruned prefix up to its first event that is not
// past the cutoff, as far as the ledger has sealed, and reports it.
func (r *Runner) prune(ctx context.Context, tenant string, now time.Time) (*TenantReport, error) {
	st := r.cfg.Store
	p, err := st.RetentionPolicy(ctx, tenant)
	if err != nil {
		return nil, err
	}
	tr := &TenantReport{Tenant: tenant, Days: p.Days, Cutoff: p.Cutoff(now)}
	if tr.OnHold, err = tenantHeld(ctx, st, tenant); err != nil || tr.OnHold {
		return tr, err
	}
	ranges, err := st.PrunedRanges(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if n := len(ranges); n > 0 {
		tr.PrunedTo = ranges[n-1].To
	}
	end, err := st.RetentionEnd(ctx, tenant, tr.PrunedTo, tr.Cutoff)
	tr.end = end
	if err != nil || end <= tr.PrunedTo {
		return tr, err
	}
	rng, err := st.RecordPruned(ctx, tenant, end, now)
	if err != nil {
		return nil, fmt.Errorf("record pruned range: %w", err)
	}
	if rng != nil && rng.To > tr.PrunedTo {
		tr.PrunedTo, tr.NewlyPruned = rng.To, rng
	}
	return tr, nil
}

func tenantHeld(ctx context.Context, st Store, tenant string) (bool, error) {
	holds, err := st.Holds(ctx, trail.Scope{Tenant: tenant})
	if err != nil {
		return false, err
	}
	for _, h := range holds {
		if h.Kind == trail.HoldTenant {
			return true, nil
		}
	}
	return false, nil
}

// drop lets a store that partitions events by month drop the months whose
// every event lies in a pruned prefix and no hold covers.
func (r *Runner) drop(ctx context.Context, rep *Report, now time.Time) error {
	pd, ok := r.cfg.Store.(trail.PartitionDropper)
	if !ok {
		return nil
	}
	ends := map[string]int64{}
	before := now
	for _, tr := range rep.Tenants {
		if tr.PrunedTo > 0 && !tr.OnHold {
			ends[tr.Tenant] = tr.PrunedTo
			if tr.Cutoff.Before(before) {
				before = tr.Cutoff
			}
		}
	}
	if len(ends) == 0 {
		return nil
	}
	dropped, err := pd.DropPrunedPartitions(ctx, before, ends)
	for _, tr := range rep.Tenants {
		tr.Deleted += dropped[tr.Tenant]
	}
	if err != nil {
		return fmt.Errorf("drop partitions: %w", err)
	}
	return nil
}

// deleteAndRecord deletes the unheld events of tr's pruned prefix, in
// short transactions, and records what went.
func (r *Runner) deleteAndRecord(ctx context.Context, tr *TenantReport, by *trail.APIKey) error {
	for from := int64(0); from < tr.PrunedTo && !tr.OnHold; {
		n, next, err := r.cfg.Store.DeleteEvents(ctx, tr.Tenant, from, tr.PrunedTo, r.cfg.Chunk)
		if err != nil {
			return err
		}
		tr.Deleted += n
		from = next
	}
	if err := r.pruneDirectory(ctx, tr); err != nil {
		return err
	}
	if tr.Deleted == 0 && tr.NewlyPruned == nil {
		return nil
	}
	return r.record(ctx, tr, by)
}

// pruneDirectory forgets tr's directory entries last seen before the
// cutoff's day once the pruned prefix has reached the end of the expired
// events: while the ledger holds some back, their actors stay listed.
func (r *Runner) pruneDirectory(ctx context.Context, tr *TenantReport) error {
	if tr.OnHold || tr.PrunedTo < tr.end {
		return nil
	}
	n, err := r.cfg.Store.PruneDirectory(ctx, tr.Tenant, tr.Cutoff)
	tr.DirectoryPruned = n
	if err != nil {
		return fmt.Errorf("prune directory: %w", err)
	}
	return nil
}

// record appends the retention.deleted event of tr to its tenant's log.
func (r *Runner) record(ctx context.Context, tr *TenantReport, by *trail.APIKey) error {
	meta := map[string]any{"days": tr.Days, "cutoff": tr.Cutoff, "deleted": tr.Deleted, "pruned_to": tr.PrunedTo}
	if rng := tr.NewlyPruned; rng != nil {
		meta["pruned_from"] = rng.From
		meta["checkpoint"] = string(rng.Checkpoint)
	}
	if by != nil {
		meta["requested_by"] = by.ID
	}
	actor := trail.Actor{Type: trail.ActorSystem, ID: "retention", Name: "Trail retention"}
	e := trail.NewSystemEvent(trail.AuditLog(tr.Tenant), ActionDeleted, actor, trail.Context{}, r.cfg.Now())
	var err error
	if e.Metadata, err = json.Marshal(meta); err != nil {
		return err
	}
	if err := r.cfg.Writer.Append(ctx, &trail.Batch{Events: []*trail.Event{e}}); err != nil {
		return fmt.Errorf("record deletion: %w", err)
	}
	return nil
}

// pruneLogs deletes execution logs older than the log retention, which is
// apart from the events' retention.
func (r *Runner) pruneLogs(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	before := now.Add(-r.cfg.LogRetention)
	for {
		n, err := r.cfg.Store.PruneLogs(ctx, before, r.cfg.Chunk)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune execution logs: %w", err)
		}
		if n < int64(r.cfg.Chunk) {
			return total, nil
		}
	}
}
