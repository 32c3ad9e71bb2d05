package image

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"

	"kumo/internal/platform/httpapi"
)

// importImage is POST /v2/images/{id}/import (Glance's
// ImagesController.import_image and the start of its api_image_import
// flow), for glance-direct and copy-image.
func importImage(c *call) error {
	req := c.input.(importRequest)
	im := c.image
	project := c.project()
	copying := req.method == methodCopyImage
	// enforce_image_size_total first (delta 0), as Glance.
	if lim, ok, err := c.s.limit(c.ctx, project, quotaImageSizeTotal); err != nil {
		return err
	} else if ok {
		if err := (&sizeQuota{s: c.s, project: project, limit: lim}).check(c.ctx, 0); err != nil {
			return err
		}
	}
	switch {
	case im.Status == statusActive && !copying:
		return httpapi.Conflict("Image with status active cannot be target for import")
	case im.Status != statusActive && copying:
		return httpapi.Conflict("Only images with status active can be targeted for copying")
	case im.Status != statusUploading && !copying:
		return httpapi.Conflict("Image needs to be staged before 'glance-direct' method can be used")
	case im.ContainerFormat == nil || *im.ContainerFormat == "":
		return httpapi.Conflict("'container_format' needs to be set before import")
	case im.DiskFormat == nil || *im.DiskFormat == "":
		return httpapi.Conflict("'disk_format' needs to be set before import")
	}
	// copy_image (admin by default) decides who may copy; any other
	// import needs modify_image and ownership.
	if copying {
		if err := c.enforce("copy_image"); err != nil {
			return err
		}
	} else {
		if err := c.enforce("modify_image"); err != nil {
			return err
		}
		if err := c.checkMutable(); err != nil {
			return err
		}
	}
	if _, ok := im.Properties[propImportTask]; ok {
		return httpapi.Conflict("Image has active task")
	}
	targets, err := c.importStores(req.body)
	if err != nil {
		return err
	}
	allStores, _ := req.body["all_stores"].(bool)
	if copying && allStores {
		// Stores already holding the data are skipped; none left: done.
		targets = slices.DeleteFunc(targets, func(st string) bool { return slices.Contains(im.Stores, st) })
		if len(targets) == 0 {
			c.w.WriteHeader(http.StatusAccepted)
			return nil
		}
	}
	if copying && !allStores {
		for _, st := range im.Stores {
			if slices.Contains(targets, st) {
				return httpapi.BadRequest("Image is already present at store '%s'", st)
			}
		}
	}
	if v, ok := req.body["all_stores_must_succeed"].(bool); ok && !v && !c.s.stores.multi {
		return httpapi.BadRequest("All_stores_must_succeed can only be set with enabled_backends None")
	}
	// Staging still streaming (uploading, but no staged file yet).
	if !copying {
		if _, err := os.Stat(c.s.stagingPath(im.ID)); err != nil {
			return httpapi.Conflict("Image needs to be staged before 'glance-direct' method can be used")
		}
		// The size the import will add, checked now (Glance: assert_quota).
		if lim, ok, err := c.s.limit(c.ctx, project, quotaImageSizeTotal); err != nil {
			return err
		} else if ok && im.Size != nil {
			if err := (&sizeQuota{s: c.s, project: project, limit: lim}).check(c.ctx, *im.Size); err != nil {
				return err
			}
		}
	}
	if err := c.enforce("add_task"); err != nil {
		return err
	}
	backend := []any{nil} // Glance's task input without enabled_backends
	if c.s.stores.multi {
		backend = make([]any, len(targets))
		for i, st := range targets {
			backend[i] = st
		}
	}
	now := c.s.now()
	task := &Task{ID: newUUID(), Type: taskTypeImport, Status: "pending", Owner: project, ImageID: im.ID,
		RequestID: httpapi.RequestID(c.ctx), UserID: c.tok.UserID,
		Input:     map[string]any{"image_id": im.ID, "import_req": req.body, "backend": backend},
		CreatedAt: now, UpdatedAt: now}
	if err := c.s.store.CreateTask(c.ctx, task); err != nil {
		return err
	}
	// Lock, and the store lists: the stores to do (none listed with one
	// store, as Glance), and the earlier failures minus the stores
	// tried again.
	from := im.Status
	im.Properties[propImportTask] = task.ID
	im.Properties[propImporting] = ""
	if c.s.stores.multi {
		im.Properties[propImporting] = strings.Join(targets, ",")
	}
	im.Properties[propFailedImport] = strings.Join(slices.DeleteFunc(splitStores(im.Properties[propFailedImport]),
		func(st string) bool { return slices.Contains(targets, st) }), ",")
	if !copying {
		im.Status = statusImporting
	}
	im.UpdatedAt = now
	if err := c.s.store.SaveData(c.ctx, im, from, propImportTask, propImporting, propFailedImport); err != nil {
		c.s.finishTask(context.WithoutCancel(c.ctx), task, errors.New("image changed before the import started"))
		if errors.Is(err, errStale) || errors.Is(err, errNotFound) {
			return httpapi.Conflict("New operation on image '%s' is not permitted as prior operation is still in progress", im.ID)
		}
		return err
	}
	c.s.imports.start(func(ctx context.Context) { c.s.runImport(ctx, task) })
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

// importStores is Glance's get_stores_from_request: all_stores, else the
// body's stores, else X-Image-Meta-Store, else the default store. Without
// multiple stores it is the one store.
func (c *call) importStores(body map[string]any) ([]string, error) {
	if !c.s.stores.multi {
		return []string{c.s.stores.def().ID}, nil
	}
	header := c.r.Header.Get("X-Image-Meta-Store")
	raw, hasStores := body["stores"]
	var out []string
	if all, _ := body["all_stores"].(bool); all {
		if hasStores || header != "" {
			return nil, httpapi.BadRequest("All_stores parameter can't be used with x-image-meta-store header or stores parameter")
		}
		out = c.s.stores.ids()
	} else if hasStores {
		if header != "" {
			return nil, httpapi.BadRequest("Stores parameter and x-image-meta-store header can't be both specified")
		}
		list, ok := raw.([]any)
		if !ok {
			return nil, httpapi.BadRequest("Invalid stores parameter: it must be a list of store identifiers")
		}
		for _, v := range list {
			st, ok := v.(string)
			if !ok {
				return nil, httpapi.BadRequest("Invalid stores parameter: it must be a list of store identifiers")
			}
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	} else if header != "" {
		out = []string{header}
	} else {
		out = []string{c.s.stores.def().ID}
	}
	for _, st := range out {
		if c.s.stores.get(st) == nil {
			return nil, httpapi.Conflict("Unknown scheme '%s' found in URI", st)
		}
	}
	if len(out) == 0 {
		return nil, httpapi.BadRequest("Invalid stores parameter: it must name at least one store")
	}
	return out, nil
}

// splitStores reads a comma-separated store list property.
func splitStores(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
