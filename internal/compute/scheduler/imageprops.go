package scheduler

import (
	"strconv"
	"strings"
)

// imageSupported is Nova's ImagePropertiesFilter: a host passes when the
// image asks for no architecture, hypervisor type or vm mode, or when one
// of the host's supported instance types matches every one it asks for
// and the hypervisor version meets img_hv_requested_version.
func imageSupported(h *Host, props map[string]string) bool {
	want := InstanceType{
		Architecture:   canonicalArch(prop(props, "hw_architecture", "architecture")),
		HypervisorType: canonicalHVType(prop(props, "img_hv_type", "hypervisor_type")),
		VMMode:         canonicalVMMode(prop(props, "hw_vm_mode", "vm_mode")),
	}
	if want == (InstanceType{}) {
		return true
	}
	for _, have := range h.SupportedInstances {
		have = InstanceType{canonicalArch(have.Architecture), canonicalHVType(have.HypervisorType), canonicalVMMode(have.VMMode)}
		if (want.Architecture == "" || want.Architecture == have.Architecture) &&
			(want.HypervisorType == "" || want.HypervisorType == have.HypervisorType) &&
			(want.VMMode == "" || want.VMMode == have.VMMode) &&
			versionMeets(h.HypervisorVersion, prop(props, "img_hv_requested_version", "hypervisor_version_requires")) {
			return true
		}
	}
	return false
}

// prop reads an image property by its name or by the legacy name Nova
// still accepts.
func prop(props map[string]string, name, legacy string) string {
	if v, ok := props[name]; ok {
		return v
	}
	return props[legacy]
}

// canonicalArch folds architecture aliases as nova.objects.fields.Architecture.
func canonicalArch(a string) string {
	a = strings.ToLower(strings.TrimSpace(a))
	switch a {
	case "amd64":
		return "x86_64"
	case "i386", "i486", "i586", "x86_32", "x86_32p":
		return "i686"
	case "arm64":
		return "aarch64"
	}
	return a
}

// canonicalHVType folds hypervisor type aliases as nova.objects.fields.HVType.
func canonicalHVType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if t == "xapi" {
		return "xen"
	}
	return t
}

// canonicalVMMode folds vm mode aliases as nova.objects.fields.VMMode.
func canonicalVMMode(m string) string {
	m = strings.ToLower(strings.TrimSpace(m))
	switch m {
	case "hv":
		return "hvm"
	case "pv":
		return "xen"
	case "baremetal":
		return "hvm"
	}
	return m
}

// versionMeets checks a host version in Nova's integer encoding (7002000
// is 7.2.0) against a requirement such as ">=6.2" or ">=6.0,<8". An empty
// requirement, or an unknown (0) host version, is met as in Nova; an
// unreadable requirement is not.
func versionMeets(hostVersion int, req string) bool {
	req = strings.TrimSpace(req)
	if req == "" || hostVersion == 0 {
		return true
	}
	have := []int{hostVersion / 1000000, hostVersion / 1000 % 1000, hostVersion % 1000}
	for _, cond := range strings.Split(req, ",") {
		cond = strings.TrimSpace(cond)
		op := strings.TrimRight(cond[:len(cond)-len(strings.TrimLeft(cond, "<>=!"))], " ")
		want, ok := parseVersion(strings.TrimSpace(cond[len(op):]))
		if !ok {
			return false
		}
		c := compareVersions(have, want)
		var pass bool
		switch op {
		case ">=":
			pass = c >= 0
		case ">":
			pass = c > 0
		case "<=":
			pass = c <= 0
		case "<":
			pass = c < 0
		case "==", "=", "":
			pass = c == 0
		case "!=":
			pass = c != 0
		default:
			return false
		}
		if !pass {
			return false
		}
	}
	return true
}

func parseVersion(s string) ([]int, bool) {
	if s == "" {
		return nil, false
	}
	var out []int
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func compareVersions(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
