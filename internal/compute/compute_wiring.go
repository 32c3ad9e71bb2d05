package compute

import (
	"context"
	"errors"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/scheduler"
	"kumo/internal/compute/virt"
)

// Deps is what the servers API needs beyond its own tables: the hosts'
// compute managers and drivers, the scheduler and the image service.
// cmd/kumo builds it; tests build it over simulated hosts.
type Deps struct {
	// Hosts maps a compute host name (the scheduler's Host.Name) to its
	// manager (created with Service.InstanceStore() as its Store) and its
	// driver (for console output).
	Hosts map[string]ComputeHost
	// Scheduler places new instances and claims their resources.
	Scheduler Scheduler
	// Claims resizes allocations in place; it is also the managers'
	// manager.Claims (NewPlacementClaims).
	Claims ResizeClaims
	// Images checks and creates images on behalf of a project.
	Images ImageService
	// ForceConfigDrive is Nova's force_config_drive: every instance gets a
	// config drive (kumo's default, since without a metadata service the
	// guest reads its keys and user data from it). nil means true.
	ForceConfigDrive *bool
	// DisableInstancePassword is Nova's enable_instance_password = False:
	// no adminPass in the create, rebuild and rescue answers.
	DisableInstancePassword bool
}

// ComputeHost is one compute host's manager and hypervisor driver.
type ComputeHost struct {
	Manager *manager.Manager
	Driver  virt.Driver
}

// Scheduler is the scheduler as the servers API uses it
// (*scheduler.Scheduler).
type Scheduler interface {
	Schedule(ctx context.Context, req scheduler.Request) ([]scheduler.Selection, error)
}

// ResizeClaims changes an instance's claim for a resize on its host.
type ResizeClaims interface {
	manager.Claims
	// ClaimResize claims resources for the new flavor on the host the
	// instance is on, beside the old flavor's (a *placement.CapacityError
	// or ErrNoRoom when they do not fit), under migration uuid.
	ClaimResize(ctx context.Context, instanceUUID, migrationUUID, projectID, userID string, resources map[string]int64) error
}

// ImageService is the image service as the servers API uses it: the
// manager's Images plus what the API checks and creates itself.
type ImageService interface {
	manager.Images
	// Status returns an image's status ("active", "queued"...) if the
	// project may see it; ErrImageNotFound otherwise.
	Status(ctx context.Context, projectID, imageID string) (string, error)
	// CreateSnapshot creates a queued image record for a server snapshot
	// (createImage) owned by projectID and returns its id.
	CreateSnapshot(ctx context.Context, projectID, name string, properties map[string]string) (string, error)
}

// ErrImageNotFound is what an ImageService returns for an image that does
// not exist or that the project may not see.
var ErrImageNotFound = errors.New("image not found")

// UseCompute connects the servers API to compute hosts, the scheduler and
// the image service. Without it, requests that need them answer 503.
func (s *Service) UseCompute(d Deps) {
	if d.ForceConfigDrive == nil {
		t := true
		d.ForceConfigDrive = &t
	}
	s.compute = &d
}

// deps returns the Service's Deps, nil before UseCompute.
func (s *Service) deps() *Deps { return s.compute }

// InstanceStore is the Store the compute managers must be created with:
// the instances tables of this service.
func (s *Service) InstanceStore() manager.Store { return s.instances() }

func (s *Service) instances() instanceStore {
	return instanceStore{db: s.db, now: func() time.Time { return time.Now().UTC() }}
}

// hostOf returns the manager of an instance's host.
func (d *Deps) hostOf(host string) (ComputeHost, bool) {
	if d == nil {
		return ComputeHost{}, false
	}
	h, ok := d.Hosts[host]
	return h, ok && h.Manager != nil
}
