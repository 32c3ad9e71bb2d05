package scheduler

import (
	"strings"
	"testing"
)

func TestComputeFilter(t *testing.T) {
	f := newFixture(t)
	a := f.addHost("a", 8, 8192, 0)
	f.addHost("b", 4, 4096, 0)
	f.hosts[a].Enabled = false
	s := f.scheduler(Config{})
	// a has more free RAM, but is disabled.
	if got := f.schedule(s, request(2)); !equal(got, []string{"b", "b"}) {
		t.Fatalf("got %v, want b b", got)
	}
	f.hosts[1].Enabled = false
	nvh := f.noValidHost(f.scheduler(Config{}), request(1))
	if !strings.Contains(nvh.Detail, "ComputeFilter") || nvh.Error() != "No valid host was found. There are not enough hosts available." {
		t.Fatalf("error %q, detail %q", nvh.Error(), nvh.Detail)
	}
}

func TestAvailabilityZoneFilter(t *testing.T) {
	f := newFixture(t)
	f.addHost("default", 64, 65536, 0) // most room, in the default zone "nova"
	f.hosts[f.addHost("z1", 8, 8192, 0)].AvailabilityZone = "az1"
	f.hosts[f.addHost("z2", 8, 8192, 0)].AvailabilityZone = "az2"
	s := f.scheduler(Config{})
	for _, c := range []struct{ az, want string }{{"az2", "z2"}, {"az1", "z1"}, {"nova", "default"}, {"", "default"}} {
		req := request(1)
		req.AvailabilityZone = c.az
		if got := f.schedule(s, req); got[0] != c.want {
			t.Errorf("zone %q: got %s, want %s", c.az, got[0], c.want)
		}
	}
	req := request(1)
	req.AvailabilityZone = "nowhere"
	if nvh := f.noValidHost(s, req); !strings.Contains(nvh.Detail, "AvailabilityZoneFilter") {
		t.Fatalf("detail %q", nvh.Detail)
	}
	// A configured default zone names the hosts without one.
	req = request(1)
	req.AvailabilityZone = "home"
	if got := f.schedule(f.scheduler(Config{DefaultAvailabilityZone: "home"}), req); got[0] != "default" {
		t.Fatalf("default zone home: got %v", got)
	}
}

func TestImageSupported(t *testing.T) {
	x86 := &Host{HypervisorVersion: 8002000, SupportedInstances: []InstanceType{{"x86_64", "qemu", "hvm"}, {"x86_64", "kvm", "hvm"}}}
	arm := &Host{HypervisorVersion: 6000000, SupportedInstances: []InstanceType{{"aarch64", "qemu", "hvm"}}}
	bare := &Host{HypervisorVersion: 8002000}
	cases := []struct {
		name  string
		props map[string]string
		host  *Host
		want  bool
	}{
		{"no properties", nil, bare, true},
		{"unrelated properties", map[string]string{"os_distro": "cirros"}, bare, true},
		{"arch but host reports nothing", map[string]string{"hw_architecture": "x86_64"}, bare, false},
		{"arch match", map[string]string{"hw_architecture": "x86_64"}, x86, true},
		{"arch mismatch", map[string]string{"hw_architecture": "aarch64"}, x86, false},
		{"arch alias amd64", map[string]string{"hw_architecture": "AMD64"}, x86, true},
		{"arch alias arm64", map[string]string{"architecture": "arm64"}, arm, true},
		{"legacy architecture name", map[string]string{"architecture": "aarch64"}, x86, false},
		{"hv type kvm", map[string]string{"img_hv_type": "kvm"}, x86, true},
		{"hv type kvm on arm", map[string]string{"img_hv_type": "kvm"}, arm, false},
		{"legacy hypervisor_type", map[string]string{"hypervisor_type": "QEMU"}, arm, true},
		{"vm mode hv alias", map[string]string{"hw_vm_mode": "hv"}, x86, true},
		{"vm mode xen", map[string]string{"hw_vm_mode": "xen"}, x86, false},
		{"version met", map[string]string{"hw_architecture": "x86_64", "img_hv_requested_version": ">=8.0"}, x86, true},
		{"version range met", map[string]string{"hw_architecture": "x86_64", "img_hv_requested_version": ">=6.0, <8.3"}, x86, true},
		{"version not met", map[string]string{"hw_architecture": "x86_64", "img_hv_requested_version": ">=9"}, x86, false},
		{"version exact", map[string]string{"img_hv_type": "qemu", "img_hv_requested_version": "==8.2.0"}, x86, true},
		{"version unreadable", map[string]string{"img_hv_type": "qemu", "img_hv_requested_version": ">=eight"}, x86, false},
		{"version alone is not a host property", map[string]string{"img_hv_requested_version": ">=99"}, x86, true},
	}
	for _, c := range cases {
		if got := imageSupported(c.host, c.props); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestImagePropertiesFilter(t *testing.T) {
	f := newFixture(t)
	f.addHost("x86", 64, 65536, 0)
	arm := f.addHost("arm", 4, 4096, 0)
	f.hosts[arm].SupportedInstances = []InstanceType{{"aarch64", "qemu", "hvm"}}
	s := f.scheduler(Config{})
	req := request(1)
	req.ImageProperties = map[string]string{"hw_architecture": "aarch64"}
	if got := f.schedule(s, req); got[0] != "arm" {
		t.Fatalf("aarch64 image on %v", got)
	}
	req = request(1)
	req.ImageProperties = map[string]string{"hw_architecture": "ppc64le"}
	if nvh := f.noValidHost(s, req); !strings.Contains(nvh.Detail, "ImagePropertiesFilter") {
		t.Fatalf("detail %q", nvh.Detail)
	}
}

func TestTraitsFilter(t *testing.T) {
	f := newFixture(t)
	f.addHost("plain", 64, 65536, 0)
	gpu := f.addHost("gpu", 4, 4096, 0)
	f.hosts[gpu].Traits = map[string]bool{"CUSTOM_GPU": true}
	s := f.scheduler(Config{})
	req := request(1)
	req.Traits = map[string]string{"CUSTOM_GPU": "required"}
	if got := f.schedule(s, req); got[0] != "gpu" {
		t.Fatalf("required trait: %v", got)
	}
	req = request(2)
	req.Traits = map[string]string{"CUSTOM_GPU": "forbidden"}
	if got := f.schedule(s, req); !equal(got, []string{"plain", "plain"}) {
		t.Fatalf("forbidden trait: %v", got)
	}
}

func TestCapacityFilterAndAllOrNothing(t *testing.T) {
	f := newFixture(t)
	f.addHost("small", 2, 2048, 0)
	f.addHost("tiny", 1, 1024, 0)
	s := f.scheduler(Config{})
	// A 2-VCPU instance fits only on small.
	req := request(1)
	req.Resources = map[string]int64{"VCPU": 2, "MEMORY_MB": 512, "DISK_GB": 0}
	if got := f.schedule(s, req); got[0] != "small" {
		t.Fatalf("got %v", got)
	}
	// One VCPU is left in the cloud (on tiny): two instances must fail
	// together, leaving nothing claimed, and one must then fit.
	f.noValidHost(s, request(2))
	if got := f.schedule(s, request(1)); got[0] != "tiny" {
		t.Fatalf("got %v", got)
	}
	nvh := f.noValidHost(s, request(1))
	if !strings.Contains(nvh.Detail, "placement") {
		t.Fatalf("detail %q", nvh.Detail)
	}
	if used := checkNoOvercommit(t, f.p); used != 3 {
		t.Fatalf("VCPU used %d, want 3", used)
	}
	// A request for a class no host has cannot fit.
	req = request(1)
	req.Resources = map[string]int64{"VCPU": 1, "CUSTOM_FPGA_X": 1}
	f.noValidHost(s, req)
}

func TestForceAndIgnoreHosts(t *testing.T) {
	f := newFixture(t)
	f.addHost("big", 64, 65536, 0)
	off := f.addHost("off", 2, 2048, 0)
	f.hosts[off].Enabled = false
	f.hosts[off].AvailabilityZone = "elsewhere"
	s := f.scheduler(Config{})
	// A forced host skips the filters (it is disabled and in another zone)
	// but not capacity.
	req := request(2)
	req.ForceHost = "off"
	req.AvailabilityZone = "nova"
	if got := f.schedule(s, req); !equal(got, []string{"off", "off"}) {
		t.Fatalf("forced: %v", got)
	}
	req = request(1)
	req.ForceHost = "off"
	f.noValidHost(s, req) // full
	req = request(1)
	req.ForceHost = "missing"
	f.noValidHost(s, req)
	req = request(1)
	req.IgnoreHosts = []string{"big"}
	f.noValidHost(s, req) // off is disabled: nothing left
	f.hosts[off].Enabled = true
	f.addHost("other", 4, 4096, 0)
	req = request(1)
	req.IgnoreHosts = []string{"big"}
	if got := f.schedule(f.scheduler(Config{}), req); got[0] != "other" {
		t.Fatalf("ignore big: %v", got)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	f.addHost("a", 4, 4096, 0)
	s := f.scheduler(Config{})
	mk := func(edit func(r *Request)) Request { r := request(1); edit(&r); return r }
	for name, req := range map[string]Request{
		"no instances":   mk(func(r *Request) { r.ConsumerUUIDs = nil }),
		"repeated":       mk(func(r *Request) { r.ConsumerUUIDs = append(r.ConsumerUUIDs, r.ConsumerUUIDs[0]) }),
		"no project":     mk(func(r *Request) { r.ProjectID = "" }),
		"no resources":   mk(func(r *Request) { r.Resources = map[string]int64{"VCPU": 0} }),
		"negative":       mk(func(r *Request) { r.Resources["VCPU"] = -1 }),
		"bad class":      mk(func(r *Request) { r.Resources["vcpu"] = 1 }),
		"bad policy":     mk(func(r *Request) { r.Group = &Group{Policy: "together"} }),
		"bad trait want": mk(func(r *Request) { r.Traits = map[string]string{"X": "maybe"} }),
	} {
		if _, err := s.Schedule(t.Context(), req); err == nil || !strings.Contains(err.Error(), "bad scheduling request") {
			t.Errorf("%s: want ErrBadRequest, got %v", name, err)
		}
	}
}
