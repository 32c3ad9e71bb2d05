// Package e2e holds kumo's end-to-end tests: they build the kumo binary,
// start `kumo up` as a subprocess on loopback and drive it with the real
// Debian `openstack` CLI and plain net/http, the way a user would.
//
// Run them with `make e2e` or `go test ./test/e2e/`. Without
// /usr/bin/openstack (Debian's python3-openstackclient) the CLI tests skip,
// unless KUMO_E2E_REQUIRE_CLI=1 (set by CI) turns the skip into a failure.
// KUMO_E2E_RACE=1 builds the binary under test with -race.
package e2e
