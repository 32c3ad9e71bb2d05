package compute

import (
	"context"
	"database/sql"

	"kumo/internal/compute/manager"
)

// Instance system metadata (migration 0500) and the unplaced-instance
// listing the manager's reconciliation uses (manager.SystemMetadataStore,
// manager.UnplacedStore).

// SetSystemMetadata implements manager.SystemMetadataStore: it sets keys
// of a live instance's system metadata.
func (st instanceStore) SetSystemMetadata(ctx context.Context, uuid string, kv map[string]string) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE uuid = ? AND deleted = 0`,
			uuid).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return manager.ErrNotFound
		}
		for k, v := range kv {
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_system_metadata (instance_uuid, key, value)
				VALUES (?, ?, ?) ON CONFLICT (instance_uuid, key) DO UPDATE SET value = excluded.value`,
				uuid, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteSystemMetadata implements manager.SystemMetadataStore; missing
// keys are no error.
func (st instanceStore) DeleteSystemMetadata(ctx context.Context, uuid string, keys ...string) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM instance_system_metadata WHERE instance_uuid = ? AND key = ?`,
				uuid, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// systemMetadata returns an instance's system metadata (empty when it
// has none).
func (st instanceStore) systemMetadata(ctx context.Context, uuid string) (map[string]string, error) {
	return st.keyValues(ctx, `SELECT key, value FROM instance_system_metadata WHERE instance_uuid = ?`, uuid)
}

// Unplaced implements manager.UnplacedStore: live instances with no host.
func (st instanceStore) Unplaced(ctx context.Context) ([]manager.State, error) {
	return st.states(ctx, `host IS NULL`)
}
