package trail

import "context"

// ExportJSONChunked is ExportJSON with chunks of at most rows events and
// about bytes of JSON, so tests cross many chunk boundaries with few
// events.
func ExportJSONChunked(ctx context.Context, s EventStore, q Query, rows, bytes int, fn func([]byte) error) error {
	return exportJSON(ctx, s, q, chunkSize{rows, bytes}, fn)
}

// IndexHolds reports whether the index lookup x finds the document doc
// (AppendSearchWords), as Match's first check does.
func IndexHolds(x *SearchIndexExpr, doc []byte) bool { return x.holds(doc) }
