package compute

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// forcedHost reads availability_zone "zone[:host[:node]]": a host needs
// the forced_host rule. It returns the zone.
func (c *call) forcedHost(body map[string]any, p *buildPlan) (string, error) {
	raw, _ := body["availability_zone"].(string)
	zone, host, _ := strings.Cut(raw, ":")
	host, _, _ = strings.Cut(host, ":")
	if host != "" {
		if err := c.enforce("os_compute_api:servers:create:forced_host", c.defaultTarget()); err != nil {
			return "", err
		}
		p.forceHost = host
	}
	return zone, nil
}

// requestedDestination is 2.74's host / hypervisor_hostname: an admin's
// choice of host. kumo's scheduler takes it as a forced host (its filters
// are skipped, capacity is still claimed); each compute host has one node
// named as the host.
func (c *call) requestedDestination(body map[string]any, p *buildPlan) error {
	host, _ := body["host"].(string)
	node, _ := body["hypervisor_hostname"].(string)
	if host == "" && node == "" {
		return nil
	}
	if err := c.enforce("compute:servers:create:requested_destination", c.defaultTarget()); err != nil {
		return err
	}
	if p.forceHost != "" {
		return httpapi.BadRequest("One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.")
	}
	for _, h := range []string{host, node} {
		if _, ok := c.s.deps().hostOf(h); h != "" && !ok {
			return httpapi.BadRequest("Compute host %s could not be found.", h)
		}
	}
	if host != "" && node != "" && host != node {
		return httpapi.BadRequest("Compute host %s could not be found.", node)
	}
	p.forceHost = host
	if host == "" {
		p.forceHost = node
	}
	return nil
}

// checkZone refuses a zone with no enabled compute service.
func (c *call) checkZone(zone string, p *buildPlan) error {
	if zone == "" {
		return nil
	}
	svcs, known, err := c.s.services(c.ctx)
	if err != nil {
		return err
	}
	avail := []string{defaultZone}
	if known {
		avail, _ = zones(svcs)
	}
	if !contains(avail, zone) {
		return httpapi.BadRequest("The requested availability zone is not available")
	}
	p.zone = zone
	return nil
}

// checkNetworks refuses what needs networking, which kumo's compute does
// not have yet: Nova's answers when the network service finds nothing.
func (c *call) checkNetworks(body map[string]any) error {
	switch n := body["networks"].(type) {
	case string:
		switch n {
		case "none":
			return nil
		case "auto":
			return httpapi.BadRequest("Unable to automatically allocate a network for project %s", c.project())
		}
		return httpapi.BadRequest("Invalid input for field/attribute networks. Value: %s. %s is not one of ['none', 'auto']", n, pyRepr(n))
	case []any:
		// No network exists yet: the first entry names one that is not found.
		if len(n) > 0 {
			net, _ := n[0].(map[string]any)
			if port, ok := net["port"].(string); ok && port != "" {
				return httpapi.BadRequest("Port id %s could not be found.", port)
			}
			id, _ := net["uuid"].(string)
			if !isUUIDLike(id) {
				return httpapi.BadRequest("Bad networks format: network uuid is not in proper format (%s)", id)
			}
			return httpapi.BadRequest("Network %s could not be found.", id)
		}
	}
	return nil
}

// resolveImage finds the image to boot: imageRef, or the image of a local
// boot device in block_device_mapping_v2. Volumes are refused: kumo's
// compute cannot attach them yet.
func (c *call) resolveImage(body map[string]any, p *buildPlan) error {
	d := c.s.deps()
	ref, _ := body["imageRef"].(string)
	p.imageID = idFromHref(ref)
	for _, it := range listOf(body["block_device_mapping_v2"]) {
		bdm, _ := it.(map[string]any)
		src, _ := bdm["source_type"].(string)
		dst, _ := bdm["destination_type"].(string)
		id, _ := bdm["uuid"].(string)
		switch {
		case src == "volume":
			return httpapi.BadRequest("Block Device Mapping is Invalid: failed to get volume %s.", id)
		case src == "snapshot":
			return httpapi.BadRequest("Block Device Mapping is Invalid: failed to get snapshot %s.", id)
		case dst == "volume":
			return httpapi.BadRequest("Block Device Mapping is Invalid: volumes are not available in this cloud.")
		case src == "image":
			if p.imageID == "" {
				p.imageID = id
			}
		}
	}
	if p.imageID == "" {
		return httpapi.BadRequest("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.")
	}
	if is, ok := d.Images.(imageStatuser); ok {
		return c.resolveImageOnce(is, p)
	}
	status, err := d.Images.Status(c.ctx, c.project(), p.imageID)
	if errors.Is(err, ErrImageNotFound) {
		return httpapi.BadRequest("Can not find requested image")
	}
	if err != nil {
		return err
	}
	if status != "active" {
		return httpapi.BadRequest("Image %s is not active.", p.imageID)
	}
	p.image, err = d.Images.Image(c.ctx, c.project(), p.imageID)
	if err != nil {
		return fmt.Errorf("image %s: %w", p.imageID, err)
	}
	return nil
}

// checkSecurityGroups accepts only "default": without a network service
// there are no other groups, so any other name is Nova's
// SecurityGroupNotFound (400).
func (c *call) checkSecurityGroups(body map[string]any, p *buildPlan) error {
	for _, it := range listOf(body["security_groups"]) {
		g, _ := it.(map[string]any)
		name, _ := g["name"].(string)
		if name != "default" {
			return httpapi.BadRequest("Security group %s not found.", name)
		}
	}
	p.sgs = []string{"default"}
	return nil
}

func (c *call) loadKey(body map[string]any, p *buildPlan) error {
	name, ok := body["key_name"].(string)
	if !ok {
		return nil
	}
	k, err := c.s.keypairs().get(c.ctx, c.user(), name)
	if errors.Is(err, errNotFound) {
		return httpapi.BadRequest("Invalid key_name provided.")
	}
	if err != nil {
		return err
	}
	p.keyName, p.keyData, p.keyType = &k.Name, &k.PublicKey, k.Type
	return nil
}

// schedulerHints reads os:scheduler_hints: group, same_host and
// different_host.
func (c *call) schedulerHints(top map[string]any, p *buildPlan) error {
	hints, _ := top["os:scheduler_hints"].(map[string]any)
	if hints == nil {
		hints, _ = top["OS-SCH-HNT:scheduler_hints"].(map[string]any)
	}
	if g, ok := hints["group"].(string); ok {
		proj := c.project()
		if c.admin {
			proj = ""
		}
		grp, err := c.s.serverGroupForSchedule(c.ctx, g, proj)
		if errors.Is(err, errNotFound) {
			return httpapi.BadRequest("Instance group %s could not be found.", g)
		}
		if err != nil {
			return err
		}
		p.group, p.groupUUID = grp.SchedulerGroup(), g
	}
	hostsOf := func(v any) ([]string, error) {
		ids := listOf(v)
		if s, ok := v.(string); ok {
			ids = []any{s}
		}
		var hosts []string
		for _, id := range ids {
			in, err := c.s.instances().get(c.ctx, fmt.Sprint(id), false)
			if err == nil && in.Host != "" {
				hosts = append(hosts, in.Host)
			}
		}
		return hosts, nil
	}
	var err error
	if p.ignore, err = hostsOf(hints["different_host"]); err != nil {
		return err
	}
	if v, ok := hints["same_host"]; ok {
		p.sameHosts, _ = hostsOf(v)
		if len(p.sameHosts) == 0 {
			p.sameHosts = []string{""} // no such host: NoValidHost
		}
	}
	return nil
}

// imageStatuser is an ImageService that returns an image's status with
// its info in one lookup (one Glance GET per create instead of two).
type imageStatuser interface {
	// ImageStatus returns the image's status; info is filled when the
	// status is "active". ErrImageNotFound as Status.
	ImageStatus(ctx context.Context, projectID, imageID string) (info manager.ImageInfo, status string, err error)
}

// resolveImageOnce is resolveImage's image check with one lookup.
func (c *call) resolveImageOnce(is imageStatuser, p *buildPlan) error {
	info, status, err := is.ImageStatus(c.ctx, c.project(), p.imageID)
	if errors.Is(err, ErrImageNotFound) {
		return httpapi.BadRequest("Can not find requested image")
	}
	if err != nil {
		return err
	}
	if status != "active" {
		return httpapi.BadRequest("Image %s is not active.", p.imageID)
	}
	p.image = info
	return nil
}
