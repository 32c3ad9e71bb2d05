package placement

import (
	"context"
	"fmt"
	"sort"
)

// Views read the in-memory state, which includes changes whose commit is
// under way: a claim is visible to others from the moment it is decided,
// so nobody can allocate the same capacity twice.

// Providers returns every resource provider with its inventories and
// usages, sorted by name.
func (s *Store) Providers(ctx context.Context) ([]Provider, error) {
	s.mu.Lock()
	out := make([]Provider, 0, len(s.providers))
	for _, p := range s.providers {
		out = append(out, p.export())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Provider returns one resource provider.
func (s *Store) Provider(ctx context.Context, uuid string) (Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.providers[uuid]
	if p == nil {
		return Provider{}, fmt.Errorf("%w: %s", ErrProviderNotFound, uuid)
	}
	return p.export(), nil
}

func (p *provider) export() Provider {
	out := Provider{UUID: p.uuid, Name: p.name, Generation: p.generation,
		Inventories: make(map[string]Inventory, len(p.res)), Usages: make(map[string]int64, len(p.res))}
	for _, r := range p.res {
		if r.has {
			out.Inventories[r.class] = r.inv
		}
		if r.has || r.used != 0 {
			out.Usages[r.class] = r.used
		}
	}
	return out
}

// Usages returns the usage of each resource class of provider, as
// Placement's GET /resource_providers/{uuid}/usages.
func (s *Store) Usages(ctx context.Context, provider string) (map[string]int64, error) {
	p, err := s.Provider(ctx, provider)
	if err != nil {
		return nil, err
	}
	return p.Usages, nil
}

// ProjectUsages sums the allocations of project's consumers, only those of
// user when user is not empty, as Placement's GET /usages.
func (s *Store) ProjectUsages(ctx context.Context, project, user string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for _, c := range s.consumers {
		if c.project != project || (user != "" && c.user != user) {
			continue
		}
		for _, res := range c.allocs {
			for rc, n := range res {
				out[rc] += n
			}
		}
	}
	return out, nil
}

// Allocations returns consumer's allocations, ErrConsumerNotFound when it
// has none.
func (s *Store) Allocations(ctx context.Context, consumer string) (Consumer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.consumers[consumer]
	if c == nil {
		return Consumer{}, fmt.Errorf("%w: %s", ErrConsumerNotFound, consumer)
	}
	out := Consumer{UUID: consumer, ProjectID: c.project, UserID: c.user, Generation: c.generation}
	for puuid, res := range c.allocs {
		a := Allocation{ProviderUUID: puuid, Resources: make(map[string]int64, len(res))}
		for rc, n := range res {
			a.Resources[rc] = n
		}
		out.Allocations = append(out.Allocations, a)
	}
	sort.Slice(out.Allocations, func(i, j int) bool { return out.Allocations[i].ProviderUUID < out.Allocations[j].ProviderUUID })
	return out, nil
}

// AllocationCandidates returns the providers on which resources (class →
// amount, amounts of 0 ignored) would fit now, with a summary of all their
// classes, as Placement's GET /allocation_candidates for a single provider
// per candidate. The answer is advice: only a claim reserves capacity.
func (s *Store) AllocationCandidates(ctx context.Context, resources map[string]int64) ([]Candidate, error) {
	wants, err := wanted(resources)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := newCandidateBuilder(len(s.providers))
	for _, p := range s.providers {
		if p.holds(wants) {
			b.add(p)
		}
	}
	return b.out, nil
}

// CandidatesAmong is AllocationCandidates limited to the given providers,
// for a scheduler that has already filtered its hosts: the answer has one
// entry per uuid, in the same order, and the entry of a provider that is
// unknown or cannot hold resources has an empty ProviderUUID. Answering by
// position spares the caller a map from uuid to candidate.
func (s *Store) CandidatesAmong(ctx context.Context, resources map[string]int64, providers []string) ([]Candidate, error) {
	wants, err := wanted(resources)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := newCandidateBuilder(len(providers))
	for _, uuid := range providers {
		if p := s.providers[uuid]; p != nil && p.holds(wants) {
			b.add(p)
		} else {
			b.out = append(b.out, Candidate{})
		}
	}
	return b.out, nil
}

// want is one resource class of a candidate request.
type want struct {
	class string
	n     int64
}

func wanted(resources map[string]int64) ([]want, error) {
	wants := make([]want, 0, len(resources))
	for rc, n := range resources {
		if !ValidResourceClass(rc) || n < 0 {
			return nil, invalidf("bad resource request %s=%d", rc, n)
		}
		if n > 0 {
			wants = append(wants, want{rc, n})
		}
	}
	return wants, nil
}

// holds reports whether one more of wants fits on p. The caller holds s.mu.
func (p *provider) holds(wants []want) bool {
	for _, w := range wants {
		r := p.get(w.class)
		if r == nil || !r.has {
			return false
		}
		if inv := r.inv; w.n < inv.MinUnit || w.n > inv.MaxUnit || w.n%inv.StepSize != 0 || !inv.fits(r.used, w.n) {
			return false
		}
	}
	return true
}

// candidateBuilder collects candidates with one backing array for all
// their summaries: a scheduler asks for a thousand per request, and the
// garbage of a thousand small slices would cost more than the work.
type candidateBuilder struct {
	out       []Candidate
	summaries []ResourceSummary
}

func newCandidateBuilder(n int) *candidateBuilder {
	// Three classes (VCPU, MEMORY_MB, DISK_GB) per provider is the common
	// case; more just grows the array.
	return &candidateBuilder{out: make([]Candidate, 0, n), summaries: make([]ResourceSummary, 0, 3*n)}
}

func (b *candidateBuilder) add(p *provider) {
	start := len(b.summaries)
	for _, r := range p.res {
		if r.has {
			b.summaries = append(b.summaries, ResourceSummary{Class: r.class, Capacity: r.inv.Capacity(), Used: r.used})
		}
	}
	b.out = append(b.out, Candidate{ProviderUUID: p.uuid, Generation: p.generation,
		Resources: b.summaries[start:len(b.summaries):len(b.summaries)]})
}
