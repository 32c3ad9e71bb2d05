package placement

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors with fixed meaning. The API maps ErrProviderNotFound and
// ErrConsumerNotFound to 404, ErrConsumerExists, ErrNameConflict and
// ErrProviderInUse to 409,
// ErrInvalid to 400, as Placement does.
var (
	ErrProviderNotFound = errors.New("resource provider not found")
	ErrConsumerNotFound = errors.New("no allocations for consumer")
	ErrConsumerExists   = errors.New("consumer already has allocations")
	ErrNameConflict     = errors.New("resource provider name already in use")
	ErrProviderInUse    = errors.New("resource provider has allocations")
	ErrInvalid          = errors.New("invalid request")
	ErrClosed           = errors.New("placement store closed")
)

// CapacityError says why an allocation does not fit; Placement answers it
// with 409 Conflict. Every kind below is a "does not fit" answer, so a
// scheduler that meets one at claim time tries another host.
type CapacityError struct {
	Kind          CapacityKind
	ProviderUUID  string
	ResourceClass string
	Requested     int64
	Used          int64 // usage of the class before the claim
	Capacity      int64
}

// CapacityKind tells which check failed.
type CapacityKind int

const (
	// Exceeded: used + requested is more than the capacity.
	Exceeded CapacityKind = iota
	// ConstraintsViolated: the amount is outside min_unit..max_unit or not
	// a multiple of step_size.
	ConstraintsViolated
	// NoInventory: the provider has no inventory of the class.
	NoInventory
)

func (e *CapacityError) Error() string {
	switch e.Kind {
	case ConstraintsViolated:
		return fmt.Sprintf("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would violate inventory constraints.", e.ResourceClass, e.ProviderUUID)
	case NoInventory:
		return fmt.Sprintf("Inventory for '%s' on resource provider '%s' invalid.", e.ResourceClass, e.ProviderUUID)
	}
	return fmt.Sprintf("Unable to create allocation for '%s' on resource provider '%s'. The requested amount would exceed the capacity.", e.ResourceClass, e.ProviderUUID)
}

// InventoryInUseError refuses an inventory change that would remove a
// resource class that has allocations (409 InventoryInUse in Placement).
type InventoryInUseError struct {
	ProviderUUID    string
	ResourceClasses []string
}

func (e *InventoryInUseError) Error() string {
	rcs := append([]string(nil), e.ResourceClasses...)
	sort.Strings(rcs)
	return fmt.Sprintf("Inventory for '%s' on resource provider '%s' in use.", strings.Join(rcs, ", "), e.ProviderUUID)
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
