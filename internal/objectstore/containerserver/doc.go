// Package containerserver is kumo's Swift account and container servers: the
// listing databases that sit behind the object-store proxy. As in Swift, every
// account and every container is its own small SQLite database on a storage
// device, placed by the ring at <dev>/{accounts,containers}/<part>/<suffix>/<hash>/<hash>.db.
//
// A container database holds one row per object (name, timestamp, size,
// content type, etag, deleted flag) plus the container's metadata, storage
// policy and counters; an account database holds one row per container with
// the counters the container last reported. Rows merge by timestamp (the
// newest wins and replays are no-ops), which is what lets replicas that took
// writes independently converge: the Replicator exchanges rows added since a
// per-peer sync point, in both directions, over the REPLICATE verb.
//
// Object updates to a container are appended to its pending file, as
// Swift's .pending, and merged into the database in batches; every other
// open of the database merges first (pending.go). The
// Updater reports each container's counters to its account replicas; what
// is still unreported lives in the container database, so a sweep retries
// after failures or restarts. RingAccounts and RingPeers adapt the
// objectstore ring to the locator interfaces the Updater and Replicator use.
//
// The HTTP surface is Swift's internal storage-node API, which the proxy
// calls: ContainerServer serves /<dev>/<part>/<account>/<container>[/<object>]
// and AccountServer serves /<dev>/<part>/<account>[/<container>].
package containerserver
