package manager

import "context"

// Nova's system metadata keys of a shelved instance
// (compute_utils.remove_shelved_keys_from_system_metadata drops them).
const (
	SysShelvedAt      = "shelved_at"
	SysShelvedImageID = "shelved_image_id"
	SysShelvedHost    = "shelved_host"
)

// SystemMetadataStore is a Store that keeps Nova's instance system
// metadata. A Store without it shelves all the same; only the keys are
// not recorded (the API then finds the shelved image by name).
type SystemMetadataStore interface {
	SetSystemMetadata(ctx context.Context, uuid string, kv map[string]string) error
	DeleteSystemMetadata(ctx context.Context, uuid string, keys ...string) error
}

// recordShelved stores what Nova's _shelve_instance puts in system
// metadata: when, into which image and from which host.
func (m *Manager) recordShelved(ctx context.Context, uuid, imageID string) error {
	s, ok := m.store.(SystemMetadataStore)
	if !ok {
		return nil
	}
	return s.SetSystemMetadata(ctx, uuid, map[string]string{
		SysShelvedAt:      m.now().UTC().Format("2006-01-02T15:04:05.000000"),
		SysShelvedImageID: imageID,
		SysShelvedHost:    m.cfg.Host,
	})
}

// forgetShelved drops the shelved keys once the instance runs again.
func (m *Manager) forgetShelved(ctx context.Context, uuid string) {
	s, ok := m.store.(SystemMetadataStore)
	if !ok {
		return
	}
	if err := s.DeleteSystemMetadata(ctx, uuid, SysShelvedAt, SysShelvedImageID, SysShelvedHost); err != nil {
		m.log.Warn("remove shelved keys from system metadata", "instance", uuid, "err", err)
	}
}
