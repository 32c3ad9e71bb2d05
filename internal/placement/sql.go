package placement

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The statements a commit runs, prepared once at Open so that each claim
// does not parse its SQL again.
const (
	qUpsertProvider = `INSERT INTO resource_providers (uuid, name, generation, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET name = excluded.name,
		generation = excluded.generation, updated_at = excluded.updated_at`
	qProviderGeneration = `UPDATE resource_providers SET generation = ?, updated_at = ? WHERE uuid = ?`
	qDeleteProvider     = `DELETE FROM resource_providers WHERE uuid = ?`
	qDeleteInventories  = `DELETE FROM inventories WHERE provider_uuid = ?`
	qInsertInventory    = `INSERT INTO inventories (provider_uuid, resource_class, total, reserved,
		min_unit, max_unit, step_size, allocation_ratio) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qUpsertConsumer = `INSERT INTO placement_consumers (uuid, project_id, user_id, generation)
		VALUES (?, ?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET project_id = excluded.project_id,
		user_id = excluded.user_id, generation = excluded.generation`
	qDeleteConsumer    = `DELETE FROM placement_consumers WHERE uuid = ?`
	qDeleteAllocations = `DELETE FROM allocations WHERE consumer_uuid = ?`
	qInsertAllocation  = `INSERT INTO allocations (consumer_uuid, provider_uuid, resource_class, used) VALUES (?, ?, ?, ?)`
)

var statements = []string{qUpsertProvider, qProviderGeneration, qDeleteProvider, qDeleteInventories,
	qInsertInventory, qUpsertConsumer, qDeleteConsumer, qDeleteAllocations, qInsertAllocation}

// prepare prepares statements on the writer. It must run when no
// transaction holds the writer's only connection.
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = make(map[string]*sql.Stmt, len(statements))
	for _, q := range statements {
		st, err := s.db.W.PrepareContext(ctx, q)
		if err != nil {
			s.closeStatements()
			return fmt.Errorf("prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return nil
}

func (s *Store) closeStatements() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	return errors.Join(errs...)
}

// exec runs one of the prepared statements in tx.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	st := s.stmts[query]
	if st == nil {
		return fmt.Errorf("statement not prepared: %s", query)
	}
	_, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}
