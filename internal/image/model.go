package image

import "time"

// Image is a Glance image. Pointer fields are the ones Glance shows as null
// until they are known (name, formats, size and the hashes of the data).
type Image struct {
	ID              string
	Name            *string
	Status          string
	Visibility      string
	Owner           *string
	DiskFormat      *string
	ContainerFormat *string
	Size            *int64
	VirtualSize     *int64
	Checksum        *string
	OSHashAlgo      *string
	OSHashValue     *string
	MinDisk         int64
	MinRAM          int64
	Protected       bool
	OSHidden        bool
	HasData         bool // the image's data is stored (Glance: it has a location)
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Properties      map[string]string // custom properties
	Tags            []string
	Stores          []string // the stores holding the data (image_locations)
}

// clone copies im deeply enough for a later diff: its properties and tags.
func (im *Image) clone() *Image {
	c := *im
	c.Properties = make(map[string]string, len(im.Properties))
	for k, v := range im.Properties {
		c.Properties[k] = v
	}
	c.Tags = append([]string(nil), im.Tags...)
	c.Stores = append([]string(nil), im.Stores...)
	return &c
}

// owner returns the owning project, "" when none.
func (im *Image) owner() string {
	if im.Owner == nil {
		return ""
	}
	return *im.Owner
}

// Member is one project an image is shared with.
type Member struct {
	ImageID   string
	MemberID  string
	Status    string // pending, accepted, rejected
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Image statuses, as Glance names them.
const (
	statusQueued      = "queued"
	statusSaving      = "saving"
	statusActive      = "active"
	statusKilled      = "killed"
	statusDeleted     = "deleted"
	statusDeactivated = "deactivated"
	statusUploading   = "uploading" // staged (glance-direct), waiting for import
	statusImporting   = "importing"
)

// Task is a Glance task; kumo creates them for image import
// (type api_image_import). Input and Result are JSON documents.
type Task struct {
	ID        string
	Type      string
	Status    string // pending, processing, success, failure
	Owner     string
	ImageID   string
	RequestID string
	UserID    string
	Input     map[string]any
	Result    map[string]any // nil until success
	Message   string
	ExpiresAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Glance's default [image_format] lists.
var (
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	imageStatuses    = []string{"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"}
	visibilities     = []string{"community", "public", "private", "shared"}
	memberStatuses   = []string{"pending", "accepted", "rejected"}
)

// Glance's per-image limits ([DEFAULT] image_property_quota, image_tag_quota,
// image_member_quota); going over one is a 413.
const (
	maxImageProperties = 128
	maxImageTags       = 128
	maxImageMembers    = 128
)
