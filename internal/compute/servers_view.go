package compute

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"kumo/internal/compute/manager"
)

// viewKind says which of Nova's server views to build: the full one of
// GET /servers/{id} and /servers/detail, or the reduced one of PUT and
// rebuild before 2.75 (Nova's show() with every show_* flag off).
type viewKind int

const (
	viewFull viewKind = iota
	viewReduced
)

// progressStatuses are the statuses Nova reports progress in.
var progressStatuses = map[string]bool{"ACTIVE": true, "BUILD": true, "REBUILD": true, "RESIZE": true,
	"VERIFY_RESIZE": true, "MIGRATING": true}

// isoTime is Nova's utils.isotime: seconds and a Z.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// optTime is a nullable timestamp in Nova's datetime format.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return novaTime(t)
}

// hostID is Nova's hostId: sha224 of project id and host, "" with no host.
func hostID(project, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(project + host))
	return hex.EncodeToString(sum[:])
}

// bookmark is a single bookmark link, as Nova's image and flavor links.
func (c *call) bookmark(collection, id string) []map[string]string {
	return c.links(collection, id)[1:]
}

// serverView renders a server as Nova's view builder does for c's
// microversion and policy.
func (c *call) serverView(in *Instance, kind viewKind) (map[string]any, error) {
	return c.serverViewFrom(in, kind, nil)
}

// serverViewFrom is serverView with the metadata, tags and faults of a
// page of servers loaded beforehand (pre may be nil).
func (c *call) serverViewFrom(in *Instance, kind viewKind, pre *pageData) (map[string]any, error) {
	ctx := c.ctx
	st := pre.store(c.s.instances())
	status := manager.StatusOf(in.VMState, in.TaskState)
	if in.Deleted {
		status = "DELETED"
		if in.VMState == manager.VMSoftDeleted {
			status = "SOFT_DELETED"
		}
	}
	meta, err := st.metadata(ctx, in.UUID)
	meta = nonNilMap(meta)
	if err != nil {
		return nil, err
	}
	var image any = ""
	if in.ImageRef != "" {
		image = map[string]any{"id": in.ImageRef, "links": c.bookmark("images", in.ImageRef)}
	}
	updated := in.UpdatedAt
	if updated.IsZero() {
		updated = in.CreatedAt
	}
	v := map[string]any{
		"id": in.UUID, "name": in.Name, "status": status, "tenant_id": in.ProjectID, "user_id": in.UserID,
		"metadata": meta, "hostId": hostID(in.ProjectID, in.Host), "image": image,
		"flavor":  c.serverFlavorView(in),
		"created": isoTime(in.CreatedAt), "updated": isoTime(updated),
		"addresses": map[string]any{}, "accessIPv4": in.AccessIPv4, "accessIPv6": in.AccessIPv6,
		"links": c.links("servers", in.UUID), "OS-DCF:diskConfig": in.DiskConfig,
	}
	if progressStatuses[status] {
		v["progress"] = 0
	}
	if status == "ERROR" || status == "DELETED" {
		f, err := st.fault(ctx, in.UUID)
		if err != nil {
			return nil, err
		}
		if f != nil {
			fv := map[string]any{"code": f.Code, "created": isoTime(f.Created), "message": f.Message}
			// Nova shows details for a non-500 fault, or to admins.
			if f.Details != "" && (f.Code != 500 || c.admin) {
				fv["details"] = f.Details
			}
			v["fault"] = fv
		}
	}
	mv := c.mv
	if mv.AtLeast(2, 9) {
		v["locked"] = in.Locked
	}
	if mv.AtLeast(2, 19) {
		v["description"] = in.Description
	}
	if mv.AtLeast(2, 26) {
		tags, err := st.tags(ctx, in.UUID)
		if err != nil {
			return nil, err
		}
		v["tags"] = tags
	}
	if mv.AtLeast(2, 63) {
		v["trusted_image_certificates"] = nil
	}
	if mv.AtLeast(2, 73) {
		v["locked_reason"] = in.LockedReason
	}
	full := kind == viewFull || mv.AtLeast(2, 75)
	if full {
		c.extendedView(v, in)
	}
	return v, nil
}

// extendedView adds what Nova's show() adds with its show_* flags on.
func (c *call) extendedView(v map[string]any, in *Instance) {
	mv := c.mv
	v["OS-EXT-AZ:availability_zone"] = in.AZ
	v["config_drive"] = in.ConfigDrive
	v["key_name"] = in.KeyName
	v["OS-SRV-USG:launched_at"] = optTime(in.LaunchedAt)
	v["OS-SRV-USG:terminated_at"] = optTime(in.TerminatedAt)
	var task any
	if in.TaskState != "" {
		task = in.TaskState
	}
	v["OS-EXT-STS:task_state"] = task
	v["OS-EXT-STS:vm_state"] = in.VMState
	v["OS-EXT-STS:power_state"] = in.PowerState
	vols := []any{}
	v["os-extended-volumes:volumes_attached"] = vols
	sgs := make([]map[string]string, 0, len(in.SecurityGroups))
	for _, g := range in.SecurityGroups {
		sgs = append(sgs, map[string]string{"name": g})
	}
	if len(sgs) > 0 {
		v["security_groups"] = sgs
	}
	target := map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}
	if c.allowed("os_compute_api:os-extended-server-attributes", target) {
		v["OS-EXT-SRV-ATTR:host"] = nullable(in.Host)
		v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = nullable(in.Node)
		v["OS-EXT-SRV-ATTR:instance_name"] = in.instanceName()
		if mv.AtLeast(2, 3) {
			v["OS-EXT-SRV-ATTR:reservation_id"] = in.ReservationID
			v["OS-EXT-SRV-ATTR:launch_index"] = in.LaunchIndex
			v["OS-EXT-SRV-ATTR:kernel_id"] = ""
			v["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
			v["OS-EXT-SRV-ATTR:hostname"] = in.Hostname
			v["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
			v["OS-EXT-SRV-ATTR:user_data"] = in.UserData
		}
	} else if mv.AtLeast(2, 90) {
		v["OS-EXT-SRV-ATTR:hostname"] = in.Hostname
	}
	if mv.AtLeast(2, 16) && c.allowed("os_compute_api:servers:show:host_status", target) {
		hs := ""
		if in.Host != "" {
			hs = "UP"
			if _, ok := c.s.deps().hostOf(in.Host); !ok {
				hs = "UNKNOWN"
			}
		}
		v["host_status"] = hs
	}
}

// serverFlavorView is the server's flavor: a link before 2.47, the embedded
// copy from 2.47 (extra specs only when the caller may list them).
func (c *call) serverFlavorView(in *Instance) map[string]any {
	if !c.mv.AtLeast(2, 47) {
		return map[string]any{"id": in.FlavorID, "links": c.bookmark("flavors", in.FlavorID)}
	}
	f := in.Flavor
	v := map[string]any{"vcpus": f.VCPUs, "ram": f.MemoryMB, "disk": f.RootGB, "ephemeral": f.EphemeralGB,
		"swap": f.Swap, "original_name": f.Name}
	if c.allowed("os_compute_api:servers:show:flavor-extra-specs", map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}) {
		specs := f.ExtraSpecs
		if specs == nil {
			specs = map[string]string{}
		}
		v["extra_specs"] = specs
	}
	return v
}

// serverGroupsView is 2.71's server_groups of show, update and rebuild.
func (c *call) addServerGroups(v map[string]any, in *Instance) error {
	if !c.mv.AtLeast(2, 71) {
		return nil
	}
	groups := []string{}
	g, err := c.s.serverGroupOf(c.ctx, in.UUID)
	if err != nil {
		return err
	}
	if g != "" {
		groups = append(groups, g)
	}
	v["server_groups"] = groups
	return nil
}
