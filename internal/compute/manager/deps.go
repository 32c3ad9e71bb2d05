package manager

import (
	"context"
	"errors"
	"io"
	"time"

	"kumo/internal/compute/virt"
)

// State is the part of an instance record the manager reads and writes.
type State struct {
	UUID         string
	ProjectID    string
	Host         string
	VMState      string
	TaskState    string // TaskNone is Nova's None
	PowerState   virt.PowerState
	LaunchedAt   time.Time // zero: never launched
	TerminatedAt time.Time
}

// FlavorChange tells the store which of the instance's flavors to keep
// after a resize step, as Nova moves instance.flavor, old_flavor and
// new_flavor. The API records new_flavor before it calls Resize.
type FlavorChange int

const (
	FlavorKeep    FlavorChange = iota
	FlavorUseNew               // finish_resize: flavor = new_flavor, old_flavor = the previous one
	FlavorUseOld               // finish_revert_resize: flavor = old_flavor (if set), old/new cleared
	FlavorDropOld              // confirm_resize: old/new cleared
)

// Update is one save of an instance. Fields left at their zero value are
// not changed (TaskState and PowerState are pointers because their zero
// values are real states).
type Update struct {
	VMState    string
	TaskState  *string
	PowerState *virt.PowerState
	Host       string
	// ClearHost sets host and node to null in the same write, as a shelve
	// offload does (Nova sets both to None with the new vm_state).
	ClearHost    bool
	LaunchedAt   time.Time
	TerminatedAt time.Time
	Flavor       FlavorChange
	// Expected is Nova's expected_task_state: when non-nil the update
	// applies only if the current task_state is one of these (TaskNone for
	// None), atomically; otherwise the store returns ErrUnexpectedTaskState
	// and changes nothing. This is what stops two racing actions from both
	// proceeding.
	Expected []string
	// ExpectedVMStates, when non-nil, likewise requires the current
	// vm_state to be one of these, so that a check made before the update
	// still holds when it applies.
	ExpectedVMStates []string
	// Fault, when not nil, is recorded in the same write, so the instance
	// is never seen in ERROR without it.
	Fault *Fault
}

// Fault is an instance fault (os-instance-faults), shown in a server's
// `fault` while it is in ERROR.
type Fault struct {
	Code    int
	Message string
	Details string
	Created time.Time
}

// Event results, as Nova's instance-action events.
const (
	ResultSuccess = "Success"
	ResultError   = "Error"
)

var (
	// ErrNotFound is returned by a Store for an instance it does not hold
	// (or holds as deleted); the manager returns it to its callers too.
	ErrNotFound = errors.New("instance not found")
	// ErrUnexpectedTaskState is returned by Store.Update when Expected or
	// ExpectedVMStates does not match the instance's current state.
	ErrUnexpectedTaskState = errors.New("unexpected task state")
)

// Store persists instance state, faults and instance-action events. The
// compute API service implements it over its own tables.
type Store interface {
	// Instance returns the state of a live (not deleted) instance or
	// ErrNotFound.
	Instance(ctx context.Context, uuid string) (State, error)
	// Instances lists every live instance on host, including ones being
	// built for it, for reconciliation at start-up.
	Instances(ctx context.Context, host string) ([]State, error)
	// Update applies u atomically (see Update.Expected). Setting VMState
	// to VMDeleted makes the instance deleted: Instance then reports
	// ErrNotFound.
	Update(ctx context.Context, uuid string, u Update) error
	AddFault(ctx context.Context, uuid string, f Fault) error
	// StartEvent and FinishEvent record an event (e.g.
	// compute_stop_instance) of the instance action the API created for
	// requestID; result is ResultSuccess or ResultError.
	StartEvent(ctx context.Context, uuid, requestID, event string, at time.Time) error
	FinishEvent(ctx context.Context, uuid, requestID, event string, at time.Time, result, traceback string) error
}

// ImageInfo is an image as compute sees it: the driver's view plus what
// Nova checks against the flavor.
type ImageInfo struct {
	virt.Image
	MinDisk    int // GB
	MinRAM     int // MB
	Properties map[string]string
}

// Images is the image service on behalf of a project. The image service
// (or a Glance client) implements it.
type Images interface {
	// Image returns an image the project may boot, with its data opener.
	Image(ctx context.Context, projectID, imageID string) (ImageInfo, error)
	// UploadSnapshot stores data into an image record the API already
	// created (queued) for a snapshot, and makes it active.
	UploadSnapshot(ctx context.Context, projectID, imageID string, data io.Reader, size int64) error
	// DeleteImage removes a snapshot image whose upload failed, as Nova's
	// delete_image_on_error.
	DeleteImage(ctx context.Context, projectID, imageID string) error
}

// Claims are an instance's resource allocations in placement. The API or
// scheduler makes them; the manager gives them back.
type Claims interface {
	// Release drops every allocation of the instance (delete, failed
	// build). Releasing an instance with none is not an error.
	Release(ctx context.Context, instanceUUID string) error
	// ConfirmResize drops the old flavor's allocation; RevertResize drops
	// the new flavor's and restores the old one.
	ConfirmResize(ctx context.Context, instanceUUID string) error
	RevertResize(ctx context.Context, instanceUUID string) error
}

// ConfigDriveFunc builds an instance's config drive ISO (for example a
// closure over configdrive.Build and the instance's metadata). It is
// called during block_device_mapping, so its failure is a build failure.
type ConfigDriveFunc func(ctx context.Context) ([]byte, error)

// Networks binds and unbinds an instance's ports on this host, as Nova's
// allocate_for_instance / deallocate_for_instance (networking implements
// it; the taps it returns must exist when Allocate returns). Optional.
type Networks interface {
	Allocate(ctx context.Context, instanceUUID string) ([]virt.NIC, error)
	// Deallocate unbinds every port of the instance; an instance with
	// none is not an error.
	Deallocate(ctx context.Context, instanceUUID string) error
}
