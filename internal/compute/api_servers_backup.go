package compute

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// The createBackup action, as Nova's create_backup.py: a snapshot with
// image_type=backup and backup_type, after which the server's backups of
// that type beyond rotation are deleted, oldest first (Nova's
// _rotate_backups, run once the upload is done). rotation 0 takes no
// snapshot and only deletes the existing backups.
func init() {
	register(route{method: "POST", path: "/servers/{server_id}/action", actions: []action{
		{name: "createBackup", body: createBackupSchema, handle: createBackup},
	}})
}

func createBackupSchema(Microversion) *Schema {
	zero := 0.0
	return &Schema{Type: Types("object"), Required: []string{"createBackup"}, Properties: []Prop{
		{"createBackup", &Schema{Type: Types("object"), NoAdditional: true, Required: []string{"name", "backup_type", "rotation"}, Properties: []Prop{
			{"name", nameSchema()},
			{"backup_type", &Schema{Type: Types("string")}},
			{"rotation", &Schema{Type: Types("integer", "string"), Pattern: "^[0-9]+$", Minimum: &zero}},
			{"metadata", metadataSchema()},
		}}},
	}}
}

func createBackup(c *call) error {
	in, err := c.loadServer("os_compute_api:os-create-backup")
	if err != nil {
		return err
	}
	if err := precheck(in, "createBackup", manager.VMActive, manager.VMStopped, manager.VMPaused, manager.VMSuspended); err != nil {
		return err
	}
	body := c.obj("createBackup")
	name, _ := body["name"].(string)
	btype, _ := body["backup_type"].(string)
	rotation := intOf(body["rotation"])
	token := c.tok.ID
	rotate := func(ctx context.Context) {
		if err := c.s.rotateBackups(ctx, token, in.UUID, btype, rotation); err != nil {
			c.s.log.Error("rotate backups", "instance", in.UUID, "err", err)
		}
	}
	if rotation == 0 {
		rotate(c.ctx)
		return c.empty(http.StatusAccepted)
	}
	h, err := c.hostOrConflict(in, "createBackup")
	if err != nil {
		return err
	}
	props := map[string]string{"image_type": "backup", "backup_type": btype, "instance_uuid": in.UUID,
		"base_image_ref": in.ImageRef, "user_id": c.user(), "image_location": "snapshot"}
	if m, ok := body["metadata"].(map[string]any); ok {
		for k, v := range m {
			props[k], _ = v.(string)
		}
	}
	imageID, err := c.s.deps().Images.CreateSnapshot(c.ctx, in.ProjectID, name, props)
	if err != nil {
		return err
	}
	if err := c.recordAction(in, "createBackup"); err != nil {
		return err
	}
	err = h.Manager.Snapshot(c.ctx, manager.SnapshotRequest{UUID: in.UUID, RequestID: httpapi.RequestID(c.ctx),
		ProjectID: in.ProjectID, ImageID: imageID})
	if err != nil {
		_ = c.s.deps().Images.DeleteImage(c.ctx, in.ProjectID, imageID)
		return actionError(err, in.UUID)
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if err := h.Manager.Wait(ctx, in.UUID); err != nil {
			c.s.log.Error("wait for backup", "instance", in.UUID, "err", err)
			return
		}
		rotate(ctx)
	}()
	if c.mv.AtLeast(2, 45) {
		return c.json(http.StatusAccepted, map[string]any{"image_id": imageID})
	}
	c.w.Header().Set("Location", c.imageURL(imageID))
	return c.empty(http.StatusAccepted)
}

// rotateBackups deletes the instance's backups of btype beyond the
// rotation newest, as the caller (whose token made them).
func (s *Service) rotateBackups(ctx context.Context, token, instance, btype string, rotation int) error {
	g := s.glance()
	q := url.Values{"instance_uuid": {instance}, "image_type": {"backup"}, "backup_type": {btype},
		"sort_key": {"created_at"}, "sort_dir": {"desc"}, "limit": {"1000"}}
	var page struct {
		Images []map[string]any `json:"images"`
	}
	if err := g.doAs(ctx, token, "GET", "/v2/images?"+q.Encode(), "", nil, &page); err != nil {
		return err
	}
	// Checked here too: only this server's backups of this type go.
	var imgs []map[string]any
	for _, img := range page.Images {
		if img["instance_uuid"] == instance && img["image_type"] == "backup" && img["backup_type"] == btype {
			imgs = append(imgs, img)
		}
	}
	sort.SliceStable(imgs, func(i, j int) bool { return fmt.Sprint(imgs[i]["created_at"]) > fmt.Sprint(imgs[j]["created_at"]) })
	for i := rotation; i < len(imgs); i++ {
		if err := g.doAs(ctx, token, "DELETE", fmt.Sprintf("/v2/images/%s", imgs[i]["id"]), "", nil, nil); err != nil {
			return err
		}
	}
	return nil
}
