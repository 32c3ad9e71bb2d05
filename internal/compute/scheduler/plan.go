package scheduler

import (
	"kumo/internal/placement"
)

// hostState is a host during one plan: its usage, with the instances this
// request has placed so far added, and its server group members.
type hostState struct {
	host    *Host
	cand    *placement.Candidate // its Used grows with this request's picks
	members int                  // group members on the host, this request's included
	weight  float64
}

// amount is one resource class of the request: a slice of them is
// cheaper to walk, a thousand times per instance, than a map.
type amount struct {
	class string
	n     int64
}

// fitsN reports whether n more instances of resources fit on the host.
func (st *hostState) fitsN(resources []amount, n int64) bool {
	for _, a := range resources {
		r, ok := st.cand.Resource(a.class)
		if !ok || r.Used+a.n*n > r.Capacity {
			return false
		}
	}
	return true
}

// free is what is left of class rc on the host, 0 if it has none.
func (st *hostState) free(rc string) int64 {
	if r, ok := st.cand.Resource(rc); ok {
		return r.Free()
	}
	return 0
}

func (st *hostState) consume(resources []amount) {
	for _, a := range resources {
		if r, ok := st.cand.Resource(a.class); ok {
			r.Used += a.n
		}
	}
	st.members++
}

// planner holds what one plan needs.
type planner struct {
	req       *Request
	resources []amount
	forced    bool
	groupSize int // group members placed so far, this request's included
}

// plan chooses a host for every consumer of req among hosts, on the usage
// that placement reported in cands (cands[i] is hosts[i]'s provider, empty
// when it has no room), as Nova's filter scheduler: for each instance,
// filter (capacity, server group), weigh, pick, and count the pick against
// the host for the next instance. Nothing is claimed here.
func (s *Scheduler) plan(hosts []*Host, cands []placement.Candidate, req Request, resources map[string]int64) ([]Selection, error) {
	p := &planner{req: &req, forced: req.ForceHost != ""}
	for rc, n := range resources {
		p.resources = append(p.resources, amount{rc, n})
	}
	members := map[string]int{}
	if req.Group != nil {
		for _, h := range req.Group.MemberHosts {
			members[h]++
		}
		p.groupSize = len(req.Group.MemberHosts)
	}
	backing := make([]hostState, 0, len(hosts))
	for i, h := range hosts {
		c := &cands[i]
		if c.ProviderUUID == "" {
			continue
		}
		backing = append(backing, hostState{host: h, cand: c, members: members[h.Name]})
	}
	states := make([]*hostState, len(backing))
	for i := range backing {
		states[i] = &backing[i]
	}
	if len(states) == 0 {
		return nil, noValidHost("placement: no host has room for %v", resources)
	}
	ws := s.weighers(&req)
	raw := make([]float64, len(states))
	eligible := make([]*hostState, 0, len(states))
	out := make([]Selection, 0, len(req.ConsumerUUIDs))
	for i, id := range req.ConsumerUUIDs {
		eligible = eligible[:0]
		for _, st := range states {
			if st.fitsN(p.resources, 1) && p.groupPass(st, len(req.ConsumerUUIDs)-i) {
				eligible = append(eligible, st)
			}
		}
		if len(eligible) == 0 {
			if i == 0 {
				return nil, noValidHost("no host has room and passes the server group filters")
			}
			return nil, noValidHost("only %d of %d instances fit", i, len(req.ConsumerUUIDs))
		}
		weigh(eligible, ws, raw)
		best := pick(eligible, s.cfg.HostSubsetSize)
		best.consume(p.resources)
		p.groupSize++
		out = append(out, Selection{ConsumerUUID: id, Host: *best.host})
	}
	return out, nil
}
