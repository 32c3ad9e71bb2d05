package objserver

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Expirer deletes objects whose X-Delete-At has passed. Swift's expirer
// walks a queue through the proxy; here each node tombstones its own
// replicas with the X-Delete-At time as the timestamp, so every replica
// writes the same tombstone and replication has nothing to reconcile. The
// container listing is told through the targets the PUT carried.
//
// Walking every object costs a directory read and a file open per replica,
// seconds of CPU for a few ten thousand objects, so only the first pass and
// then one pass per FullEvery walk them all; the passes in between look at
// the objects written with an X-Delete-At since (Store.noteExpiring) and
// those a full walk found expiring later.
type Expirer struct {
	s *Store
	// FullEvery is the time between full walks (default one hour).
	FullEvery time.Duration
	lastFull  time.Time
}

// NewExpirer expires objects on the store's devices.
func NewExpirer(s *Store) *Expirer { return &Expirer{s: s, FullEvery: time.Hour} }

// ExpirerStats counts one pass.
type ExpirerStats struct {
	Expired  int
	Failures int
}

// RunOnce tombstones every expired object once.
func (e *Expirer) RunOnce(ctx context.Context) (ExpirerStats, error) {
	var st ExpirerStats
	now := e.s.now()
	if e.lastFull.IsZero() || now.Sub(e.lastFull) >= e.FullEvery {
		e.lastFull = now
		err := e.s.walkObjects(ctx, func(dev, part, hash, dir string) {
			if e.expire(dev, part, hash, dir, &st) {
				e.s.noteExpiring(dev, part, hash)
			}
		})
		return st, err
	}
	var err error
	e.s.expiring.Range(func(k, v any) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		ref := v.(expiringRef)
		if !e.expire(ref.dev, ref.part, ref.hash, k.(string), &st) {
			e.s.expiring.Delete(k)
		}
		return true
	})
	return st, err
}

// expire tombstones the object in dir if its X-Delete-At has passed; true
// means it is still to expire later (a future X-Delete-At).
func (e *Expirer) expire(dev, part, hash, dir string, st *ExpirerStats) bool {
	s := e.s
	mu := s.objLock(dir)
	mu.Lock()
	obj, state, err := s.loadObject(dir)
	if err != nil || obj == nil {
		mu.Unlock()
		return false
	}
	at, ok := obj.deleteAt()
	if !ok || !s.expired(obj) {
		mu.Unlock()
		return ok
	}
	ts := TimestampFromUnix(at)
	if newest := state.newest(); ts.Compare(newest) <= 0 {
		// A version written after its own X-Delete-At (a replica of a late
		// write) still needs a newer tombstone.
		ts = Timestamp{ticks: newest.ticks + 1}
	}
	name := obj.meta["name"]
	err = s.writeTombstone(dev, dir, ts, state, nil)
	mu.Unlock()
	if err != nil {
		s.log.Warn("expirer: tombstone", "path", dir, "err", err)
		st.Failures++
		return true // tried again next pass
	}
	st.Expired++
	if err := s.invalidateSuffix(dev, part, suffixOf(hash)); err != nil {
		s.log.Warn("invalidate suffix", "err", err)
	}
	acct, rest, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	cont, objName, _ := strings.Cut(rest, "/")
	o := objReq{dev: dev, part: part, account: acct, container: cont, object: objName, hash: hash}
	s.updateContainers(o, http.MethodDelete, ts, nil, decodeTargets(obj.meta[keyUpdateTargets]))
	return false
}
