// Package objserver is a Swift storage node's object server: it keeps the
// replicas of objects on the node's local devices and serves them to the
// proxy over Swift's backend HTTP API (PUT, GET, HEAD, DELETE, POST on
// /<device>/<partition>/<account>/<container>/<object>, REPLICATE on
// /<device>/<partition>[/<suffixes>]).
//
// It follows Swift's object server and diskfile design as facts:
//
//   - A device is a directory under Config.Root. An object lives in
//     <dev>/objects/<partition>/<hash>/<timestamp>.<ext>, where hash is
//     md5(prefix + "/a/c/o" + suffix). Swift has one more level, the
//     hash's last three hex digits, between partition and hash; kumo
//     only groups by them for replication (layout.go). ext is .data (a
//     version), .ts (a tombstone) or .meta (POSTed metadata). The newest
//     .data or .ts wins; older files are removed.
//   - Every file is written in <dev>/tmp and renamed into its hash
//     directory, so a reader never sees half an object, and is durable
//     before the answer, so an acknowledged write survives a crash. A file
//     over 256 KiB is fsynced, then its directory (Swift's way). A smaller
//     one (most objects, every tombstone) is appended to the file system's
//     journal, fdatasynced once per group of concurrent writes, and renamed
//     without an fsync; the store replays the journal when it opens and
//     drops a segment once syncfs has made its files durable (journal.go).
//   - Metadata is a footer in the same file (see metafile.go) rather than an
//     xattr: it works on every file system, lands atomically with the body in
//     one rename, and a replica can be copied as one opaque file. Beside the
//     MD5 ETag it keeps the body's CRC-32C, which the node checks large
//     uploads and whole reads with (crc.go).
//   - Container listings are updated after each PUT/DELETE; a failed update
//     is kept as an async pending file that the Updater retries.
//   - The Replicator compares per-suffix hashes (REPLICATE) with the
//     partition's other nodes, lists the differing suffixes' files there
//     (SUFFIXLIST) and pushes each missing file whole (SYNC), where Swift
//     uses rsync or ssync; the receiver verifies a file before keeping it.
//     RingPeers gives it the ring's view. the Auditor re-reads every .data
//     file and quarantines the corrupt ones; the Expirer turns objects past
//     their X-Delete-At into tombstones.
package objserver
