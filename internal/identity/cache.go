package identity

import (
	"context"
	"encoding/json"
	"sync"

	"kumo/internal/identity/token"
)

// cache holds derivations that token validation needs on every call. One
// cache is valid for one state of the database: every write replaces it
// (Service.invalidate), so nothing here is ever stale or patched in place.
type cache struct {
	mu       sync.RWMutex
	users    map[string]*User
	projects map[string]*Project
	roles    map[string]*Role    // every role, by id; nil until loaded
	implied  map[string][]string // prior -> implied role ids
	roleSets map[string][]*Role  // "user|scope" -> effective global roles
	catalogs map[string]json.RawMessage
	// tokens holds validated tokens. A token's validity depends on the
	// database (cleared with it), on time (tokenData.validUntil is checked
	// at every hit) and on the fernet keys (keys names the set the entries
	// were opened with; another set clears the cache).
	tokens map[string]*tokenData
	keys   *token.Keys
}

// maxCachedTokens bounds the validated-token cache of one generation.
const maxCachedTokens = 50000

func newCache() *cache {
	return &cache{
		users:    map[string]*User{},
		projects: map[string]*Project{},
		roleSets: map[string][]*Role{},
		catalogs: map[string]json.RawMessage{},
		tokens:   map[string]*tokenData{},
	}
}

func cached[V any](c *cache, m map[string]V, key string) (V, bool) {
	c.mu.RLock()
	v, ok := m[key]
	c.mu.RUnlock()
	return v, ok
}

func remember[V any](c *cache, m map[string]V, key string, v V) {
	c.mu.Lock()
	m[key] = v
	c.mu.Unlock()
}

// user returns a user through the cache.
func (s *Service) user(ctx context.Context, id string) (*User, error) {
	c := s.cache.Load()
	if u, ok := cached(c, c.users, id); ok {
		return u, nil
	}
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	remember(c, c.users, id, u)
	return u, nil
}

// project returns a project or domain through the cache.
func (s *Service) project(ctx context.Context, id string) (*Project, error) {
	c := s.cache.Load()
	if p, ok := cached(c, c.projects, id); ok {
		return p, nil
	}
	p, err := s.store.GetProject(ctx, id)
	if err != nil {
		return nil, err
	}
	remember(c, c.projects, id, p)
	return p, nil
}

// roleTable returns every role and the implication rules, cached.
func (s *Service) roleTable(ctx context.Context) (map[string]*Role, map[string][]string, error) {
	c := s.cache.Load()
	c.mu.RLock()
	roles, implied := c.roles, c.implied
	c.mu.RUnlock()
	if roles != nil {
		return roles, implied, nil
	}
	roles, err := s.store.AllRoles(ctx)
	if err != nil {
		return nil, nil, err
	}
	implied, err = s.store.ImpliedRoleRules(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	c.roles, c.implied = roles, implied
	c.mu.Unlock()
	return roles, implied, nil
}

// cacheFor returns the current cache, replacing it when it was filled
// under another fernet key set (after a rotation dropped a key, tokens
// opened with it must be opened again).
func (s *Service) cacheFor(keys *token.Keys) *cache {
	c := s.cache.Load()
	c.mu.Lock()
	switch c.keys {
	case keys:
	case nil:
		c.keys = keys
	default:
		c.mu.Unlock()
		fresh := newCache()
		fresh.keys = keys
		s.cache.CompareAndSwap(c, fresh)
		return s.cache.Load()
	}
	c.mu.Unlock()
	return c
}
