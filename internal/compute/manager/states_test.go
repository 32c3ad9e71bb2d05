package manager

import (
	"slices"
	"testing"
)

// TestStatusOf checks the API status of (vm_state, task_state) pairs
// against Nova's _STATE_MAP, including the task-specific entries and the
// fall-backs.
func TestStatusOf(t *testing.T) {
	cases := []struct{ vm, task, want string }{
		{VMActive, TaskNone, "ACTIVE"},
		{VMActive, TaskPoweringOff, "ACTIVE"},
		{VMActive, TaskRebooting, "REBOOT"},
		{VMActive, TaskRebootPending, "REBOOT"},
		{VMActive, TaskRebootStarted, "REBOOT"},
		{VMActive, TaskRebootingHard, "HARD_REBOOT"},
		{VMActive, TaskRebootPendingHard, "HARD_REBOOT"},
		{VMActive, TaskRebootStartedHard, "HARD_REBOOT"},
		{VMActive, TaskUpdatingPassword, "PASSWORD"},
		{VMActive, TaskRebuilding, "REBUILD"},
		{VMActive, TaskRebuildSpawning, "REBUILD"},
		{VMActive, TaskMigrating, "MIGRATING"},
		{VMActive, TaskResizePrep, "RESIZE"},
		{VMActive, TaskResizeFinish, "RESIZE"},
		{VMActive, TaskImageUploading, "ACTIVE"},
		{VMBuilding, TaskScheduling, "BUILD"},
		{VMBuilding, TaskSpawning, "BUILD"},
		{VMStopped, TaskNone, "SHUTOFF"},
		{VMStopped, TaskPoweringOn, "SHUTOFF"},
		{VMStopped, TaskResizeMigrating, "RESIZE"},
		{VMStopped, TaskRebuildBlockDeviceMapping, "REBUILD"},
		{VMStopped, TaskRebootingHard, "SHUTOFF"},
		{VMResized, TaskNone, "VERIFY_RESIZE"},
		{VMResized, TaskResizeConfirming, "VERIFY_RESIZE"},
		{VMResized, TaskResizeReverting, "REVERT_RESIZE"},
		{VMPaused, TaskNone, "PAUSED"},
		{VMPaused, TaskMigrating, "MIGRATING"},
		{VMSuspended, TaskResuming, "SUSPENDED"},
		{VMRescued, TaskNone, "RESCUE"},
		{VMRescued, TaskUnrescuing, "RESCUE"},
		{VMError, TaskNone, "ERROR"},
		{VMError, TaskRebuilding, "REBUILD"},
		{VMError, TaskDeleting, "ERROR"},
		{VMDeleted, TaskNone, "DELETED"},
		{VMSoftDeleted, TaskNone, "SOFT_DELETED"},
		{VMShelved, TaskNone, "SHELVED"},
		{VMShelvedOffloaded, TaskNone, "SHELVED_OFFLOADED"},
		{"bogus", TaskNone, "UNKNOWN"},
		{VMActive, dflt, "ACTIVE"},
	}
	for _, c := range cases {
		if got := StatusOf(c.vm, c.task); got != c.want {
			t.Errorf("StatusOf(%q, %q) = %s, want %s", c.vm, c.task, got, c.want)
		}
	}
}

// TestStatesOf checks the inverse used by the `status` list filter, as
// Nova's task_and_vm_state_from_status.
func TestStatesOf(t *testing.T) {
	cases := []struct {
		statuses []string
		vm, task []string
		any      bool
	}{
		{[]string{"ACTIVE"}, []string{VMActive}, nil, true},
		{[]string{"reboot"}, []string{VMActive},
			[]string{TaskRebootPending, TaskRebootStarted, TaskRebooting}, false},
		{[]string{"RESIZE"}, []string{VMActive, VMStopped},
			[]string{TaskResizeFinish, TaskResizeMigrated, TaskResizeMigrating, TaskResizePrep}, false},
		{[]string{"REBUILD"}, []string{VMActive, VMError, VMStopped},
			[]string{TaskRebuildBlockDeviceMapping, TaskRebuildSpawning, TaskRebuilding}, false},
		{[]string{"VERIFY_RESIZE"}, []string{VMResized}, nil, true},
		{[]string{"SHUTOFF", "PAUSED"}, []string{VMPaused, VMStopped}, nil, true},
		{[]string{"NOPE"}, nil, nil, false},
	}
	for _, c := range cases {
		f := StatesOf(c.statuses...)
		if !slices.Equal(f.VMStates, c.vm) || !slices.Equal(f.TaskStates, c.task) || f.AnyTaskState != c.any {
			t.Errorf("StatesOf(%q) = %+v, want vm %q task %q any %t", c.statuses, f, c.vm, c.task, c.any)
		}
	}
	// Every pair StatusOf maps to a status is matched by that status's
	// filter, and by no other status's.
	for vm, tm := range stateMap {
		for task := range tm {
			if task == dflt {
				continue
			}
			status := StatusOf(vm, task)
			if !StatesOf(status).Matches(vm, task) {
				t.Errorf("%s/%s (%s) not matched by its own status filter", vm, task, status)
			}
		}
	}
	if StatesOf("ACTIVE").Matches(VMStopped, TaskNone) || !StatesOf("ACTIVE").Matches(VMActive, TaskRebooting) {
		t.Error("ACTIVE filter: wrong matches (Nova lists rebooting servers under ACTIVE too)")
	}
}
