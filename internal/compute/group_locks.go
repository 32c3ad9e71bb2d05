package compute

import "sync"

// groupLocks serialises scheduling per server group: reading the members'
// hosts, scheduling and recording the chosen hosts is one critical
// section, so two concurrent boots into an (anti-)affinity group cannot
// both decide on a stale view of the group. Entries live only while held.
type groupLocks struct {
	mu sync.Mutex
	m  map[string]*groupLock
}

type groupLock struct {
	sync.Mutex
	refs int
}

// lock takes the group's lock and returns its release.
func (g *groupLocks) lock(group string) func() {
	g.mu.Lock()
	if g.m == nil {
		g.m = map[string]*groupLock{}
	}
	l := g.m[group]
	if l == nil {
		l = &groupLock{}
		g.m[group] = l
	}
	l.refs++
	g.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		g.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(g.m, group)
		}
		g.mu.Unlock()
	}
}
