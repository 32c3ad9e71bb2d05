package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/scheduler"
	"kumo/internal/platform/httpapi"
)

// unshelveServer is Nova's unshelve: a shelved server is powered on on its
// host; a shelved_offloaded one is scheduled again (its flavor claimed in
// placement, its server group's policy respected) and built from its
// shelved image, which is deleted once it runs.
func unshelveServer(c *call) error {
	in, err := c.serverForAction("os_compute_api:os-shelve:unshelve")
	if err != nil {
		return err
	}
	body, _ := c.body.(map[string]any)
	req, _ := body["unshelve"].(map[string]any)
	zone, zoneGiven := "", false
	host := ""
	if c.mv.AtLeast(2, 77) && req != nil {
		if v, ok := req["availability_zone"]; ok {
			zoneGiven = true
			zone, _ = v.(string) // null (2.91) unpins
		}
	}
	if c.mv.AtLeast(2, 91) && req != nil {
		if h, ok := req["host"].(string); ok {
			if err := c.enforce("os_compute_api:os-shelve:unshelve_to_host", c.defaultTarget()); err != nil {
				return err
			}
			host = h
		}
	}
	if err := precheck(in, "unshelve", manager.VMShelved, manager.VMShelvedOffloaded); err != nil {
		return err
	}
	if in.VMState == manager.VMShelved && (zoneGiven || host != "") {
		return httpapi.Conflict("Specifying an availability zone or a host when unshelving server %s with status %s is not supported. The server status must be SHELVED_OFFLOADED.",
			in.UUID, in.VMState)
	}
	d := c.s.deps()
	if d == nil {
		return httpapi.Errorf(http.StatusServiceUnavailable, "No compute host is available.")
	}
	if host != "" {
		if _, ok := d.hostOf(host); !ok {
			return httpapi.BadRequest("Compute host %s could not be found.", host)
		}
	}
	if zone != "" {
		if err := c.checkZone(zone, &buildPlan{}); err != nil {
			return err
		}
	}
	imageID, err := c.s.shelvedImage(c.ctx, c.tok.ID, in)
	if err != nil {
		return err
	}
	rid := httpapi.RequestID(c.ctx)
	ureq := manager.UnshelveRequest{RequestID: rid, ProjectID: in.ProjectID, ImageID: imageID, Spec: specOf(in),
		ConfigDrive: c.s.configDriveFunc(in, nil)}
	if in.VMState == manager.VMShelved {
		h, err := c.hostOrConflict(in, "unshelve")
		if err != nil {
			return err
		}
		if err := c.recordAction(in, "unshelve"); err != nil {
			return err
		}
		if err := h.Manager.Unshelve(c.ctx, ureq); err != nil {
			return actionError(err, in.UUID)
		}
		return c.empty(http.StatusAccepted)
	}
	if err := c.s.checkUnshelveQuota(c.ctx, in); err != nil {
		return err
	}
	if err := c.recordAction(in, "unshelve"); err != nil {
		return err
	}
	// unshelving while the conductor's part (scheduling) runs, guarded as
	// Nova's expected_task_state so a racing action loses.
	st := c.s.instances()
	task := manager.TaskUnshelving
	err = st.Update(c.ctx, in.UUID, manager.Update{TaskState: &task, Expected: []string{manager.TaskNone},
		ExpectedVMStates: []string{manager.VMShelvedOffloaded}})
	if errors.Is(err, manager.ErrUnexpectedTaskState) {
		if cur, gerr := st.get(c.ctx, in.UUID, false); gerr == nil {
			err = precheck(cur, "unshelve", manager.VMShelved, manager.VMShelvedOffloaded)
		}
	}
	if err != nil {
		return actionError(err, in.UUID)
	}
	go c.s.unshelveOffloaded(in, ureq, zone, host)
	return c.empty(http.StatusAccepted)
}

// unshelveOffloaded is the conductor's part of an unshelve: schedule, then
// the chosen host's manager builds. It runs after the API answered.
func (s *Service) unshelveOffloaded(in *Instance, req manager.UnshelveRequest, zone, host string) {
	ctx := context.Background()
	st := s.instances()
	const ev = "schedule_instances"
	_ = st.StartEvent(ctx, in.UUID, req.RequestID, ev, s.now())
	h, err := s.scheduleUnshelve(ctx, in, zone, host)
	if err != nil {
		var nv *scheduler.NoValidHostError
		if !errors.As(err, &nv) {
			s.log.Error("schedule unshelve", "instance", in.UUID, "err", err)
		}
		// Nova's conductor: the instance stays shelved_offloaded, its
		// task_state back to None; the event says why.
		_ = st.FinishEvent(ctx, in.UUID, req.RequestID, ev, s.now(), manager.ResultError, ev+": "+err.Error())
		none := manager.TaskNone
		_ = st.Update(ctx, in.UUID, manager.Update{TaskState: &none, Expected: []string{manager.TaskUnshelving}})
		return
	}
	_ = st.FinishEvent(ctx, in.UUID, req.RequestID, ev, s.now(), manager.ResultSuccess, "")
	if err := h.Manager.Unshelve(ctx, req); err != nil {
		// Deleted meanwhile, most often: its new claim goes back.
		s.log.Warn("start unshelve", "instance", in.UUID, "err", err)
		if d := s.deps(); d != nil && d.Claims != nil {
			if rerr := d.Claims.Release(ctx, in.UUID); rerr != nil {
				s.log.Error("release claims of an unshelve that did not start", "instance", in.UUID, "err", rerr)
			}
		}
	}
}

// scheduleUnshelve places the instance (claiming its flavor) and records
// its new host, under its server group's lock when it has one.
func (s *Service) scheduleUnshelve(ctx context.Context, in *Instance, zone, host string) (ComputeHost, error) {
	d := s.deps()
	f := in.Flavor
	req := scheduler.Request{ConsumerUUIDs: []string{in.UUID}, ProjectID: in.ProjectID, UserID: in.UserID,
		Resources: map[string]int64{"VCPU": f.VCPUs, "MEMORY_MB": f.MemoryMB,
			"DISK_GB": f.RootGB + f.EphemeralGB + (f.Swap+1023)/1024},
		AvailabilityZone: zone, ForceHost: host, Traits: map[string]string{}}
	for k, v := range f.ExtraSpecs {
		if t, ok := strings.CutPrefix(k, "trait:"); ok {
			req.Traits[t] = v
		}
	}
	groupID, err := s.serverGroupOf(ctx, in.UUID)
	if err != nil {
		return ComputeHost{}, err
	}
	if groupID != "" {
		unlock := s.groups.lock(groupID)
		defer unlock()
		g, err := s.serverGroups().get(ctx, groupID)
		if err != nil {
			return ComputeHost{}, err
		}
		req.Group = g.SchedulerGroup(in.UUID)
	}
	sel, err := d.Scheduler.Schedule(ctx, req)
	if err != nil {
		return ComputeHost{}, err
	}
	if len(sel) != 1 {
		return ComputeHost{}, fmt.Errorf("scheduler chose %d hosts for one instance", len(sel))
	}
	name := sel[0].Host.Name
	h, ok := d.hostOf(name)
	az := sel[0].Host.AvailabilityZone
	if az == "" {
		az = defaultZone
	}
	if ok {
		err = s.instances().setFields(ctx, in.UUID, map[string]any{"host": name, "node": name, "availability_zone": az})
	} else {
		err = fmt.Errorf("compute host %s is not available", name)
	}
	if err != nil {
		if d.Claims != nil {
			if rerr := d.Claims.Release(ctx, in.UUID); rerr != nil {
				s.log.Error("release claims of an unplaced unshelve", "instance", in.UUID, "err", rerr)
			}
		}
		return ComputeHost{}, err
	}
	return h, nil
}

// imageFinder is an ImageService that lists a project's images whose
// properties match (id, name, created_at and the properties in each);
// without it the image service is asked over Glance's API with the
// caller's token.
type imageFinder interface {
	FindImages(ctx context.Context, projectID string, props map[string]string) ([]map[string]any, error)
}

// shelvedImage finds the image a server was shelved into: the
// shelved_image_id of its system metadata, as Nova; for a server shelved
// before kumo kept system metadata, the newest snapshot of the instance
// named "<name>-shelved" (or, after a rename, ending so).
func (s *Service) shelvedImage(ctx context.Context, token string, in *Instance) (string, error) {
	sys, err := s.instances().systemMetadata(ctx, in.UUID)
	if err != nil {
		return "", err
	}
	if id := sys[manager.SysShelvedImageID]; id != "" {
		return id, nil
	}
	props := map[string]string{"instance_uuid": in.UUID, "image_type": "snapshot"}
	var imgs []map[string]any
	if f, ok := s.deps().Images.(imageFinder); ok {
		var err error
		if imgs, err = f.FindImages(ctx, in.ProjectID, props); err != nil {
			return "", err
		}
	} else {
		q := url.Values{"limit": {"1000"}}
		for k, v := range props {
			q.Set(k, v)
		}
		var page struct {
			Images []map[string]any `json:"images"`
		}
		if err := s.glance().doAs(ctx, token, "GET", "/v2/images?"+q.Encode(), "", nil, &page); err != nil {
			return "", err
		}
		imgs = page.Images
	}
	var cands []map[string]any
	for _, img := range imgs {
		name, _ := img["name"].(string)
		if img["instance_uuid"] == in.UUID && strings.HasSuffix(name, shelvedSuffix) {
			cands = append(cands, img)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ni, nj := cands[i]["name"] == in.Name+shelvedSuffix, cands[j]["name"] == in.Name+shelvedSuffix
		if ni != nj {
			return ni
		}
		return fmt.Sprint(cands[i]["created_at"]) > fmt.Sprint(cands[j]["created_at"])
	})
	if len(cands) == 0 {
		// Nova fails the spawn when the image is gone; kumo refuses the
		// unshelve at once.
		return "", httpapi.Conflict("Shelved image of instance %s could not be found.", in.UUID)
	}
	id, _ := cands[0]["id"].(string)
	return id, nil
}
