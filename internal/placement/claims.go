package placement

import (
	"context"
	"database/sql"
	"fmt"
)

// Claim allocates resources (class → amount) on provider to consumer, an
// instance that has no allocations yet, owned by project and user. It
// checks capacity, min_unit, max_unit and step_size against the provider's
// inventories and returns a *CapacityError when the claim does not fit;
// nothing is allocated then. It returns once the allocation is durable.
func (s *Store) Claim(ctx context.Context, consumer, project, user, provider string, resources map[string]int64) error {
	return s.ClaimAll(ctx, []Claim{{ConsumerUUID: consumer, ProjectID: project, UserID: user,
		Allocations: map[string]map[string]int64{provider: resources}}})
}

// ClaimAll makes every claim or none: the claims are checked together, so
// two claims on one provider must fit side by side. Each consumer must be
// new (ErrConsumerExists otherwise). A multi-instance request is claimed
// with one call, and so with one transaction. Once checked, a claim is
// committed even if ctx ends while it waits for its transaction, so its
// outcome is never unknown to the caller.
func (s *Store) ClaimAll(ctx context.Context, claims []Claim) error {
	changes := make([]change, 0, len(claims))
	for _, c := range claims {
		if c.ProjectID == "" || c.UserID == "" {
			return invalidf("consumer %s: project and user are required", c.ConsumerUUID)
		}
		changes = append(changes, change{consumer: c.ConsumerUUID, project: c.ProjectID, user: c.UserID,
			allocs: c.Allocations, mode: modeNew})
	}
	return s.apply(ctx, changes)
}

// Replace swaps all of consumer's allocations for resources on provider in
// one step, as a resize does: the consumer's current allocation counts as
// free while the new one is checked, and on any error the old allocation
// stays as it was.
func (s *Store) Replace(ctx context.Context, consumer, provider string, resources map[string]int64) error {
	return s.ReplaceAllocations(ctx, consumer, map[string]map[string]int64{provider: resources})
}

// ReplaceAllocations is Replace for allocations on several providers
// (provider uuid → class → amount).
func (s *Store) ReplaceAllocations(ctx context.Context, consumer string, allocs map[string]map[string]int64) error {
	return s.apply(ctx, []change{{consumer: consumer, allocs: allocs, mode: modeReplace}})
}

// Release removes every allocation of consumer. It returns
// ErrConsumerNotFound when there is none, as Placement's 404; cleanup code
// that may run twice can ignore that error.
func (s *Store) Release(ctx context.Context, consumer string) error {
	return s.apply(ctx, []change{{consumer: consumer, mode: modeRelease}})
}

// SetAllocations sets the allocations of several consumers in one atomic
// step, as Placement's POST /allocations: each consumer's allocations
// become exactly claim.Allocations, and an empty one removes them. Nova
// uses it to move an instance's allocation to its migration during a
// resize and back on revert. ProjectID and UserID are needed for a new
// consumer; an existing one keeps its own when they are empty.
func (s *Store) SetAllocations(ctx context.Context, claims []Claim) error {
	changes := make([]change, 0, len(claims))
	for _, c := range claims {
		changes = append(changes, change{consumer: c.ConsumerUUID, project: c.ProjectID, user: c.UserID,
			allocs: c.Allocations, mode: modeSet})
	}
	return s.apply(ctx, changes)
}

type changeMode int

const (
	modeNew changeMode = iota
	modeReplace
	modeRelease
	modeSet // new or existing consumer; no allocations means release
)

// change is one consumer's new allocations (none for a release).
type change struct {
	consumer, project, user string
	allocs                  map[string]map[string]int64
	mode                    changeMode
}

// apply checks changes against the in-memory view, applies them all or
// none, and waits for their commit.
func (s *Store) apply(ctx context.Context, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.consumer == "" {
			return invalidf("consumer uuid is required")
		}
		if seen[c.consumer] {
			return invalidf("consumer %s appears twice", c.consumer)
		}
		seen[c.consumer] = true
		if c.mode == modeRelease || (c.mode == modeSet && len(c.allocs) == 0) {
			continue
		}
		if len(c.allocs) == 0 {
			return invalidf("consumer %s: no allocations", c.consumer)
		}
		for puuid, res := range c.allocs {
			if len(res) == 0 {
				return invalidf("consumer %s: no resources on provider %s", c.consumer, puuid)
			}
			for rc, n := range res {
				if !ValidResourceClass(rc) {
					return invalidf("no such resource class %s", rc)
				}
				if n < 1 {
					return invalidf("consumer %s: %s amount must be at least 1", c.consumer, rc)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if err := s.check(changes); err != nil {
		s.mu.Unlock()
		return err
	}
	execs := make([]func(context.Context, *sql.Tx) error, 0, len(changes))
	for i := range changes {
		execs = append(execs, s.applyChange(&changes[i]))
	}
	done := s.enqueue(func(ctx context.Context, tx *sql.Tx) error {
		for _, exec := range execs {
			if err := exec(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	s.mu.Unlock()
	return <-done
}

// check decides whether changes fit together. The caller holds s.mu.
func (s *Store) check(changes []change) error {
	// delta is the net change of usage per provider and class.
	delta := map[*provider]map[string]int64{}
	add := func(p *provider, rc string, n int64) {
		if delta[p] == nil {
			delta[p] = map[string]int64{}
		}
		delta[p][rc] += n
	}
	for i := range changes {
		c := &changes[i]
		old := s.consumers[c.consumer]
		switch {
		case c.mode == modeNew && old != nil:
			return fmt.Errorf("%w: %s", ErrConsumerExists, c.consumer)
		case (c.mode == modeReplace || c.mode == modeRelease) && old == nil:
			return fmt.Errorf("%w: %s", ErrConsumerNotFound, c.consumer)
		case c.mode == modeSet && old == nil && len(c.allocs) > 0 && (c.project == "" || c.user == ""):
			return invalidf("consumer %s: project and user are required", c.consumer)
		}
		if old != nil {
			for puuid, res := range old.allocs {
				for rc, n := range res {
					add(s.providers[puuid], rc, -n)
				}
			}
		}
		for puuid, res := range c.allocs {
			p := s.providers[puuid]
			if p == nil {
				return fmt.Errorf("%w: %s", ErrProviderNotFound, puuid)
			}
			for rc, n := range res {
				r := p.get(rc)
				if r == nil || !r.has {
					return &CapacityError{Kind: NoInventory, ProviderUUID: puuid, ResourceClass: rc, Requested: n}
				}
				if inv := r.inv; n < inv.MinUnit || n > inv.MaxUnit || n%inv.StepSize != 0 {
					return &CapacityError{Kind: ConstraintsViolated, ProviderUUID: puuid, ResourceClass: rc,
						Requested: n, Used: r.used, Capacity: inv.Capacity()}
				}
				add(p, rc, n)
			}
		}
	}
	for p, res := range delta {
		for rc, d := range res {
			// A shrinking usage always fits, even on an inventory whose
			// ratio was lowered since.
			if d <= 0 {
				continue
			}
			if r := p.get(rc); r == nil || !r.has || !r.inv.fits(r.used, d) {
				e := &CapacityError{Kind: Exceeded, ProviderUUID: p.uuid, ResourceClass: rc, Requested: d}
				if r != nil {
					e.Used, e.Capacity = r.used, r.inv.Capacity()
				}
				return e
			}
		}
	}
	return nil
}

// applyChange changes the in-memory view and returns the SQL that makes
// the same change durable. The caller holds s.mu and has checked c.
func (s *Store) applyChange(c *change) func(context.Context, *sql.Tx) error {
	touched := map[*provider]bool{}
	old := s.consumers[c.consumer]
	if old != nil {
		for puuid, res := range old.allocs {
			p := s.providers[puuid]
			for rc, n := range res {
				p.ensure(rc).used -= n
			}
			touched[p] = true
		}
	}
	var cons *consumer
	if c.mode == modeRelease || len(c.allocs) == 0 {
		delete(s.consumers, c.consumer)
	} else {
		cons = &consumer{project: c.project, user: c.user, generation: 1,
			allocs: make(map[string]map[string]int64, len(c.allocs))}
		if old != nil {
			cons.generation = old.generation + 1
			if cons.project == "" || cons.user == "" {
				cons.project, cons.user = old.project, old.user
			}
		}
		for puuid, res := range c.allocs {
			p := s.providers[puuid]
			own := make(map[string]int64, len(res))
			for rc, n := range res {
				p.ensure(rc).used += n
				own[rc] = n
			}
			cons.allocs[puuid] = own
			touched[p] = true
		}
		s.consumers[c.consumer] = cons
	}
	type gen struct {
		uuid string
		gen  int64
	}
	gens := make([]gen, 0, len(touched))
	for p := range touched {
		p.generation++
		gens = append(gens, gen{p.uuid, p.generation})
	}
	id, now := c.consumer, s.now().UnixMicro()
	return func(ctx context.Context, tx *sql.Tx) error {
		// A new consumer has no rows to delete: memory, which the database
		// follows, says so.
		if old != nil {
			if err := s.exec(ctx, tx, qDeleteAllocations, id); err != nil {
				return err
			}
		}
		if cons == nil {
			if err := s.exec(ctx, tx, qDeleteConsumer, id); err != nil {
				return err
			}
		} else {
			if err := s.exec(ctx, tx, qUpsertConsumer, id, cons.project, cons.user, cons.generation); err != nil {
				return err
			}
			for puuid, res := range cons.allocs {
				for rc, n := range res {
					if err := s.exec(ctx, tx, qInsertAllocation, id, puuid, rc, n); err != nil {
						return err
					}
				}
			}
		}
		for _, g := range gens {
			if err := s.exec(ctx, tx, qProviderGeneration, g.gen, now, g.uuid); err != nil {
				return err
			}
		}
		return nil
	}
}
