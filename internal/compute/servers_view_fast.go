package compute

import (
	"fmt"
	"slices"
	"strconv"

	"kumo/internal/compute/manager"
)

// The servers list views written straight to JSON: serverViewFrom's full
// view and the brief {id, links, name}, byte for byte what Marshal writes
// of them (servers_view_fast_test.go compares the two), for a page at a
// time. Policy answers depend on the caller and the server's project and
// user only, so a page asks once per owner, not once per server.

// listEnc writes one page of one request.
type listEnc struct {
	c                      *call
	serverSelf, serverBook string // link prefixes, id appended
	imageBook, flavorBook  string
	rules                  map[string]ownerRules // by project + "\x00" + user
	hostKnown              map[string]bool
	hostIDs                map[string]string // by project + "\x00" + host
	last                   *Instance         // the last server owner() saw
	lastRules              ownerRules
	// variant is what, beside the owner's rules, makes two requests'
	// views of one server version differ: microversion, admin (fault
	// details) and the links' prefixes.
	variant      string
	briefVariant string // the index view's: the links' prefixes
}

// ownerRules are the per-server policy answers for one owner.
type ownerRules struct{ attrs, hostStatus, specs bool }

func newListEnc(c *call) *listEnc {
	proj := ""
	if c.urlProject != "" {
		proj = "/" + c.urlProject
	}
	root, vroot := c.root(), c.versionRoot()
	e := &listEnc{c: c, serverSelf: vroot + proj + "/servers/", serverBook: root + proj + "/servers/",
		imageBook: root + proj + "/images/", flavorBook: root + proj + "/flavors/",
		rules: map[string]ownerRules{}, hostKnown: map[string]bool{},
		hostIDs: map[string]string{}}
	e.variant = fmt.Sprintf("%d.%d %t %s %s", c.mv.Major, c.mv.Minor, c.admin, vroot, root+proj)
	e.briefVariant = e.serverSelf + " " + e.serverBook
	return e
}

// owner returns the policy answers for in's project and user.
func (e *listEnc) owner(in *Instance) ownerRules {
	if e.last != nil && e.last.ProjectID == in.ProjectID && e.last.UserID == in.UserID {
		return e.lastRules // a page is mostly one owner's
	}
	k := in.ProjectID + "\x00" + in.UserID
	r, ok := e.rules[k]
	if !ok {
		r = e.evalOwner(in)
		e.rules[k] = r
	}
	e.last, e.lastRules = in, r
	return r
}

func (e *listEnc) evalOwner(in *Instance) ownerRules {
	t := map[string]any{"project_id": in.ProjectID, "user_id": in.UserID}
	r := ownerRules{attrs: e.c.allowed("os_compute_api:os-extended-server-attributes", t)}
	if e.c.mv.AtLeast(2, 16) {
		r.hostStatus = e.c.allowed("os_compute_api:servers:show:host_status", t)
	}
	if e.c.mv.AtLeast(2, 47) {
		r.specs = e.c.allowed("os_compute_api:servers:show:flavor-extra-specs", t)
	}
	return r
}

// hostStatus is extendedView's host_status of a host.
func (e *listEnc) hostStatus(host string) string {
	if host == "" {
		return ""
	}
	known, ok := e.hostKnown[host]
	if !ok {
		_, known = e.c.s.deps().hostOf(host)
		e.hostKnown[host] = known
	}
	if known {
		return "UP"
	}
	return "UNKNOWN"
}

// srvRow is what the fields of one server read.
type srvRow struct {
	in     *Instance
	status string
	rules  ownerRules
	fault  *manager.Fault
	meta   map[string]string
	tags   []string
}

// srvField is one member of the full view: written when has (nil: always)
// says so.
type srvField struct {
	key string
	has func(e *listEnc, r *srvRow) bool
	val func(e *listEnc, r *srvRow, b []byte) []byte
}

func atLeast(major, minor int) func(e *listEnc, r *srvRow) bool {
	return func(e *listEnc, _ *srvRow) bool { return e.c.mv.AtLeast(major, minor) }
}

func lit(s string) func(*listEnc, *srvRow, []byte) []byte {
	return func(_ *listEnc, _ *srvRow, b []byte) []byte { return append(b, s...) }
}

func attrs(e *listEnc, r *srvRow) bool { return r.rules.attrs }

func attrs23(e *listEnc, r *srvRow) bool { return r.rules.attrs && e.c.mv.AtLeast(2, 3) }

// srvFields are the full view's members in Marshal's order (sorted by
// key at init); serverViewFrom and extendedView say when each is there.
var srvFields = func() []srvField {
	fs := []srvField{
		{"id", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.UUID) }},
		{"name", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.Name) }},
		{"status", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.status) }},
		{"tenant_id", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.ProjectID) }},
		{"user_id", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.UserID) }},
		{"metadata", nil, func(e *listEnc, r *srvRow, b []byte) []byte { return appendStrMap(b, r.meta) }},
		{"hostId", nil, func(e *listEnc, r *srvRow, b []byte) []byte {
			k := r.in.ProjectID + "\x00" + r.in.Host
			id, ok := e.hostIDs[k]
			if !ok {
				id = hostID(r.in.ProjectID, r.in.Host)
				e.hostIDs[k] = id
			}
			return appendStr(b, id)
		}},
		{"image", nil, func(e *listEnc, r *srvRow, b []byte) []byte {
			if r.in.ImageRef == "" {
				return append(b, `""`...)
			}
			b = append(b, `{"id":`...)
			b = appendStr(b, r.in.ImageRef)
			b = append(b, `,"links":[`...)
			b = appendLink(b, e.imageBook, r.in.ImageRef, "bookmark")
			return append(b, "]}"...)
		}},
		{"flavor", nil, (*listEnc).flavor},
		{"created", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendISO(b, r.in.CreatedAt) }},
		{"updated", nil, func(_ *listEnc, r *srvRow, b []byte) []byte {
			if r.in.UpdatedAt.IsZero() {
				return appendISO(b, r.in.CreatedAt)
			}
			return appendISO(b, r.in.UpdatedAt)
		}},
		{"addresses", nil, lit("{}")},
		{"accessIPv4", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.AccessIPv4) }},
		{"accessIPv6", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.AccessIPv6) }},
		{"links", nil, func(e *listEnc, r *srvRow, b []byte) []byte { return e.serverLinks(b, r.in.UUID) }},
		{"OS-DCF:diskConfig", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.DiskConfig) }},
		{"progress", func(_ *listEnc, r *srvRow) bool { return progressStatuses[r.status] }, lit("0")},
		{"fault", func(_ *listEnc, r *srvRow) bool { return r.fault != nil }, (*listEnc).fault},
		{"locked", atLeast(2, 9), func(_ *listEnc, r *srvRow, b []byte) []byte { return appendBool(b, r.in.Locked) }},
		{"description", atLeast(2, 19), func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendStrPtr(b, r.in.Description)
		}},
		{"tags", atLeast(2, 26), func(e *listEnc, r *srvRow, b []byte) []byte {
			b = append(b, '[')
			for i, t := range r.tags {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendStr(b, t)
			}
			return append(b, ']')
		}},
		{"trusted_image_certificates", atLeast(2, 63), lit("null")},
		{"locked_reason", atLeast(2, 73), func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendStrPtr(b, r.in.LockedReason)
		}},
		// extendedView
		{"OS-EXT-AZ:availability_zone", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.AZ) }},
		{"config_drive", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.ConfigDrive) }},
		{"key_name", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStrPtr(b, r.in.KeyName) }},
		{"OS-SRV-USG:launched_at", nil, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendOptTime(b, r.in.LaunchedAt)
		}},
		{"OS-SRV-USG:terminated_at", nil, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendOptTime(b, r.in.TerminatedAt)
		}},
		{"OS-EXT-STS:task_state", nil, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendNullable(b, r.in.TaskState)
		}},
		{"OS-EXT-STS:vm_state", nil, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.VMState) }},
		{"OS-EXT-STS:power_state", nil, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return strconv.AppendInt(b, int64(r.in.PowerState), 10)
		}},
		{"os-extended-volumes:volumes_attached", nil, lit("[]")},
		{"security_groups", func(_ *listEnc, r *srvRow) bool { return len(r.in.SecurityGroups) > 0 },
			func(_ *listEnc, r *srvRow, b []byte) []byte {
				b = append(b, '[')
				for i, g := range r.in.SecurityGroups {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, `{"name":`...)
					b = appendStr(b, g)
					b = append(b, '}')
				}
				return append(b, ']')
			}},
		{"OS-EXT-SRV-ATTR:host", attrs, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendNullable(b, r.in.Host) }},
		{"OS-EXT-SRV-ATTR:hypervisor_hostname", attrs, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendNullable(b, r.in.Node)
		}},
		{"OS-EXT-SRV-ATTR:instance_name", attrs, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendStr(b, r.in.instanceName())
		}},
		{"OS-EXT-SRV-ATTR:reservation_id", attrs23, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendStr(b, r.in.ReservationID)
		}},
		{"OS-EXT-SRV-ATTR:launch_index", attrs23, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return strconv.AppendInt(b, int64(r.in.LaunchIndex), 10)
		}},
		{"OS-EXT-SRV-ATTR:kernel_id", attrs23, lit(`""`)},
		{"OS-EXT-SRV-ATTR:ramdisk_id", attrs23, lit(`""`)},
		{"OS-EXT-SRV-ATTR:hostname", func(e *listEnc, r *srvRow) bool {
			return attrs23(e, r) || !r.rules.attrs && e.c.mv.AtLeast(2, 90)
		}, func(_ *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, r.in.Hostname) }},
		{"OS-EXT-SRV-ATTR:root_device_name", attrs23, lit(`"/dev/vda"`)},
		{"OS-EXT-SRV-ATTR:user_data", attrs23, func(_ *listEnc, r *srvRow, b []byte) []byte {
			return appendStrPtr(b, r.in.UserData)
		}},
		{"host_status", func(_ *listEnc, r *srvRow) bool { return r.rules.hostStatus },
			func(e *listEnc, r *srvRow, b []byte) []byte { return appendStr(b, e.hostStatus(r.in.Host)) }},
	}
	slices.SortFunc(fs, func(a, b srvField) int { return cmpStr(a.key, b.key) })
	return fs
}()

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// serverLinks is c.links("servers", id).
func (e *listEnc) serverLinks(b []byte, id string) []byte {
	b = append(b, '[')
	b = appendLink(b, e.serverSelf, id, "self")
	b = append(b, ',')
	b = appendLink(b, e.serverBook, id, "bookmark")
	return append(b, ']')
}

// flavor is serverFlavorView.
func (e *listEnc) flavor(r *srvRow, b []byte) []byte {
	in := r.in
	if !e.c.mv.AtLeast(2, 47) {
		b = append(b, `{"id":`...)
		b = appendStr(b, in.FlavorID)
		b = append(b, `,"links":[`...)
		b = appendLink(b, e.flavorBook, in.FlavorID, "bookmark")
		return append(b, "]}"...)
	}
	f := &in.Flavor
	b = append(b, `{"disk":`...)
	b = strconv.AppendInt(b, f.RootGB, 10)
	b = append(b, `,"ephemeral":`...)
	b = strconv.AppendInt(b, f.EphemeralGB, 10)
	if r.rules.specs {
		b = append(b, `,"extra_specs":`...)
		b = appendStrMap(b, f.ExtraSpecs)
	}
	b = append(b, `,"original_name":`...)
	b = appendStr(b, f.Name)
	b = append(b, `,"ram":`...)
	b = strconv.AppendInt(b, f.MemoryMB, 10)
	b = append(b, `,"swap":`...)
	b = strconv.AppendInt(b, f.Swap, 10)
	b = append(b, `,"vcpus":`...)
	b = strconv.AppendInt(b, f.VCPUs, 10)
	return append(b, '}')
}

// fault is the view's fault: details for a non-500 fault, or to admins.
func (e *listEnc) fault(r *srvRow, b []byte) []byte {
	f := r.fault
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(f.Code), 10)
	b = append(b, `,"created":`...)
	b = appendISO(b, f.Created)
	if f.Details != "" && (f.Code != 500 || e.c.admin) {
		b = append(b, `,"details":`...)
		b = appendStr(b, f.Details)
	}
	b = append(b, `,"message":`...)
	b = appendStr(b, f.Message)
	return append(b, '}')
}

// renderedView is a server's detail view for one variant and owner rules,
// with host_status's value left out at hole (-1: not shown): a host's
// status changes without a write to its servers.
type renderedView struct {
	variant string
	rules   ownerRules
	b       []byte
	hole    int
}

// detail appends the full view of p (viewFull of serverViewFrom). p keeps
// the last view written of it: the next request of the same variant
// copies it, as p's version has not changed (a write makes a new pageRow).
func (e *listEnc) detail(b []byte, p *pageRow) []byte {
	rules := e.owner(p.in)
	v := p.view.Load()
	if v == nil || v.rules != rules || v.variant != e.variant {
		start := len(b)
		var hole int
		b, hole = e.render(b, p, rules)
		v = &renderedView{variant: e.variant, rules: rules, b: slices.Clone(b[start:]), hole: hole}
		p.view.Store(v)
		b = b[:start]
	}
	if v.hole < 0 {
		return append(b, v.b...)
	}
	b = append(b, v.b[:v.hole]...)
	b = appendStr(b, e.hostStatus(p.in.Host))
	return append(b, v.b[v.hole:]...)
}

// render appends the full view of p without host_status's value, and
// where that value goes (-1: nowhere), from the start of the view.
func (e *listEnc) render(b []byte, p *pageRow, rules ownerRules) ([]byte, int) {
	in := p.in
	start, hole := len(b), -1
	r := srvRow{in: in, status: pageStatus(in), rules: rules, meta: p.meta, tags: p.tags}
	if r.status == "ERROR" || r.status == "DELETED" {
		r.fault = p.fault
	}
	b = append(b, '{')
	first := true
	for i := range srvFields {
		f := &srvFields[i]
		if f.has != nil && !f.has(e, &r) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.key...)
		b = append(b, `":`...)
		if f.key == "host_status" {
			hole = len(b) - start
			continue
		}
		b = f.val(e, &r, b)
	}
	return append(b, '}'), hole
}

// briefView is a server's index view for one pair of link prefixes.
type briefView struct {
	variant string
	b       []byte
}

// brief appends the index view {id, links, name} of p, kept on p as
// detail keeps the full one.
func (e *listEnc) brief(b []byte, p *pageRow) []byte {
	if v := p.brief.Load(); v != nil && v.variant == e.briefVariant {
		return append(b, v.b...)
	}
	start := len(b)
	b = append(b, `{"id":`...)
	b = appendStr(b, p.in.UUID)
	b = append(b, `,"links":`...)
	b = e.serverLinks(b, p.in.UUID)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.in.Name)
	b = append(b, '}')
	p.brief.Store(&briefView{variant: e.briefVariant, b: slices.Clone(b[start:])})
	return b
}
