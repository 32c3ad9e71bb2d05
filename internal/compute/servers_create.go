package compute

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/scheduler"
	"kumo/internal/platform/httpapi"
)

// buildPlan is a validated create request: what every instance of it
// shares.
type buildPlan struct {
	flavor    *Flavor
	imageID   string
	image     manager.ImageInfo
	keyName   *string
	keyData   *string
	keyType   string
	userData  *string
	adminPass string
	zone      string
	forceHost string
	meta      map[string]string
	tags      []string
	sgs       []string
	group     *scheduler.Group
	groupUUID string
	ignore    []string
	sameHosts []string
}

// createServer is POST /servers: Nova's checks in Nova's order, the
// instances stored as building/scheduling, 202, then scheduling and the
// builds in the background.
func createServer(c *call) error {
	d := c.s.deps()
	if d == nil || d.Scheduler == nil || d.Images == nil {
		return httpapi.Errorf(http.StatusServiceUnavailable, "Compute hosts are not available.")
	}
	body := c.obj("server")
	top, _ := c.body.(map[string]any)
	p := &buildPlan{}
	// user_data is checked with the schema in Nova (format base64).
	if ud, ok := body["user_data"].(string); ok {
		if _, err := base64.StdEncoding.DecodeString(ud); err != nil {
			return httpapi.BadRequest("Invalid input for field/attribute user_data. Value: %s. %s is not a 'base64'", ud, pyRepr(ud))
		}
		p.userData = &ud
	}
	minCount, maxCount := 1, 0
	if v, ok := body["min_count"]; ok {
		minCount = intOf(v)
	}
	if v, ok := body["max_count"]; ok {
		maxCount = intOf(v)
	} else {
		maxCount = minCount
	}
	if minCount > maxCount {
		return httpapi.BadRequest("min_count must be <= max_count")
	}
	if _, ok := body["hostname"]; ok && maxCount > 1 {
		return httpapi.BadRequest("Unable to allocate a single hostname to multiple instances")
	}
	zone, err := c.forcedHost(body, p)
	if err != nil {
		return err
	}
	if err := c.requestedDestination(body, p); err != nil {
		return err
	}
	// The flavor is looked up first, as Nova's servers controller does;
	// the rest follows compute API's _create_instance.
	fid := idFromHref(fmt.Sprint(body["flavorRef"]))
	proj := c.project()
	if c.admin {
		proj = ""
	}
	p.flavor, err = c.s.flavors().get(c.ctx, fid, proj)
	if errors.Is(err, errNotFound) {
		return httpapi.BadRequest("Flavor %s could not be found.", fid)
	}
	if err != nil {
		return err
	}
	if p.flavor.Disabled {
		return httpapi.BadRequest("Flavor is disabled.")
	}
	if p.flavor.ExtraSpecs, err = c.s.flavors().extraSpecs(c.ctx, p.flavor); err != nil {
		return err
	}
	if err := c.resolveImage(body, p); err != nil {
		return err
	}
	if err := c.loadKey(body, p); err != nil {
		return err
	}
	if err := c.checkZone(zone, p); err != nil {
		return err
	}
	if err := c.checkSecurityGroups(body, p); err != nil {
		return err
	}
	if err := c.checkNetworks(body); err != nil {
		return err
	}
	if err := manager.CheckImageFits(p.image, int(p.flavor.MemoryMB), int(p.flavor.RootGB)); err != nil {
		return httpapi.BadRequest("%s", err.Error())
	}
	p.meta = map[string]string{}
	if m, ok := body["metadata"].(map[string]any); ok {
		for k, v := range m {
			p.meta[k], _ = v.(string)
		}
	}
	if err := c.s.checkMetadataQuota(c.ctx, c.project(), len(p.meta)); err != nil {
		return err
	}
	for _, t := range listOf(body["tags"]) {
		p.tags = append(p.tags, t.(string))
	}
	if err := c.schedulerHints(top, p); err != nil {
		return err
	}
	// Nova builds as many instances up to max_count as the quota allows,
	// and refuses only when not even min_count fit.
	count, err := c.s.instanceQuotaCount(c.ctx, c.project(), minCount, maxCount, InstanceResources{
		VCPUs: int(p.flavor.VCPUs), MemoryMB: int(p.flavor.MemoryMB), DiskGB: int(diskGB(p.flavor))})
	if err != nil {
		return err
	}
	p.adminPass, _ = body["adminPass"].(string)
	if p.adminPass == "" {
		p.adminPass = randomPassword(12)
	}
	if p.groupUUID != "" {
		if err := c.s.checkServerGroupMembersQuota(c.ctx, p.groupUUID, count); err != nil {
			return err
		}
	}
	ins := c.newInstances(body, p, count)
	// The instances and their create actions in one transaction, grouped
	// with other writes.
	rid := httpapi.RequestID(c.ctx)
	uuids := make([]string, len(ins))
	st := c.s.instances()
	err = st.groupTx(c.ctx, func(tx *sql.Tx) error {
		if err := st.insertAllTx(c.ctx, tx, ins, p.meta, p.tags); err != nil {
			return err
		}
		for i, in := range ins {
			uuids[i] = in.UUID
			if err := createActionTx(c.ctx, tx, InstanceAction{InstanceUUID: in.UUID, RequestID: rid,
				Action: "create", ProjectID: c.project(), UserID: c.user(), StartTime: in.CreatedAt}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if p.groupUUID != "" {
		for _, u := range uuids {
			if err := c.s.addServerGroupMember(c.ctx, p.groupUUID, u); err != nil {
				return err
			}
		}
	}
	go c.s.buildAll(rid, ins, p)
	if b, _ := boolOf(body["return_reservation_id"]); b {
		return c.json(http.StatusAccepted, map[string]any{"reservation_id": ins[0].ReservationID})
	}
	srv := map[string]any{"id": ins[0].UUID, "links": c.links("servers", ins[0].UUID),
		"OS-DCF:diskConfig": ins[0].DiskConfig}
	if !d.DisableInstancePassword {
		srv["adminPass"] = p.adminPass
	}
	sgs := []map[string]string{}
	for _, g := range p.sgs {
		sgs = append(sgs, map[string]string{"name": g})
	}
	srv["security_groups"] = sgs
	c.w.Header().Set("Location", c.links("servers", ins[0].UUID)[0]["href"])
	return c.json(http.StatusAccepted, map[string]any{"server": srv})
}

// newInstances makes the rows of a request: Nova names the instances of
// a multiple create name-1, name-2...
func (c *call) newInstances(body map[string]any, p *buildPlan, count int) []*Instance {
	name, _ := body["name"].(string)
	resv := "r-" + randomLower(8)
	now := c.s.now()
	cd := ""
	if b, _ := boolOf(body["config_drive"]); b || c.s.deps().forceConfigDrive() {
		cd = "True"
	}
	disk := "MANUAL"
	if s, ok := body["OS-DCF:diskConfig"].(string); ok {
		disk = s
	}
	// Before 2.19 Nova sets the description to the name.
	desc := &name
	if c.mv.AtLeast(2, 19) {
		desc = nil
		if s, ok := body["description"].(string); ok {
			desc = &s
		}
	}
	hostname, _ := body["hostname"].(string)
	ins := make([]*Instance, count)
	for i := range ins {
		in := &Instance{UUID: newUUID(), ProjectID: c.project(), UserID: c.user(), Name: name, Description: desc,
			AZ: p.zone, ReservationID: resv, LaunchIndex: i, FlavorID: p.flavor.ID, Flavor: flavorCopy(p.flavor),
			ImageRef: p.imageID, KeyName: p.keyName, KeyData: p.keyData, UserData: p.userData, ConfigDrive: cd,
			VMState: manager.VMBuilding, TaskState: manager.TaskScheduling, SecurityGroups: p.sgs,
			DiskConfig: disk, CreatedAt: now}
		if count > 1 {
			in.Name = fmt.Sprintf("%s-%d", name, i+1)
		}
		v4, _ := body["accessIPv4"].(string)
		v6, _ := body["accessIPv6"].(string)
		in.AccessIPv4, in.AccessIPv6 = canonicalIP(v4), canonicalIP(v6)
		in.Hostname = hostname
		if in.Hostname == "" || count > 1 {
			in.Hostname = sanitizeHostname(in.Name, in.UUID)
		}
		ins[i] = in
	}
	return ins
}

func (d *Deps) forceConfigDrive() bool {
	return d != nil && d.ForceConfigDrive != nil && *d.ForceConfigDrive
}
