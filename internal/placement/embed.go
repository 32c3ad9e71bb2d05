package placement

import (
	"context"
	"embed"

	"kumo/internal/platform/db"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Migrate applies the placement service's pending migrations to d and
// returns their names (kumo admin db-migrate; Open applies them too).
func Migrate(ctx context.Context, d *db.DB) ([]string, error) {
	return d.Migrate(ctx, "placement", migrationsFS, "migrations")
}
