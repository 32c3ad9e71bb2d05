package compute

import (
	"context"
	"errors"
	"time"

	"kumo/internal/platform/db"
)

// DefaultFlavors are the flavors a new cloud starts with: devstack's set,
// with its ids (42 and 84 for nano and micro, 1-5 for the classic five).
var DefaultFlavors = []Flavor{
	{ID: "42", Name: "m1.nano", MemoryMB: 128, VCPUs: 1, RootGB: 1},
	{ID: "84", Name: "m1.micro", MemoryMB: 192, VCPUs: 1, RootGB: 1},
	{ID: "1", Name: "m1.tiny", MemoryMB: 512, VCPUs: 1, RootGB: 1},
	{ID: "2", Name: "m1.small", MemoryMB: 2048, VCPUs: 1, RootGB: 20},
	{ID: "3", Name: "m1.medium", MemoryMB: 4096, VCPUs: 2, RootGB: 40},
	{ID: "4", Name: "m1.large", MemoryMB: 8192, VCPUs: 4, RootGB: 80},
	{ID: "5", Name: "m1.xlarge", MemoryMB: 16384, VCPUs: 8, RootGB: 160},
}

// EnsureDefaultFlavors creates DefaultFlavors when the flavors table is
// empty (a new cloud) and returns the ids it created; an operator who
// deleted them all gets them back on the next start, as with devstack's
// first run. d must be migrated (Migrate or New).
func EnsureDefaultFlavors(ctx context.Context, d *db.DB) ([]string, error) {
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM flavors`).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, nil
	}
	st := flavorStore{db: d}
	now := time.Now().UTC()
	var created []string
	for _, def := range DefaultFlavors {
		f := def
		f.RxtxFactor, f.IsPublic, f.CreatedAt = 1.0, true, now
		err := st.create(ctx, &f)
		if errors.Is(err, errIDTaken) || errors.Is(err, errNameTaken) {
			continue // a concurrent first start made it
		}
		if err != nil {
			return created, err
		}
		created = append(created, f.ID)
	}
	return created, nil
}
