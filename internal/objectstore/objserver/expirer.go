package objserver

import (
	"context"
	"net/http"
	"strings"
)

// Expirer deletes objects whose X-Delete-At has passed. Swift's expirer
// walks a queue through the proxy; here each node tombstones its own
// replicas with the X-Delete-At time as the timestamp, so every replica
// writes the same tombstone and replication has nothing to reconcile. The
// container listing is told through the targets the PUT carried.
type Expirer struct {
	s *Store
}

// NewExpirer expires objects on the store's devices.
func NewExpirer(s *Store) *Expirer { return &Expirer{s: s} }

// ExpirerStats counts one pass.
type ExpirerStats struct {
	Expired  int
	Failures int
}

// RunOnce tombstones every expired object once.
func (e *Expirer) RunOnce(ctx context.Context) (ExpirerStats, error) {
	var st ExpirerStats
	err := e.s.walkObjects(ctx, func(dev, part, hash, dir string) {
		e.expire(dev, part, hash, dir, &st)
	})
	return st, err
}

func (e *Expirer) expire(dev, part, hash, dir string, st *ExpirerStats) {
	s := e.s
	mu := s.objLock(hash)
	mu.Lock()
	obj, state, err := s.loadObject(dir)
	if err != nil || obj == nil || !s.expired(obj) {
		mu.Unlock()
		return
	}
	at, _ := obj.deleteAt()
	ts := TimestampFromUnix(at)
	if newest := state.newest(); ts.Compare(newest) <= 0 {
		// A version written after its own X-Delete-At (a replica of a late
		// write) still needs a newer tombstone.
		ts = Timestamp{ticks: newest.ticks + 1}
	}
	name := obj.meta["name"]
	err = s.writeMetaFile(dev, part, hash, ts.Internal()+extTomb, Metadata{"name": name, "X-Timestamp": ts.Internal()})
	mu.Unlock()
	if err != nil {
		s.log.Warn("expirer: tombstone", "path", dir, "err", err)
		st.Failures++
		return
	}
	st.Expired++
	if err := s.invalidateSuffix(dev, part, suffixOf(hash)); err != nil {
		s.log.Warn("invalidate suffix", "err", err)
	}
	acct, rest, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	cont, objName, _ := strings.Cut(rest, "/")
	o := objReq{dev: dev, part: part, account: acct, container: cont, object: objName, hash: hash}
	s.updateContainers(o, http.MethodDelete, ts, nil, decodeTargets(obj.meta[keyUpdateTargets]))
}
