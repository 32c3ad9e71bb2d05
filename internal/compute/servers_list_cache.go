package compute

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/db"
)

// A detail page's rows cost the SQLite driver per value read (32 columns
// a server) and their decoding; a list reads the same servers again and
// again. So the page query reads (id, row_version) only, and the servers'
// decoded rows, metadata, tags and faults come from a cache keyed by id
// and row_version; the misses are read by id. Migration 0600's triggers
// bump row_version on every write to the row, its metadata, tags or
// faults, whatever code writes, so a cached entry older than the page's
// version is never used: a list shows what it would read from the
// database, or something newer.

// pageRow is one server of a detail page: its row (listColumns) and what
// the view shows beside it, as of in.Version or later.
type pageRow struct {
	in    *Instance
	meta  map[string]string
	tags  []string                     // sorted
	fault *manager.Fault               // the latest, when the status shows one
	view  atomic.Pointer[renderedView] // the last detail view written
	brief atomic.Pointer[briefView]    // the last index view written
}

// maxCachedRows bounds a database's cache (2 to 3 KiB an entry with its
// rendered views, so some 50 MiB at most): past it, an eighth of the
// entries go, in map order (which is random).
const maxCachedRows = 20000

// listRowCache is one database's cached rows by instance id. Entries are
// shared by every request and never changed: a newer version replaces
// the entry.
type listRowCache struct {
	mu sync.RWMutex
	m  map[int64]*pageRow
}

var rowCaches = struct {
	sync.Mutex
	m map[*db.DB]*listRowCache
}{m: map[*db.DB]*listRowCache{}}

func (st instanceStore) listCache() *listRowCache {
	rowCaches.Lock()
	defer rowCaches.Unlock()
	c := rowCaches.m[st.db]
	if c == nil {
		c = &listRowCache{m: map[int64]*pageRow{}}
		rowCaches.m[st.db] = c
	}
	return c
}

// pageRows returns the rows of ids at versions vers (the page query's)
// or newer, in ids' order, and how many had to be read. An id the reads
// no longer find (never: instances are only marked deleted) is left out.
func (st instanceStore) pageRows(ctx context.Context, ids, vers []int64) ([]*pageRow, int, error) {
	c := st.listCache()
	out := make([]*pageRow, len(ids))
	var miss []int64
	c.mu.RLock()
	for i, id := range ids {
		if r := c.m[id]; r != nil && r.in.Version >= vers[i] {
			out[i] = r
		} else {
			miss = append(miss, id)
		}
	}
	c.mu.RUnlock()
	if len(miss) == 0 {
		return out, 0, nil
	}
	loaded, err := st.loadRows(ctx, miss)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	if len(c.m)+len(loaded) > maxCachedRows {
		drop := len(c.m) - maxCachedRows*7/8 + len(loaded)
		for id := range c.m {
			if drop <= 0 {
				break
			}
			delete(c.m, id)
			drop--
		}
	}
	for id, r := range loaded {
		if old := c.m[id]; old == nil || old.in.Version < r.in.Version {
			c.m[id] = r
		}
	}
	c.mu.Unlock()
	n := 0
	for i, id := range ids {
		if out[i] == nil {
			out[i] = loaded[id]
		}
		if out[i] != nil {
			out[n] = out[i]
			n++
		}
	}
	return out[:n], len(loaded), nil
}

// loadRows reads the rows of ids with their metadata, tags and latest
// faults. The row is read first: what is read after it is as new or
// newer, and any later write bumps the version past the row's.
func (st instanceStore) loadRows(ctx context.Context, ids []int64) (map[int64]*pageRow, error) {
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	ins, err := st.scanPage(ctx, `SELECT `+listColumns+` FROM instances WHERE id IN (SELECT value FROM json_each(?))`,
		[]any{string(arg)}, len(ids))
	if err != nil {
		return nil, err
	}
	pre, err := st.loadPage(ctx, ins, true)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*pageRow, len(ins))
	for _, in := range ins {
		r := &pageRow{in: in, meta: pre.metaOf[in.UUID], tags: pre.tagsOf[in.UUID]}
		if s := pageStatus(in); s == "ERROR" || s == "DELETED" {
			r.fault = pre.faultsOf[in.UUID]
		}
		out[in.ID] = r
	}
	return out, nil
}
