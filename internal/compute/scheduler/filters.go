package scheduler

// hostFilter is one of Nova's filters that looks only at a host and the
// request, so it runs once per request, before placement is asked.
type hostFilter struct {
	name string
	// applies says whether the request asks anything of this filter; a
	// filter that would pass every host is skipped.
	applies func(req *Request) bool
	pass    func(s *Scheduler, h *Host, req *Request) bool
}

func always(*Request) bool { return true }

// hostFilters are Nova's default filters that do not depend on usage, in
// Nova's order. Capacity (placement) and the server group filters depend on
// the instances placed so far and run per instance in plan.
var hostFilters = []hostFilter{
	{"ComputeFilter", always, func(_ *Scheduler, h *Host, _ *Request) bool { return h.Enabled }},
	{"AvailabilityZoneFilter", func(req *Request) bool { return req.AvailabilityZone != "" }, func(s *Scheduler, h *Host, req *Request) bool {
		return req.AvailabilityZone == "" || req.AvailabilityZone == s.zoneOf(h)
	}},
	{"ImagePropertiesFilter", func(req *Request) bool { return len(req.ImageProperties) > 0 }, func(_ *Scheduler, h *Host, req *Request) bool {
		return imageSupported(h, req.ImageProperties)
	}},
	// Placement matches required and forbidden traits in Nova; here the
	// host's traits come with the host.
	{"TraitsFilter", func(req *Request) bool { return len(req.Traits) > 0 }, func(_ *Scheduler, h *Host, req *Request) bool {
		for t, want := range req.Traits {
			if h.Traits[t] != (want == "required") {
				return false
			}
		}
		return true
	}},
}

func (s *Scheduler) zoneOf(h *Host) string {
	if h.AvailabilityZone == "" {
		return s.cfg.DefaultAvailabilityZone
	}
	return h.AvailabilityZone
}

// filterHosts drops ignored hosts and hosts without a resource provider,
// then keeps the forced host alone (unfiltered, as Nova) or the hosts that
// pass every host filter.
func (s *Scheduler) filterHosts(hosts []Host, req Request) ([]*Host, error) {
	ignore := make(map[string]bool, len(req.IgnoreHosts))
	for _, h := range req.IgnoreHosts {
		ignore[h] = true
	}
	out := make([]*Host, 0, len(hosts))
	for i := range hosts {
		h := &hosts[i]
		if ignore[h.Name] || h.ProviderUUID == "" {
			continue
		}
		if req.ForceHost != "" && h.Name != req.ForceHost {
			continue
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		if req.ForceHost != "" {
			return nil, noValidHost("forced host %s is not available", req.ForceHost)
		}
		return nil, noValidHost("no compute hosts")
	}
	if req.ForceHost != "" {
		return out, nil
	}
	for _, f := range hostFilters {
		if !f.applies(&req) {
			continue
		}
		kept := out[:0]
		for _, h := range out {
			if f.pass(s, h, &req) {
				kept = append(kept, h)
			}
		}
		if len(kept) == 0 {
			return nil, noValidHost("filter %s returned 0 hosts", f.name)
		}
		out = kept
	}
	return out, nil
}

// groupPass is ServerGroupAffinityFilter and ServerGroupAntiAffinityFilter
// for one instance: st.members counts the group's members on the host,
// those of earlier instances of this request included. remaining is how
// many instances of the request are still to place, this one included.
func (p *planner) groupPass(st *hostState, remaining int) bool {
	g := p.req.Group
	if g == nil || p.forced {
		return true
	}
	switch g.Policy {
	case "affinity":
		if p.groupSize > 0 {
			return st.members > 0
		}
		// The first member chooses the host for all: only a host where
		// every instance of the request fits will do.
		return st.fitsN(p.resources, int64(remaining))
	case "anti-affinity":
		max := g.MaxServerPerHost
		if max < 1 {
			max = 1
		}
		return st.members < max
	}
	return true
}
