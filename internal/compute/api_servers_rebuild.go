package compute

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "resize", body: resizeSchema, handle: resizeServer},
		{name: "rebuild", body: rebuildSchema, handle: rebuildServer},
		{name: "createImage", body: createImageSchema, handle: createImage},
	}})
}

// precheck is Nova's check_instance_state decorator, run before the
// action's own checks: allowed vm_states and task_state None.
func precheck(in *Instance, method string, vmStates ...string) error {
	if !contains(vmStates, in.VMState) {
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: method, UUID: in.UUID, Attr: "vm_state", State: in.VMState}).Error())
	}
	if in.TaskState != manager.TaskNone {
		return httpapi.Conflict("%s", (&manager.InvalidStateError{Method: method, UUID: in.UUID, Attr: "task_state", State: in.TaskState}).Error())
	}
	return nil
}

func resizeSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"resize"}, Properties: []Prop{
		{"resize", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"flavorRef"}, Properties: []Prop{
			{"flavorRef", &Schema{Type: Types("string", "integer"), MinLength: 1}},
			{"OS-DCF:diskConfig", &Schema{Type: Types("string"), Enum: []any{"AUTO", "MANUAL"}}},
		}}},
	}}
}

// resizeServer is the resize action on the instance's own host (Nova's
// allow_resize_to_same_host): the new flavor is claimed beside the old
// one, recorded as new_flavor, then the manager resizes.
func resizeServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:servers:resize")
	if err != nil {
		return err
	}
	if err := precheck(in, "resize", manager.VMActive, manager.VMStopped); err != nil {
		return err
	}
	fid := idFromHref(fmt.Sprint(c.obj("resize")["flavorRef"]))
	proj := c.project()
	if c.admin {
		proj = ""
	}
	f, err := c.s.flavors().get(c.ctx, fid, proj)
	if errors.Is(err, errNotFound) {
		return httpapi.BadRequest("Flavor %s could not be found.", fid)
	}
	if err != nil {
		return err
	}
	if f.ID == in.FlavorID {
		return httpapi.BadRequest("When resizing, instances must change flavor!")
	}
	if f.Disabled {
		return httpapi.BadRequest("Flavor %s could not be found.", fid)
	}
	// A smaller disk is refused by the driver, after the API accepted the
	// resize, as in Nova: the instance rolls back with a fault.
	if f.ExtraSpecs, err = c.s.flavors().extraSpecs(c.ctx, f); err != nil {
		return err
	}
	if _, err := c.s.instanceQuotaCount(c.ctx, in.ProjectID, 0, 0, resizeGrowth(in.Flavor, f)); err != nil {
		return err
	}
	h, err := c.hostOrConflict(in, "resize")
	if err != nil {
		return err
	}
	d := c.s.deps()
	st := c.s.instances()
	rid := httpapi.RequestID(c.ctx)
	if err := c.recordAction(in, "resize"); err != nil {
		return err
	}
	mig := newUUID()
	if err := st.createMigration(c.ctx, mig, in.UUID, in.Host, in.FlavorID, f.ID); err != nil {
		return err
	}
	if d.Claims != nil {
		err := d.Claims.ClaimResize(c.ctx, in.UUID, mig, in.ProjectID, in.UserID, map[string]int64{
			"VCPU": f.VCPUs, "MEMORY_MB": f.MemoryMB, "DISK_GB": diskGB(f)})
		if err != nil {
			// Nova's conductor fails the resize after the API accepted it:
			// the instance stays as it is, with a fault and a failed event.
			c.s.log.Info("resize claim failed", "instance", in.UUID, "err", err)
			_ = st.setMigrationStatus(c.ctx, mig, "error")
			now := c.s.now()
			const ev = "conductor_migrate_server"
			_ = st.StartEvent(c.ctx, in.UUID, rid, ev, now)
			cause := &manager.NoValidHostError{}
			_ = st.FinishEvent(c.ctx, in.UUID, rid, ev, now, manager.ResultError, cause.Error()+"\n  caused by: "+err.Error())
			_ = st.AddFault(c.ctx, in.UUID, manager.Fault{Code: 500, Message: cause.Error(), Created: now})
			return c.empty(http.StatusAccepted)
		}
	}
	nf, _ := json.Marshal(flavorCopy(f))
	cols := map[string]any{"new_flavor": string(nf)}
	// Nova's resize takes the requested disk config on the instance.
	if dc, ok := c.obj("resize")["OS-DCF:diskConfig"].(string); ok {
		cols["disk_config"] = dc
	}
	if err := st.setFields(c.ctx, in.UUID, cols); err != nil {
		return err
	}
	spec := specOf(in)
	spec.VCPUs, spec.MemoryMB, spec.RootGB = int(f.VCPUs), int(f.MemoryMB), int(f.RootGB)
	if err := h.Manager.Resize(c.ctx, manager.ResizeRequest{RequestID: rid, Spec: spec}); err != nil {
		if d.Claims != nil {
			_ = d.Claims.RevertResize(c.ctx, in.UUID)
		}
		_ = st.setFields(c.ctx, in.UUID, map[string]any{"new_flavor": nil})
		return actionError(err, in.UUID)
	}
	_ = st.setMigrationStatus(c.ctx, mig, "finished")
	return c.empty(http.StatusAccepted)
}

// resizeDecision is confirmResize or revertResize: Nova's 400 when the
// instance has no resize to decide on, else the manager's state check.
func resizeDecision(rule, name string, status int, fn func(m *manager.Manager, c *call, in *Instance) error) func(c *call) error {
	return func(c *call) error {
		in, err := c.serverForAction(rule)
		if err != nil {
			return err
		}
		if err := precheck(in, name, manager.VMResized); err != nil {
			return err
		}
		if _, err := c.s.instances().openMigration(c.ctx, in.UUID); errors.Is(err, errNotFound) {
			return httpapi.BadRequest("Instance has not been resized.")
		} else if err != nil {
			return err
		}
		h, err := c.hostOrConflict(in, name)
		if err != nil {
			return err
		}
		if err := c.recordAction(in, name); err != nil {
			return err
		}
		if err := fn(h.Manager, c, in); err != nil {
			return actionError(err, in.UUID)
		}
		return c.empty(status)
	}
}

var (
	confirmResize = resizeDecision("os_compute_api:servers:confirm_resize", "confirmResize", http.StatusNoContent,
		func(m *manager.Manager, c *call, in *Instance) error {
			return m.ConfirmResize(c.ctx, in.UUID, httpapi.RequestID(c.ctx))
		})
	revertResize = resizeDecision("os_compute_api:servers:revert_resize", "revertResize", http.StatusAccepted,
		func(m *manager.Manager, c *call, in *Instance) error {
			return m.RevertResize(c.ctx, in.UUID, httpapi.RequestID(c.ctx))
		})
)

func rebuildSchema(mv Microversion) *Schema {
	props := []Prop{
		{"imageRef", &Schema{Type: Types("string"), Format: "uuid"}},
		{"name", nameSchema()},
		{"adminPass", strSchema()},
		{"metadata", metadataSchema()},
		{"preserve_ephemeral", booleanSchema()},
		{"OS-DCF:diskConfig", &Schema{Type: Types("string"), Enum: []any{"AUTO", "MANUAL"}}},
		{"accessIPv4", accessIPv4()},
		{"accessIPv6", accessIPv6()},
	}
	if !mv.AtLeast(2, 57) {
		props = append(props, Prop{"personality", &Schema{Type: Types("array")}})
	}
	if mv.AtLeast(2, 19) {
		props = append(props, Prop{"description", descriptionSchema()})
	}
	if mv.AtLeast(2, 54) {
		props = append(props, Prop{"key_name", &Schema{Type: Types("string", "null"), MinLength: 1, MaxLength: 255, Format: "name"}})
	}
	if mv.AtLeast(2, 57) {
		props = append(props, Prop{"user_data", &Schema{Type: Types("string", "null"), MaxLength: 65535}})
	}
	if mv.AtLeast(2, 63) {
		props = append(props, Prop{"trusted_image_certificates", &Schema{Type: Types("array", "null")}})
	}
	if mv.AtLeast(2, 90) {
		props = append(props, Prop{"hostname", hostnameSchema()})
	}
	return &Schema{Type: Types("object"), Required: []string{"rebuild"}, Properties: []Prop{
		{"rebuild", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"imageRef"}, Properties: props}},
	}}
}

// rebuildServer is the rebuild action: the new image, name, metadata,
// key and user data are stored, then the manager rebuilds the disk.
func rebuildServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:servers:rebuild")
	if err != nil {
		return err
	}
	if err := precheck(in, "rebuild", manager.VMActive, manager.VMStopped, manager.VMError); err != nil {
		return err
	}
	body := c.obj("rebuild")
	p := &buildPlan{}
	if err := c.resolveImage(map[string]any{"imageRef": body["imageRef"]}, p); err != nil {
		if e, ok := httpapi.AsError(err); ok && e.Message == "Can not find requested image" {
			return httpapi.BadRequest("Cannot find image for rebuild")
		}
		return err
	}
	if err := manager.CheckImageFits(p.image, int(in.Flavor.MemoryMB), int(in.Flavor.RootGB)); err != nil {
		return httpapi.BadRequest("%s", err.Error())
	}
	cols := map[string]any{"image_ref": p.imageID}
	if v, ok := body["name"].(string); ok {
		cols["display_name"] = v
	}
	if v, ok := body["description"]; ok {
		cols["display_description"] = v
	}
	for k, col := range map[string]string{"accessIPv4": "access_ip_v4", "accessIPv6": "access_ip_v6",
		"OS-DCF:diskConfig": "disk_config", "hostname": "hostname"} {
		if v, ok := body[k].(string); ok {
			if strings.HasPrefix(col, "access_ip") {
				v = canonicalIP(v)
			}
			cols[col] = v
		}
	}
	if v, ok := body["key_name"]; ok {
		if v == nil {
			cols["key_name"], cols["key_data"] = nil, nil
		} else {
			if err := c.loadKey(map[string]any{"key_name": v}, p); err != nil {
				return err
			}
			cols["key_name"], cols["key_data"] = *p.keyName, *p.keyData
		}
	}
	if v, ok := body["user_data"]; ok {
		if s, ok := v.(string); ok {
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				return httpapi.BadRequest("Invalid input for field/attribute user_data. Value: %s. %s is not a 'base64'", s, pyRepr(s))
			}
		}
		cols["user_data"] = v
	}
	var meta map[string]string
	if m, ok := body["metadata"].(map[string]any); ok {
		meta = map[string]string{}
		for k, v := range m {
			meta[k], _ = v.(string)
		}
		if err := c.s.checkMetadataQuota(c.ctx, in.ProjectID, len(meta)); err != nil {
			return err
		}
	}
	h, err := c.hostOrConflict(in, "rebuild")
	if err != nil {
		return err
	}
	st := c.s.instances()
	if err := c.recordAction(in, "rebuild"); err != nil {
		return err
	}
	if err := st.setFields(c.ctx, in.UUID, cols); err != nil {
		return err
	}
	if meta != nil {
		if err := st.setMetadata(c.ctx, in.UUID, meta, true, -1); err != nil {
			return err
		}
	}
	if in, err = st.get(c.ctx, in.UUID, false); err != nil {
		return err
	}
	p.adminPass, _ = body["adminPass"].(string)
	if p.adminPass == "" {
		p.adminPass = randomPassword(12)
	}
	err = h.Manager.Rebuild(c.ctx, manager.RebuildRequest{RequestID: httpapi.RequestID(c.ctx), ProjectID: in.ProjectID,
		ImageID: p.imageID, Spec: specOf(in), ConfigDrive: c.s.configDriveFunc(in, p)})
	if err != nil {
		return actionError(err, in.UUID)
	}
	if in, err = st.get(c.ctx, in.UUID, false); err != nil {
		return err
	}
	v, err := c.serverView(in, viewReduced)
	if err != nil {
		return err
	}
	if err := c.addServerGroups(v, in); err != nil {
		return err
	}
	if c.mv.AtLeast(2, 54) {
		v["key_name"] = in.KeyName
	}
	if c.mv.AtLeast(2, 57) {
		v["user_data"] = in.UserData
		delete(v, "OS-EXT-SRV-ATTR:user_data")
	}
	if !c.s.deps().DisableInstancePassword {
		v["adminPass"] = p.adminPass
	}
	c.w.Header().Set("Location", c.links("servers", in.UUID)[0]["href"])
	return c.json(http.StatusAccepted, map[string]any{"server": v})
}

func createImageSchema(Microversion) *Schema {
	return &Schema{Type: Types("object"), Required: []string{"createImage"}, Properties: []Prop{
		{"createImage", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"name"}, Properties: []Prop{
			{"name", nameSchema()},
			{"metadata", metadataSchema()},
		}}},
	}}
}

// createImage snapshots the server into a new image: the image record is
// created queued at once, the manager uploads it.
func createImage(c *call) error {
	// Nova's snapshot has no lock check.
	in, err := c.loadServer("os_compute_api:servers:create_image")
	if err != nil {
		return err
	}
	if err := precheck(in, "createImage", manager.VMActive, manager.VMStopped, manager.VMPaused, manager.VMSuspended); err != nil {
		return err
	}
	h, err := c.hostOrConflict(in, "createImage")
	if err != nil {
		return err
	}
	body := c.obj("createImage")
	name, _ := body["name"].(string)
	// The properties Nova puts on a snapshot image.
	props := map[string]string{"image_type": "snapshot", "instance_uuid": in.UUID, "base_image_ref": in.ImageRef,
		"user_id": c.user(), "image_location": "snapshot"}
	if m, ok := body["metadata"].(map[string]any); ok {
		for k, v := range m {
			props[k], _ = v.(string)
		}
	}
	imageID, err := c.s.deps().Images.CreateSnapshot(c.ctx, in.ProjectID, name, props)
	if err != nil {
		return err
	}
	if err := c.recordAction(in, "createImage"); err != nil {
		return err
	}
	err = h.Manager.Snapshot(c.ctx, manager.SnapshotRequest{UUID: in.UUID, RequestID: httpapi.RequestID(c.ctx),
		ProjectID: in.ProjectID, ImageID: imageID})
	if err != nil {
		_ = c.s.deps().Images.DeleteImage(c.ctx, in.ProjectID, imageID)
		return actionError(err, in.UUID)
	}
	if c.mv.AtLeast(2, 45) {
		return c.json(http.StatusAccepted, map[string]any{"image_id": imageID})
	}
	c.w.Header().Set("Location", c.imageURL(imageID))
	return c.empty(http.StatusAccepted)
}

// imageURL is the Location Nova gives a snapshot before 2.45: the image
// under the compute API's image proxy.
func (c *call) imageURL(id string) string {
	return c.links("images", id)[0]["href"]
}
