package containerserver

import (
	"container/list"
	"sync"

	"kumo/internal/platform/db"
)

// handleCache keeps a bounded set of open database handles, least recently
// used first out. A handle in use is never closed under its user: eviction
// skips handles with references and the cache may briefly exceed its bound.
type handleCache struct {
	mu    sync.Mutex
	max   int
	lru   *list.List // of *cached, front = most recent
	byKey map[string]*list.Element
}

type cached struct {
	path  string
	db    *db.DB
	stmts *stmtCache
	refs  int
	// init guards first open, so concurrent first users open the file once.
	init sync.Once
	err  error
}

func newHandleCache(max int) *handleCache {
	if max < 1 {
		max = 1
	}
	return &handleCache{max: max, lru: list.New(), byKey: map[string]*list.Element{}}
}

// statements returns the statement cache of path's open handle, which the
// caller holds (nil if none is open).
func (c *handleCache) statements(path string) *stmtCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[path]; ok {
		return el.Value.(*cached).stmts
	}
	return nil
}

// acquire returns an open handle for path (opening it with open on first
// use) and a release function that must be called when done.
func (c *handleCache) acquire(path string, open func(string) (*db.DB, error)) (*db.DB, func(), error) {
	c.mu.Lock()
	el, ok := c.byKey[path]
	if ok {
		c.lru.MoveToFront(el)
	} else {
		el = c.lru.PushFront(&cached{path: path})
		c.byKey[path] = el
	}
	e := el.Value.(*cached)
	e.refs++
	c.mu.Unlock()

	e.init.Do(func() {
		if e.db, e.err = open(path); e.err == nil {
			e.stmts = newStmtCache(e.db.W)
		}
	})
	release := func() {
		c.mu.Lock()
		e.refs--
		c.evictLocked()
		c.mu.Unlock()
	}
	if e.err != nil {
		c.mu.Lock()
		e.refs--
		// Forget failed opens so a later call retries.
		if cur, ok := c.byKey[path]; ok && cur == el && e.refs == 0 {
			c.lru.Remove(el)
			delete(c.byKey, path)
		}
		c.mu.Unlock()
		return nil, nil, e.err
	}
	return e.db, release, nil
}

func (c *handleCache) evictLocked() {
	for el := c.lru.Back(); el != nil && c.lru.Len() > c.max; {
		prev := el.Prev()
		e := el.Value.(*cached)
		if e.refs == 0 {
			c.lru.Remove(el)
			delete(c.byKey, e.path)
			if e.db != nil {
				_ = e.db.Close()
			}
		}
		el = prev
	}
}

// closeAll closes every idle handle; used at shutdown.
func (c *handleCache) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cached)
		if e.refs == 0 {
			c.lru.Remove(el)
			delete(c.byKey, e.path)
			if e.db != nil {
				_ = e.db.Close()
			}
		}
		el = next
	}
}

// len is the number of handles held; tests use it to check the bound.
func (c *handleCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
