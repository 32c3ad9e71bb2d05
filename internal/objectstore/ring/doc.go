// Package ring places Swift partitions on storage devices.
//
// It follows Swift's ring design ("The Rings", swift/common/ring): the hash
// space is cut into 2^partPower partitions, and the Builder assigns each
// partition's replicas to devices described by (region, zone, node, device)
// so that replicas are as far apart as the weights allow, devices hold
// partitions in proportion to their weight, and a rebalance moves as few
// partition-replicas as it can. Ring is the read-only form a proxy loads.
//
// Behaviour kept from Swift, on purpose:
//   - The node tier is the device's IP, not IP:port, as in current Swift:
//     two ports on one server are still one failure domain.
//   - A ring needs at least as many weighted devices as replicas; Swift
//     refuses to put two replicas of a partition on one device, so a single
//     device with 3 replicas is an error, not a degenerate ring.
//   - When weights and dispersion disagree (a zone too small to hold one
//     replica of every partition), weights win unless the overload factor
//     lets devices take more than their weight, exactly as Swift's replica
//     plan does (weighted, wanted and target replicanths per tier).
//   - min_part_hours: a partition whose replica moved less than that many
//     hours ago is not moved again, and one rebalance moves at most one
//     replica of a partition — except replicas on removed devices, which
//     must go somewhere.
//   - Handoffs walk the ring's own assignment from a partition-derived
//     start, preferring unused regions, then zones, then nodes, then any
//     device, so they are deterministic and weight-proportional.
//
// Replicas are whole numbers here (Swift also allows fractions).
package ring
