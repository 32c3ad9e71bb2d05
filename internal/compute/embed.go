package compute

import "embed"

// Migrations 0001-0099 are the API skeleton's (flavors, keypairs); other
// parts of the service take 0100 and up.
//
//go:embed migrations/*.sql
var migrationsFS embed.FS
