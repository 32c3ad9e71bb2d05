package compute

import (
	"context"

	"kumo/internal/compute/manager"
)

// Deleting a shelved or shelved_offloaded server deletes its shelved
// image too, as Nova's compute API _delete: best effort, a failure is
// only logged.

// shelvedImageToDelete is the shelved image of in, read before the
// delete drops its system metadata ("" when in is not shelved or the
// image is not known).
func (s *Service) shelvedImageToDelete(ctx context.Context, token string, in *Instance) string {
	if in.VMState != manager.VMShelved && in.VMState != manager.VMShelvedOffloaded {
		return ""
	}
	id, err := s.shelvedImage(ctx, token, in)
	if err != nil {
		s.log.Info("no shelved image to delete with the instance", "instance", in.UUID, "err", err)
		return ""
	}
	return id
}

// deleteShelvedImage deletes image id of in once its delete is under way.
func (s *Service) deleteShelvedImage(ctx context.Context, in *Instance, id string) {
	d := s.deps()
	if id == "" || d == nil || d.Images == nil {
		return
	}
	if err := d.Images.DeleteImage(ctx, in.ProjectID, id); err != nil {
		s.log.Warn("delete the shelved image of a deleted instance", "instance", in.UUID, "image", id, "err", err)
	}
}
