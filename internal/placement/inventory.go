package placement

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// SetInventory creates provider uuid named name if it does not exist (or
// renames it), and replaces its inventories with inv, as Placement's PUT
// /resource_providers/{uuid}/inventories. It refuses, with an
// *InventoryInUseError, to remove a class that has allocations. Like
// Placement, it accepts a capacity below the class's usage (a lowered
// allocation ratio, more reserved): refusing it would stop a compute host
// from reporting its inventory at all. Claims then fail until usage fits.
func (s *Store) SetInventory(ctx context.Context, uuid, name string, inv map[string]Inventory) error {
	if n := utf8.RuneCountInString(name); uuid == "" || n == 0 || n > 200 {
		return invalidf("resource provider needs a uuid and a name of 1 to 200 characters")
	}
	clean := make(map[string]Inventory, len(inv))
	for rc, i := range inv {
		i = i.withDefaults()
		if err := validateInventory(rc, i); err != nil {
			return err
		}
		clean[rc] = i
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if other, ok := s.names[name]; ok && other != uuid {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNameConflict, name)
	}
	p := s.providers[uuid]
	created := p == nil
	if created {
		p = &provider{uuid: uuid}
	}
	var inUse []string
	for _, r := range p.res {
		if _, ok := clean[r.class]; !ok && r.used != 0 {
			inUse = append(inUse, r.class)
		}
	}
	if len(inUse) > 0 {
		s.mu.Unlock()
		sort.Strings(inUse)
		return &InventoryInUseError{ProviderUUID: uuid, ResourceClasses: inUse}
	}
	if created {
		s.providers[uuid] = p
	} else if p.name != name {
		delete(s.names, p.name)
	}
	s.names[name] = uuid
	p.name = name
	// Every class in use is in clean (checked above), so the new entries
	// carry every usage over.
	res := make([]resource, 0, len(clean))
	for rc, i := range clean {
		r := resource{class: rc, inv: i, has: true}
		if old := p.get(rc); old != nil {
			r.used = old.used
		}
		res = append(res, r)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].class < res[j].class })
	p.res = res
	p.generation++
	gen, now := p.generation, s.now().UnixMicro()
	done := s.enqueue(func(ctx context.Context, tx *sql.Tx) error {
		if err := s.exec(ctx, tx, qUpsertProvider, uuid, name, gen, now, now); err != nil {
			return err
		}
		if err := s.exec(ctx, tx, qDeleteInventories, uuid); err != nil {
			return err
		}
		for rc, i := range clean {
			if err := s.exec(ctx, tx, qInsertInventory, uuid, rc, i.Total, i.Reserved, i.MinUnit, i.MaxUnit,
				i.StepSize, i.AllocationRatio); err != nil {
				return err
			}
		}
		return nil
	})
	s.mu.Unlock()
	return <-done
}

// validateInventory applies Placement's inventory schema: total ≥ 1,
// reserved ≥ 0 and not above total, units ≥ 1 with min ≤ max, every integer
// at most MAX_INT, ratio > 0 and at most a single-precision float's maximum.
// The upper bounds matter: claims are summed in int64, and a max_unit near
// 2^63 would let two claims wrap around the capacity check.
func validateInventory(rc string, i Inventory) error {
	switch {
	case !ValidResourceClass(rc):
		return invalidf("no such resource class %s", rc)
	case i.Total < 1 || i.Total > MaxUnitDefault:
		return invalidf("%s: total must be between 1 and %d", rc, MaxUnitDefault)
	case i.Reserved < 0 || i.Reserved > i.Total:
		return invalidf("%s: reserved must be between 0 and total", rc)
	case i.MinUnit < 1 || i.MaxUnit < 1 || i.StepSize < 1 || i.MinUnit > i.MaxUnit ||
		i.MaxUnit > MaxUnitDefault || i.StepSize > MaxUnitDefault:
		return invalidf("%s: min_unit, max_unit and step_size must be between 1 and %d, and min_unit at most max_unit",
			rc, MaxUnitDefault)
	case !(i.AllocationRatio > 0 && i.AllocationRatio <= math.MaxFloat32):
		return invalidf("%s: allocation_ratio must be more than 0 and at most %g", rc, math.MaxFloat32)
	}
	return nil
}

// DeleteProvider removes a provider and its inventories. A provider with
// allocations is refused with ErrProviderInUse, as Placement does.
func (s *Store) DeleteProvider(ctx context.Context, uuid string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	p := s.providers[uuid]
	if p == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrProviderNotFound, uuid)
	}
	for _, r := range p.res {
		if r.used > 0 {
			s.mu.Unlock()
			return fmt.Errorf("%w: %s", ErrProviderInUse, uuid)
		}
	}
	delete(s.providers, uuid)
	delete(s.names, p.name)
	done := s.enqueue(func(ctx context.Context, tx *sql.Tx) error {
		if err := s.exec(ctx, tx, qDeleteInventories, uuid); err != nil {
			return err
		}
		return s.exec(ctx, tx, qDeleteProvider, uuid)
	})
	s.mu.Unlock()
	return <-done
}
