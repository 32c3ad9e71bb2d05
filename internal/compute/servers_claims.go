package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kumo/internal/placement"
)

// placementClaims is the managers' manager.Claims and the API's
// ResizeClaims over placement. A resize on the same host claims the new
// flavor under the migration's uuid as a second consumer, so the host
// holds both sizes until the resize is confirmed (the new size moves to
// the instance) or reverted (the migration's claim is dropped), as Nova
// keeps the old flavor on the migration consumer.
type placementClaims struct {
	p  *placement.Store
	st instanceStore
}

// PlacementClaims returns the claims adapter for Deps.Claims and for
// manager.New over placement store p.
func (s *Service) PlacementClaims(p *placement.Store) ResizeClaims {
	return placementClaims{p: p, st: s.instances()}
}

// Release drops the instance's allocations and those of any open
// migration of it.
func (c placementClaims) Release(ctx context.Context, instanceUUID string) error {
	if mig, err := c.st.openMigration(ctx, instanceUUID); err == nil {
		if err := c.release(ctx, mig); err != nil {
			return err
		}
		_ = c.st.setMigrationStatus(ctx, mig, "error")
	}
	return c.release(ctx, instanceUUID)
}

func (c placementClaims) release(ctx context.Context, consumer string) error {
	if err := c.p.Release(ctx, consumer); err != nil && !errors.Is(err, placement.ErrConsumerNotFound) {
		return err
	}
	return nil
}

// ClaimResize claims the new size beside the old one on the instance's
// provider.
func (c placementClaims) ClaimResize(ctx context.Context, instanceUUID, migrationUUID, projectID, userID string, resources map[string]int64) error {
	cur, err := c.p.Allocations(ctx, instanceUUID)
	if err != nil {
		return fmt.Errorf("allocations of %s: %w", instanceUUID, err)
	}
	if len(cur.Allocations) != 1 {
		return fmt.Errorf("instance %s has %d allocations, want 1", instanceUUID, len(cur.Allocations))
	}
	res := map[string]int64{}
	for rc, n := range resources {
		if n > 0 {
			res[rc] = n
		}
	}
	return c.p.Claim(ctx, migrationUUID, projectID, userID, cur.Allocations[0].ProviderUUID, res)
}

// ConfirmResize moves the new size onto the instance.
func (c placementClaims) ConfirmResize(ctx context.Context, instanceUUID string) error {
	mig, err := c.st.openMigration(ctx, instanceUUID)
	if err != nil {
		return err
	}
	alloc, err := c.p.Allocations(ctx, mig)
	if err != nil {
		return fmt.Errorf("allocations of migration %s: %w", mig, err)
	}
	// One atomic step: the instance takes the migration's allocations and
	// the migration's go; released first, another claim could take the room.
	next := map[string]map[string]int64{}
	for _, a := range alloc.Allocations {
		next[a.ProviderUUID] = a.Resources
	}
	if len(next) == 0 {
		return fmt.Errorf("migration %s of %s holds no allocations", mig, instanceUUID)
	}
	if err := c.p.SetAllocations(ctx, []placement.Claim{{ConsumerUUID: instanceUUID, Allocations: next},
		{ConsumerUUID: mig}}); err != nil {
		return err
	}
	return c.st.setMigrationStatus(ctx, mig, "confirmed")
}

// RevertResize drops the new size.
func (c placementClaims) RevertResize(ctx context.Context, instanceUUID string) error {
	mig, err := c.st.openMigration(ctx, instanceUUID)
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.release(ctx, mig); err != nil {
		return err
	}
	return c.st.setMigrationStatus(ctx, mig, "reverted")
}

// createMigration records a resize of an instance (Nova's migrations row).
func (st instanceStore) createMigration(ctx context.Context, uuid, instanceUUID, host, oldFlavor, newFlavor string) error {
	now := dbTime(st.now())
	_, err := st.db.W.ExecContext(ctx, `INSERT INTO instance_migrations (uuid, instance_uuid, source_compute, dest_compute,
		old_flavor_id, new_flavor_id, migration_type, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'resize', 'pre-migrating', ?, ?)`, uuid, instanceUUID, host, host, oldFlavor, newFlavor, now, now)
	return err
}

// openMigration returns the uuid of the instance's resize in progress.
func (st instanceStore) openMigration(ctx context.Context, instanceUUID string) (string, error) {
	var uuid string
	err := st.db.R.QueryRowContext(ctx, `SELECT uuid FROM instance_migrations WHERE instance_uuid = ?
		AND status IN ('pre-migrating', 'migrating', 'finished') ORDER BY id DESC LIMIT 1`, instanceUUID).Scan(&uuid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errNotFound
	}
	return uuid, err
}

func (st instanceStore) setMigrationStatus(ctx context.Context, uuid, status string) error {
	_, err := st.db.W.ExecContext(ctx, `UPDATE instance_migrations SET status = ?, updated_at = ? WHERE uuid = ?`,
		status, dbTime(st.now()), uuid)
	return err
}
