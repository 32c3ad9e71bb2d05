package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/scheduler"
)

// buildAll schedules a request's instances and starts their builds; it
// runs after the API answered.
func (s *Service) buildAll(rid string, ins []*Instance, p *buildPlan) {
	ctx := context.Background()
	d := s.deps()
	st := s.instances()
	f := p.flavor
	uuids := make([]string, len(ins))
	for i, in := range ins {
		uuids[i] = in.UUID
	}
	req := scheduler.Request{ConsumerUUIDs: uuids, ProjectID: ins[0].ProjectID, UserID: ins[0].UserID,
		Resources: map[string]int64{"VCPU": f.VCPUs, "MEMORY_MB": f.MemoryMB,
			"DISK_GB": diskGB(f)},
		AvailabilityZone: p.zone, ForceHost: p.forceHost, ImageProperties: p.image.Properties,
		Group: p.group, IgnoreHosts: p.ignore, Traits: map[string]string{}}
	for k, v := range f.ExtraSpecs {
		if t, ok := strings.CutPrefix(k, "trait:"); ok {
			req.Traits[t] = v
		}
	}
	if len(p.sameHosts) > 0 {
		req.ForceHost = p.sameHosts[0]
		for _, h := range p.sameHosts {
			if h != req.ForceHost {
				req.ForceHost = "\x00" // instances on different hosts: none fits
			}
		}
	}
	// The group's member hosts are read again under its lock: the view
	// taken by the API may be stale by now.
	unlock := func() {}
	if p.groupUUID != "" {
		unlock = s.groups.lock(p.groupUUID)
		g, err := s.serverGroups().get(ctx, p.groupUUID)
		if err != nil {
			unlock()
			s.log.Error("read server group", "request_id", rid, "group", p.groupUUID, "err", err)
			for _, in := range ins {
				s.rejectBuild(ctx, in.UUID, rid, err)
			}
			return
		}
		req.Group = g.SchedulerGroup(uuids...)
	}
	sel, err := d.Scheduler.Schedule(ctx, req)
	if err != nil {
		unlock()
		var nv *scheduler.NoValidHostError
		cause := error(&manager.NoValidHostError{})
		if errors.As(err, &nv) {
			cause = &manager.NoValidHostError{Reason: nv.Reason}
		} else {
			s.log.Error("schedule instances", "request_id", rid, "err", err)
		}
		for _, in := range ins {
			s.rejectBuild(ctx, in.UUID, rid, cause)
		}
		return
	}
	byUUID := map[string]*Instance{}
	for _, in := range ins {
		byUUID[in.UUID] = in
	}
	// Record every chosen host before the group's lock is released (the
	// members' hosts are what the next request's scheduling reads), then
	// start the builds.
	type placed struct {
		in *Instance
		h  ComputeHost
	}
	var builds []placed
	for _, x := range sel {
		in := byUUID[x.ConsumerUUID]
		h, ok := d.hostOf(x.Host.Name)
		if in == nil || !ok {
			s.rejectBuild(ctx, x.ConsumerUUID, rid, fmt.Errorf("compute host %s is not available", x.Host.Name))
			continue
		}
		if x.Host.AvailabilityZone != "" && in.AZ == "" {
			in.AZ = x.Host.AvailabilityZone
		}
		if in.AZ == "" {
			in.AZ = defaultZone
		}
		in.Host = x.Host.Name
		builds = append(builds, placed{in, h})
	}
	// Every host recorded in one transaction: a thousand instances of one
	// request would otherwise wait for a thousand commits in turn.
	gone := map[string]error{}
	err = st.groupTx(ctx, func(tx *sql.Tx) error {
		clear(gone)
		now := dbTime(st.now())
		for _, b := range builds {
			res, err := tx.ExecContext(ctx, `UPDATE instances SET host = ?, node = ?, availability_zone = ?, updated_at = ?
				WHERE uuid = ? AND deleted = 0`, b.in.Host, b.in.Host, b.in.AZ, now, b.in.UUID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				gone[b.in.UUID] = errNotFound // deleted while it was scheduled
			}
		}
		return nil
	})
	if err != nil {
		for _, b := range builds {
			gone[b.in.UUID] = err
		}
	}
	unlock()
	kept := builds[:0]
	for _, b := range builds {
		if err, ok := gone[b.in.UUID]; ok {
			s.releaseAfter(ctx, b.in.UUID, err)
			continue
		}
		kept = append(kept, b)
	}
	builds = kept
	for _, b := range builds {
		in, h := b.in, b.h
		err := h.Manager.Build(ctx, manager.BuildRequest{RequestID: rid, ProjectID: in.ProjectID, ImageID: in.ImageRef,
			Spec: specOf(in), ConfigDrive: s.configDriveFunc(in, p), Image: &p.image})
		if err != nil {
			s.releaseAfter(ctx, in.UUID, err)
		}
	}
}

// releaseAfter gives back the claim of an instance whose build could not
// start (most often: it was deleted while it was being scheduled).
func (s *Service) releaseAfter(ctx context.Context, uuid string, cause error) {
	if !errors.Is(cause, manager.ErrNotFound) && !errors.Is(cause, errNotFound) {
		s.log.Error("start build", "instance", uuid, "err", cause)
		s.rejectBuild(ctx, uuid, "", cause)
		return
	}
	if d := s.deps(); d != nil && d.Claims != nil {
		if err := d.Claims.Release(ctx, uuid); err != nil {
			s.log.Error("release claims of a deleted instance", "instance", uuid, "err", err)
		}
	}
}

// rejectBuild puts an unplaced instance in error with cause as its fault,
// through a manager when there is one (it also releases claims).
func (s *Service) rejectBuild(ctx context.Context, uuid, rid string, cause error) {
	d := s.deps()
	for _, h := range d.Hosts {
		if h.Manager != nil {
			if err := h.Manager.RejectBuild(ctx, uuid, rid, cause); err != nil && !errors.Is(err, manager.ErrNotFound) {
				s.log.Error("reject build", "instance", uuid, "err", err)
			}
			return
		}
	}
	st := s.instances()
	none := manager.TaskNone
	if err := st.Update(ctx, uuid, manager.Update{VMState: manager.VMError, TaskState: &none,
		ExpectedVMStates: []string{manager.VMBuilding}}); err != nil {
		return
	}
	_ = st.AddFault(ctx, uuid, manager.Fault{Code: 500, Message: cause.Error(), Created: s.now()})
	if d.Claims != nil {
		_ = d.Claims.Release(ctx, uuid)
	}
}
