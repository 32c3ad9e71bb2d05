package manager

import (
	"slices"
	"strings"
)

// Nova's vm_states (nova/compute/vm_states.py): what an instance is when
// no task runs on it.
const (
	VMActive           = "active"
	VMBuilding         = "building"
	VMPaused           = "paused"
	VMSuspended        = "suspended"
	VMStopped          = "stopped"
	VMRescued          = "rescued"
	VMResized          = "resized"
	VMSoftDeleted      = "soft-delete"
	VMDeleted          = "deleted"
	VMError            = "error"
	VMShelved          = "shelved"
	VMShelvedOffloaded = "shelved_offloaded"
)

// Nova's task_states (nova/compute/task_states.py): what is happening to an
// instance right now. TaskNone ("") is Nova's None.
const (
	TaskNone                      = ""
	TaskScheduling                = "scheduling"
	TaskBlockDeviceMapping        = "block_device_mapping"
	TaskNetworking                = "networking"
	TaskSpawning                  = "spawning"
	TaskImageSnapshot             = "image_snapshot"
	TaskImageSnapshotPending      = "image_snapshot_pending"
	TaskImagePendingUpload        = "image_pending_upload"
	TaskImageUploading            = "image_uploading"
	TaskImageBackup               = "image_backup"
	TaskUpdatingPassword          = "updating_password"
	TaskResizePrep                = "resize_prep"
	TaskResizeMigrating           = "resize_migrating"
	TaskResizeMigrated            = "resize_migrated"
	TaskResizeFinish              = "resize_finish"
	TaskResizeReverting           = "resize_reverting"
	TaskResizeConfirming          = "resize_confirming"
	TaskRebooting                 = "rebooting"
	TaskRebootPending             = "reboot_pending"
	TaskRebootStarted             = "reboot_started"
	TaskRebootingHard             = "rebooting_hard"
	TaskRebootPendingHard         = "reboot_pending_hard"
	TaskRebootStartedHard         = "reboot_started_hard"
	TaskPausing                   = "pausing"
	TaskUnpausing                 = "unpausing"
	TaskSuspending                = "suspending"
	TaskResuming                  = "resuming"
	TaskPoweringOff               = "powering-off"
	TaskPoweringOn                = "powering-on"
	TaskRescuing                  = "rescuing"
	TaskUnrescuing                = "unrescuing"
	TaskRebuilding                = "rebuilding"
	TaskRebuildBlockDeviceMapping = "rebuild_block_device_mapping"
	TaskRebuildSpawning           = "rebuild_spawning"
	TaskMigrating                 = "migrating"
	TaskDeleting                  = "deleting"
	TaskSoftDeleting              = "soft-deleting"
	TaskRestoring                 = "restoring"
	TaskShelving                  = "shelving"
	TaskShelvingPendingUpload     = "shelving_image_pending_upload"
	TaskShelvingUploading         = "shelving_image_uploading"
	TaskShelvingOffloading        = "shelving_offloading"
	TaskUnshelving                = "unshelving"
)

// dflt is the key of a vm_state's status when its task_state has no entry
// of its own ('default' in Nova's map).
const dflt = "\x00default"

// stateMap is Nova's _STATE_MAP (nova/api/openstack/common.py): the API
// status of each (vm_state, task_state).
var stateMap = map[string]map[string]string{
	VMActive: {
		dflt:                          "ACTIVE",
		TaskRebooting:                 "REBOOT",
		TaskRebootPending:             "REBOOT",
		TaskRebootStarted:             "REBOOT",
		TaskRebootingHard:             "HARD_REBOOT",
		TaskRebootPendingHard:         "HARD_REBOOT",
		TaskRebootStartedHard:         "HARD_REBOOT",
		TaskUpdatingPassword:          "PASSWORD",
		TaskRebuilding:                "REBUILD",
		TaskRebuildBlockDeviceMapping: "REBUILD",
		TaskRebuildSpawning:           "REBUILD",
		TaskMigrating:                 "MIGRATING",
		TaskResizePrep:                "RESIZE",
		TaskResizeMigrating:           "RESIZE",
		TaskResizeMigrated:            "RESIZE",
		TaskResizeFinish:              "RESIZE",
	},
	VMBuilding: {dflt: "BUILD"},
	VMStopped: {
		dflt:                          "SHUTOFF",
		TaskResizePrep:                "RESIZE",
		TaskResizeMigrating:           "RESIZE",
		TaskResizeMigrated:            "RESIZE",
		TaskResizeFinish:              "RESIZE",
		TaskRebuilding:                "REBUILD",
		TaskRebuildBlockDeviceMapping: "REBUILD",
		TaskRebuildSpawning:           "REBUILD",
	},
	VMResized: {
		dflt:                "VERIFY_RESIZE",
		TaskResizeReverting: "REVERT_RESIZE",
	},
	VMPaused:    {dflt: "PAUSED", TaskMigrating: "MIGRATING"},
	VMSuspended: {dflt: "SUSPENDED"},
	VMRescued:   {dflt: "RESCUE"},
	VMError: {
		dflt:                          "ERROR",
		TaskRebuilding:                "REBUILD",
		TaskRebuildBlockDeviceMapping: "REBUILD",
		TaskRebuildSpawning:           "REBUILD",
	},
	VMDeleted:          {dflt: "DELETED"},
	VMSoftDeleted:      {dflt: "SOFT_DELETED"},
	VMShelved:          {dflt: "SHELVED"},
	VMShelvedOffloaded: {dflt: "SHELVED_OFFLOADED"},
}

// StatusOf is the server's API status for a vm_state and task_state, as
// Nova's status_from_state: UNKNOWN for a vm_state Nova does not know.
func StatusOf(vmState, taskState string) string {
	tm, ok := stateMap[vmState]
	if !ok {
		return "UNKNOWN"
	}
	if s, ok := tm[taskState]; ok && taskState != dflt {
		return s
	}
	return tm[dflt]
}

// StatusFilter is what a `status` list filter means in the database, as
// Nova's task_and_vm_state_from_status: the instance's vm_state must be one
// of VMStates and, unless AnyTaskState, its task_state one of TaskStates
// (TaskNone included when listed).
type StatusFilter struct {
	VMStates     []string
	TaskStates   []string
	AnyTaskState bool
}

// StatesOf is the inverse of StatusOf for the servers `status` filter
// (statuses compare case-insensitively). As in Nova, a status with a
// 'default' entry matches any task_state of its vm_state (AnyTaskState),
// so e.g. ACTIVE also lists servers that are rebooting; an unknown status
// yields an empty filter, which matches nothing.
func StatesOf(statuses ...string) StatusFilter {
	var f StatusFilter
	for vm, tm := range stateMap {
		for task, status := range tm {
			if !slices.ContainsFunc(statuses, func(s string) bool { return strings.EqualFold(s, status) }) {
				continue
			}
			if !slices.Contains(f.VMStates, vm) {
				f.VMStates = append(f.VMStates, vm)
			}
			if task == dflt {
				f.AnyTaskState = true
			} else if !slices.Contains(f.TaskStates, task) {
				f.TaskStates = append(f.TaskStates, task)
			}
		}
	}
	slices.Sort(f.VMStates)
	slices.Sort(f.TaskStates)
	return f
}

// Matches reports whether an instance in (vmState, taskState) passes f.
func (f StatusFilter) Matches(vmState, taskState string) bool {
	if !slices.Contains(f.VMStates, vmState) {
		return false
	}
	return f.AnyTaskState || slices.Contains(f.TaskStates, taskState)
}
