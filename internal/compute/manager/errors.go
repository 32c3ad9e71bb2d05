package manager

import (
	"errors"
	"fmt"
)

// ErrClosed is returned for an action asked after Close.
var ErrClosed = errors.New("compute manager is shutting down")

// InvalidStateError is Nova's InstanceInvalidState: the API answers 409
// conflictingRequest with its message.
type InvalidStateError struct {
	Method string // Nova's name of the action: stop, start, reboot, pause, resize...
	UUID   string
	Attr   string // vm_state, task_state or launched_at
	State  string
}

func (e *InvalidStateError) Error() string {
	state := e.State
	if state == "" {
		state = "None"
	}
	return fmt.Sprintf("Cannot '%s' instance %s while it is in %s %s", e.Method, e.UUID, e.Attr, state)
}

// NoValidHostError is Nova's NoValidHost, recorded as the fault of a
// build the scheduler could not place.
type NoValidHostError struct{ Reason string }

func (e *NoValidHostError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "There are not enough hosts available."
	}
	return "No valid host was found. " + reason
}

// FlavorTooSmallError is Nova's FlavorDiskTooSmall / FlavorMemoryTooSmall
// (the API answers 400).
type FlavorTooSmallError struct{ msg string }

func (e *FlavorTooSmallError) Error() string { return e.msg }

// CheckImageFits reports whether a flavor (memory MB, root disk GB) can
// boot img, with Nova's messages; rootGB 0 (boot from volume, or a flavor
// with no disk) skips the disk checks as Nova does.
func CheckImageFits(img ImageInfo, memoryMB, rootGB int) error {
	if img.MinRAM > memoryMB {
		return &FlavorTooSmallError{"Flavor's memory is too small for requested image."}
	}
	if rootGB == 0 {
		return nil
	}
	if img.MinDisk > rootGB {
		return &FlavorTooSmallError{"Flavor's disk is too small for requested image. " +
			fmt.Sprintf("Flavor disk is %d bytes, image is %d bytes.", int64(rootGB)<<30, int64(img.MinDisk)<<30)}
	}
	if img.Size > int64(rootGB)<<30 {
		return &FlavorTooSmallError{"Flavor's disk is too small for requested image. " +
			fmt.Sprintf("Flavor disk is %d bytes, image is %d bytes.", int64(rootGB)<<30, img.Size)}
	}
	return nil
}
