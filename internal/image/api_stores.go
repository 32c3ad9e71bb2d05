package image

import (
	"errors"
	"net/http"

	"kumo/internal/platform/httpapi"
)

// Multiple stores (Glance's enabled_backends, filesystem stores): the
// store lists, and removing an image's data from one store. Without
// configured stores these doors answer 404, as Glance without
// enabled_backends.
var storeRoutes = []route{
	{pattern: "GET /v2/info/stores", handle: listStores},
	// 404 without stores comes before stores_info_detail, as Glance.
	{pattern: "GET /v2/info/stores/detail", handle: listStoresDetail},
	{pattern: "DELETE /v2/stores/{store_id}/{image_id}", parse: parseStoreDelete, target: loadImage, handle: deleteFromStore},
}

// errNoMultiStore is Glance's answer to the store lists without
// enabled_backends.
func errNoMultiStore() error { return httpapi.NotFound("Multi backend is not supported at this site.") }

// storeJSON is one store of /v2/info/stores: default is the string
// "true", as Glance writes it.
func storeJSON(st *fsStore) map[string]any {
	out := map[string]any{"id": st.ID}
	if st.Description != "" {
		out["description"] = st.Description
	}
	if st.Default {
		out["default"] = "true"
	}
	return out
}

// listStores is GET /v2/info/stores.
func listStores(c *call) error {
	if !c.s.stores.multi {
		return errNoMultiStore()
	}
	out := make([]any, 0, len(c.s.stores.list))
	for _, st := range c.s.stores.list {
		out = append(out, storeJSON(st))
	}
	return c.json(http.StatusOK, map[string]any{"stores": out})
}

// listStoresDetail is GET /v2/info/stores/detail (stores_info_detail,
// admin by default): each store's type and the file store's properties.
func listStoresDetail(c *call) error {
	if !c.s.stores.multi {
		return errNoMultiStore()
	}
	if err := c.enforce("stores_info_detail"); err != nil {
		return err
	}
	out := make([]any, 0, len(c.s.stores.list))
	for _, st := range c.s.stores.list {
		v := storeJSON(st)
		v["type"] = st.Type
		if st.swift != nil {
			// glance_store reports these in bytes (its defaults: 5120 and
			// 200 MiB); kumo stores no large objects, so the first is the cap.
			v["properties"] = map[string]any{"container": st.Container, "large_object_size": swiftMaxObject, "large_object_chunk_size": 200 << 20}
		} else {
			v["properties"] = map[string]any{"data_dir": st.Dir, "chunk_size": copyChunk, "thin_provisioning": false}
		}
		out = append(out, v)
	}
	return c.json(http.StatusOK, map[string]any{"stores": out})
}

// parseStoreDelete makes Glance's checks that come before the image
// lookup: multiple stores on, and a known store.
func parseStoreDelete(c *call) error {
	if !c.s.stores.multi {
		return httpapi.NotFound("The resource could not be found.")
	}
	if c.s.stores.get(c.param("store_id")) == nil {
		return httpapi.Conflict("The selected store %s is not available on this node.", c.param("store_id"))
	}
	return nil
}

// deleteFromStore is DELETE /v2/stores/{store_id}/{image_id} (Glance's
// delete_from_store): delete_image_location and ownership (policies.go),
// an active image, and never
// its last store. The database forgets the store first, then the file
// goes, so no reader is sent to a store without the data.
func deleteFromStore(c *call) error {
	if err := c.enforce("delete_image_location"); err != nil {
		return err
	}
	if err := c.checkMutable(); err != nil {
		return err
	}
	stID, id := c.param("store_id"), c.image.ID
	err := c.s.store.RemoveLocation(c.ctx, id, stID, c.s.now())
	switch {
	case errors.Is(err, errNotFound):
		return httpapi.NotFound("Failed to find image %s", id)
	case errors.Is(err, errNotActive):
		return httpapi.Conflict("It's not allowed to remove image data from store if image status is not 'active'")
	case errors.Is(err, errLastStore):
		return httpapi.Forbidden("Cannot delete image data from the only store containing it. Consider deleting the image instead if you want to remove all image data")
	case errors.Is(err, errNotInStore):
		return httpapi.NotFound("Image %s is not stored in store %s.", id, stID)
	case err != nil:
		return err
	}
	if err := c.s.stores.get(stID).remove(c.ctx, id); err != nil {
		c.s.log.Warn("image: removing image data from store", "image", id, "store", stID, "err", err)
	}
	return c.noContent()
}
