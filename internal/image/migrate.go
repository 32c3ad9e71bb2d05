package image

import (
	"context"

	"kumo/internal/platform/db"
)

// Migrate applies the image service's pending migrations to d and returns
// their names (kumo admin db-migrate; New applies them too).
func Migrate(ctx context.Context, d *db.DB) ([]string, error) {
	return d.Migrate(ctx, "image", migrationsFS, "migrations")
}
