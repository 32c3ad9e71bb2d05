package proxy

import (
	"sync"
	"time"
)

// infoCache keeps what the proxy learned from container and account HEADs,
// as Swift's proxy keeps them in memcache (recheck_container_existence and
// recheck_account_existence, 60 s): without it every object PUT and DELETE
// costs a container HEAD and every PUT an account HEAD on top of the
// object writes. This proxy's own container and account writes drop the
// entries they change at once; a change made through another proxy is seen
// within the TTL, as in Swift with per-proxy caches.
//
// Only what does not move with every object write is served from the
// cache: a container or account with a quota is always asked again, since
// its quota check needs the current usage.
type infoCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	entries map[string]cachedInfo
}

type cachedInfo struct {
	ci      containerInfo // for a container; for an account only usage
	expires time.Time
}

const (
	infoCacheTTL = 60 * time.Second
	// infoCacheMax bounds the entries; a full cache starts over.
	infoCacheMax = 10000
)

func containerKey(account, container string) string { return "c/" + account + "/" + container }
func accountKey(account string) string              { return "a/" + account }

// get returns a fresh entry.
func (c *infoCache) get(key string) (containerInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return containerInfo{}, false
	}
	return e.ci, true
}

// generation is read before a HEAD; put stores its answer only if nothing
// was invalidated meanwhile, so a HEAD racing a write never caches the
// state from before the write.
func (c *infoCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *infoCache) put(key string, gen uint64, ci containerInfo) {
	if ci.status/100 != 2 || ci.usage.quotaBytes >= 0 || ci.usage.quotaCnt >= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= infoCacheMax {
		c.entries = map[string]cachedInfo{}
	}
	c.entries[key] = cachedInfo{ci: ci, expires: time.Now().Add(infoCacheTTL)}
}

// invalidate drops key and fails every put of a HEAD begun before it.
func (c *infoCache) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}
