-- Image locations: which stores hold an image's data (Glance's image
-- locations with their "store" metadata). Images stored before stores
-- existed are in the store "local" (DataDir/images).
CREATE TABLE image_locations (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    store    TEXT NOT NULL,
    PRIMARY KEY (image_id, store)
);
INSERT INTO image_locations (image_id, store)
    SELECT id, 'local' FROM images WHERE deleted = 0 AND has_data = 1;
