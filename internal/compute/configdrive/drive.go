// Package configdrive builds Nova's config drive: an ISO9660 image
// labelled "config-2" carrying the instance's metadata in the
// "openstack" and "ec2" layouts, written in Go so no genisoimage is
// needed at run time.
package configdrive

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// VolumeID is the label cloud-init and blkid look for.
const VolumeID = "config-2"

// MaxUserData is Nova's limit on decoded user data.
const MaxUserData = 64 << 10

// Key is a Nova keypair as meta_data.json lists it.
type Key struct {
	Name string `json:"name"`
	Type string `json:"type"` // "ssh" or "x509"
	Data string `json:"data"`
}

// Metadata is what an instance's config drive says about it.
type Metadata struct {
	UUID             string
	Name             string // display name
	Hostname         string
	AvailabilityZone string
	ProjectID        string
	LaunchIndex      int
	PublicKeys       []Key             // Nova has one (the server's key_name); EC2 shows the first
	Meta             map[string]string // server metadata
	UserData         []byte            // decoded; nil means none
	AdminPass        string            // written only when set
	Network          NetworkData
	VendorData       map[string]any // vendor_data.json; nil is {}

	// EC2-style fields of ec2/<version>/meta-data.json.
	EC2InstanceID  string // "i-0000000a"
	EC2ImageID     string // "ami-00000001"
	ReservationID  string // "r-abcd1234"
	InstanceType   string // flavor name
	SecurityGroups []string
	LocalIPv4      string
	PublicIPv4     string
	RootDevice     string // "/dev/vda" when empty

	Now  time.Time // stamps every record of the image; required (1900-2155)
	Rand io.Reader // source of random_seed; crypto/rand when nil
}

// OpenStack metadata versions Nova lists, oldest first; "latest" follows.
var OpenStackVersions = []string{
	"2012-08-10", // Folsom
	"2013-04-04", // Grizzly: random_seed
	"2013-10-17", // Havana: vendor_data.json
	"2015-10-15", // Liberty: network_data.json, project_id
	"2016-06-30", // Newton: devices
	"2016-10-06", // Newton: vendor_data2.json
	"2017-02-22", // Ocata
	"2018-08-27", // Rocky
	"2020-10-14", // Victoria: dedicated_cpus
}

// EC2Versions are the EC2 versions Nova puts on a config drive (its
// config_drive_skip_versions default leaves out all older ones).
var EC2Versions = []string{"2009-04-04"}

// Build returns the config drive image for md.
func Build(md Metadata) ([]byte, error) {
	files, err := Files(md)
	if err != nil {
		return nil, err
	}
	return BuildISO(files, VolumeID, md.Now)
}

// Files is the drive's content, as paths and bytes.
func Files(md Metadata) ([]File, error) {
	switch {
	case md.UUID == "":
		return nil, errors.New("configdrive: uuid is required")
	case len(md.UserData) > MaxUserData:
		return nil, fmt.Errorf("configdrive: user data is %d bytes, more than %d", len(md.UserData), MaxUserData)
	}
	rnd := md.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var files []File
	add := func(path string, v any) error {
		b, err := marshal(v)
		if err != nil {
			return fmt.Errorf("configdrive: %s: %w", path, err)
		}
		files = append(files, File{Path: path, Data: b})
		return nil
	}
	for _, v := range slices.Concat(EC2Versions, []string{"latest"}) {
		if md.UserData != nil {
			files = append(files, File{Path: "ec2/" + v + "/user-data", Data: md.UserData})
		}
		if err := add("ec2/"+v+"/meta-data.json", ec2MetaData(md)); err != nil {
			return nil, err
		}
	}
	vendor := md.VendorData
	if vendor == nil {
		vendor = map[string]any{}
	}
	for i, v := range slices.Concat(OpenStackVersions, []string{"latest"}) {
		dir := "openstack/" + v + "/"
		m, err := metaData(md, i, rnd)
		if err != nil {
			return nil, err
		}
		if err := add(dir+"meta_data.json", m); err != nil {
			return nil, err
		}
		if md.UserData != nil {
			files = append(files, File{Path: dir + "user_data", Data: md.UserData})
		}
		if i >= since("2013-10-17") {
			if err := add(dir+"vendor_data.json", vendor); err != nil {
				return nil, err
			}
		}
		if i >= since("2015-10-15") {
			if err := add(dir+"network_data.json", md.Network.normalized()); err != nil {
				return nil, err
			}
		}
		if i >= since("2016-10-06") {
			// vendor_data2.json holds each vendordata provider's answer;
			// kumo has only the static one.
			if err := add(dir+"vendor_data2.json", map[string]any{"static": vendor}); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

// since is the index of an OpenStack version; "latest" is past the end.
func since(v string) int {
	for i, x := range OpenStackVersions {
		if x == v {
			return i
		}
	}
	panic("configdrive: unknown version " + v)
}

// metaData is meta_data.json for the version at index vi, with the
// fields Nova adds in each version.
func metaData(md Metadata, vi int, rnd io.Reader) (map[string]any, error) {
	m := map[string]any{
		"uuid":              md.UUID,
		"hostname":          md.Hostname,
		"name":              md.Name,
		"launch_index":      md.LaunchIndex,
		"availability_zone": md.AvailabilityZone,
	}
	if len(md.Meta) > 0 {
		m["meta"] = md.Meta
	}
	if md.AdminPass != "" {
		m["admin_pass"] = md.AdminPass
	}
	if len(md.PublicKeys) > 0 {
		pk := map[string]string{}
		for _, k := range md.PublicKeys {
			pk[k.Name] = k.Data
		}
		m["public_keys"] = pk
		m["keys"] = md.PublicKeys
	}
	if vi >= since("2013-04-04") {
		seed := make([]byte, 512)
		if _, err := io.ReadFull(rnd, seed); err != nil {
			return nil, fmt.Errorf("configdrive: random seed: %w", err)
		}
		m["random_seed"] = base64.StdEncoding.EncodeToString(seed)
	}
	if vi >= since("2015-10-15") {
		m["project_id"] = md.ProjectID
	}
	if vi >= since("2016-06-30") {
		m["devices"] = []any{} // kumo has no tagged devices
	}
	if vi >= since("2020-10-14") {
		m["dedicated_cpus"] = []int{}
	}
	return m, nil
}

// ec2MetaData is ec2/<version>/meta-data.json (2009-04-04 fields).
func ec2MetaData(md Metadata) map[string]any {
	root := md.RootDevice
	if root == "" {
		root = "/dev/vda"
	}
	sg := md.SecurityGroups
	if sg == nil {
		sg = []string{}
	}
	m := map[string]any{
		"ami-id":               md.EC2ImageID,
		"ami-launch-index":     md.LaunchIndex,
		"ami-manifest-path":    "FIXME",
		"instance-id":          md.EC2InstanceID,
		"hostname":             md.Hostname,
		"local-ipv4":           md.LocalIPv4,
		"reservation-id":       md.ReservationID,
		"security-groups":      sg,
		"local-hostname":       md.Hostname,
		"public-hostname":      md.Hostname,
		"public-ipv4":          md.PublicIPv4,
		"instance-type":        md.InstanceType,
		"block-device-mapping": map[string]string{"ami": strings.TrimPrefix(root, "/dev/"), "root": root},
		"placement":            map[string]string{"availability-zone": md.AvailabilityZone},
		"instance-action":      "none",
	}
	if len(md.PublicKeys) > 0 {
		// Nova's EC2 view shows the instance's (first) key only.
		m["public-keys"] = map[string]any{"0": map[string]string{"openssh-key": md.PublicKeys[0].Data}}
	}
	return m
}

// marshal is JSON without HTML escaping, as Python's json.dumps writes it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
