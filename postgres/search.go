package postgres

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/trailhq/trail"
)

// Full-text search (docs/storage.md, Full-text search). Each event's
// search tokens (trail.SearchTokens over trail.SearchFields, without
// duplicates) are written at append, in the same row, as a tsvector
// without positions, and a GIN index on every partition finds the events
// that hold a token. Go makes both the tokens and the query's lexemes, so
// no text search configuration of the server is involved. A query's
// Search narrows the events read to those that meet its IndexExpr (the
// words every match must hold), and trail.Search.Match decides each of
// them, so the index only ever narrows.
//
// How a page reads its candidates, without statistics, is in
// searchread.go.

// maxLexeme is the longest token, in bytes, a tsvector holds as it is
// (PostgreSQL refuses lexemes of 2 KiB or more). A longer token is
// indexed by its first maxLexeme bytes: a query (at most
// trail.MaxSearchLen bytes) never names it whole, and its prefixes find
// it. Were a query's word that long, it would be looked up as a prefix of
// its first maxLexeme bytes, which finds every event that holds it.
const maxLexeme = 2000

// lexeme returns token cut to maxLexeme bytes, and whether it was cut.
func lexeme(token string) (string, bool) {
	if len(token) <= maxLexeme {
		return token, false
	}
	n := maxLexeme
	for n > 0 && !utf8.RuneStart(token[n]) {
		n--
	}
	return token[:n], true
}

// SearchVector returns the search column of e: its tokens and the pairs
// of adjacent tokens trail.SearchPairs makes of each of its strings, each
// once, as the store writes them at append (with search_pairs true). It is for bulk loads and restores that
// write events with SQL of their own (a row without it is searched, and
// given its tokens by the backfill).
func SearchVector(e *trail.Event) pgtype.TSVector {
	var toks []string
	for _, f := range trail.SearchFields(e) {
		words := trail.SearchTokens(f.Text)
		for _, t := range append(words, trail.SearchPairs(words)...) {
			t, _ = lexeme(t)
			toks = append(toks, t)
		}
	}
	// In byte order, each once, as the server keeps a tsvector's lexemes.
	slices.Sort(toks)
	toks = slices.Compact(toks)
	lx := make([]pgtype.TSVectorLexeme, len(toks))
	for i, t := range toks {
		lx[i].Word = t
	}
	return pgtype.TSVector{Lexemes: lx, Valid: true}
}

// tsquery returns x as tsquery text, or "" when x is nil (nothing to
// narrow by): a phrase as the AND of its pairs and of its words that are
// in none of them (the column has no positions; Match checks their
// order), its last word a prefix when x's is. Lexemes are quoted, so the
// server takes them as they are.
func tsquery(x *trail.SearchIndexExpr) string {
	if x == nil {
		return ""
	}
	var parts []string
	op := " & "
	switch x.Op {
	case "and", "or":
		if x.Op == "or" {
			op = " | "
		}
		for _, k := range x.Kids {
			parts = append(parts, tsquery(k))
		}
	default:
		paired := map[string]bool{}
		for _, p := range x.Pairs {
			parts = append(parts, tslexeme(p, false))
			a, b, _ := strings.Cut(p, " ")
			paired[a], paired[b] = true, true
		}
		for i, t := range x.Tokens {
			prefix := x.Prefix && i == len(x.Tokens)-1
			if prefix || !paired[t] {
				parts = append(parts, tslexeme(t, prefix))
			}
		}
	}
	return "(" + strings.Join(parts, op) + ")"
}

var tsquote = strings.NewReplacer(`\`, `\\`, `'`, `''`)

// tslexeme returns token as a quoted tsquery lexeme, a prefix when prefix
// is set (or the token was cut, see maxLexeme).
func tslexeme(token string, prefix bool) string {
	word, cut := lexeme(token)
	s := "'" + tsquote.Replace(word) + "'"
	if prefix || cut {
		s += ":*"
	}
	return s
}

// searchCond is the narrowing of a page by tsq, passed as parameter
// param: events that meet it, and events stored before the search column
// whose tokens the backfill has not written yet; when tsq names pairs,
// also events written before migration 26 (search_pairs NULL), which hold
// no pairs.
func searchCond(param, tsq string) string {
	if namesPairs(tsq) {
		return "(e.search @@ " + param + "::tsquery OR e.search_pairs IS NULL)"
	}
	return "(e.search @@ " + param + "::tsquery OR e.search IS NULL)"
}

// namesPairs reports whether tsquery text of tsquery names a pair: a
// quoted lexeme with a space in it (a token holds letters and digits
// only).
func namesPairs(tsq string) bool {
	parts := strings.Split(tsq, "'")
	for i := 1; i < len(parts); i += 2 { // the quoted lexemes
		if strings.Contains(parts[i], " ") {
			return true
		}
	}
	return false
}

// GIN's fast update appends an insert's index entries to the index's
// pending list, which the insert that takes it past
// gin_pending_list_limit (4 MB) merges into the index, holding its
// commit for that long, or autovacuum. So each node merges the pending
// lists itself after every cleanPendingAfter events it appended (about
// 2 MB of entries), off the commit path: inserts then rarely find a full
// list.
const cleanPendingAfter = 2000

// cleanPending merges the pending entries of each partition's search
// index into the index.
func (db *DB) cleanPending(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `SELECT gin_clean_pending_list(i.inhrelid::regclass) FROM pg_inherits AS i
		WHERE i.inhparent = to_regclass('events_search')`)
	return err
}

// searchCols are the search columns of an append's events, made before
// its transaction, so that the stream's lock is not held while Go
// tokenizes, and on every core.
type searchCols struct {
	off  bool // no tokens: NULL (SetSearchIndexing)
	made map[*trail.Event]pgtype.TSVector
}

// makeSearchCols makes the search columns of the events of batches, on
// up to GOMAXPROCS goroutines.
func makeSearchCols(batches []*trail.Batch, off bool) *searchCols {
	c := &searchCols{off: off}
	if off {
		return c
	}
	var evs []*trail.Event
	for _, b := range batches {
		evs = append(evs, b.Events...)
	}
	vecs := make([]pgtype.TSVector, len(evs))
	n := min(runtime.GOMAXPROCS(0), (len(evs)+63)/64)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := w * len(evs) / n; i < (w+1)*len(evs)/n; i++ {
				vecs[i] = SearchVector(evs[i])
			}
		})
	}
	wg.Wait()
	c.made = make(map[*trail.Event]pgtype.TSVector, len(evs))
	for i, e := range evs {
		c.made[e] = vecs[i]
	}
	return c
}

// of returns the search column of e: NULL when search is off, and made
// now for an event that was not made beforehand (or with no searchCols).
func (c *searchCols) of(e *trail.Event) any {
	switch {
	case c == nil:
		return SearchVector(e)
	case c.off:
		return nil
	}
	if v, ok := c.made[e]; ok {
		return v
	}
	return SearchVector(e)
}

// pairs returns the search_pairs column of the events: true when their
// tokens are written (with their pairs), NULL when search is off.
func (c *searchCols) pairs() any {
	if c != nil && c.off {
		return nil
	}
	return true
}

// SetSearchIndexing turns the writing of search tokens at append on (the
// default) or off, for benchmarks that compare ingest with and without
// search. Off, appends leave the tokens out and the backfill does not run:
// every event is then a candidate of every search, which stays exact and
// reads as many events as the page's other filters select. It must be
// called before the store is used.
func (db *DB) SetSearchIndexing(on bool) { db.noSearch = !on }
