package qemu

import (
	"slices"
	"strings"
	"testing"

	"kumo/internal/compute/virt"
)

func TestStripTerminal(t *testing.T) {
	cases := []struct{ in, want string }{
		{"\x1bcSeaBIOS (version 1.16)\r\n", "SeaBIOS (version 1.16)\n"},
		{"login: \x1b[6n\r\n", "login: \n"},
		{"\x1b[1;32mgreen\x1b[0m text\r\n", "green text\n"},
		{"title\x1b]0;hello\x07 after", "title after"},
		{"a\tb\x07\x08c\x00", "a\tbc"},
		{"cut at the end \x1b[", "cut at the end "},
		{"bad utf8 \xff!", "bad utf8 \uFFFD!"},
	}
	for _, c := range cases {
		if got := stripTerminal([]byte(c.in)); got != c.want {
			t.Errorf("stripTerminal(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTailLines(t *testing.T) {
	s := "one\ntwo\nthree\n"
	cases := map[int]string{0: s, -1: s, 1: "three\n", 2: "two\nthree\n", 3: s, 10: s}
	for n, want := range cases {
		if got := tailLines(s, n); got != want {
			t.Errorf("tailLines(%d) = %q, want %q", n, got, want)
		}
	}
	if got := tailLines("a\nb", 1); got != "b" {
		t.Errorf("no final newline: got %q", got)
	}
}

func TestParseVersion(t *testing.T) {
	cases := map[string]int{
		"QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n": 7002022,
		"QEMU emulator version 8.2.0\n":                                    8002000,
		"QEMU emulator version 9.1 (x)":                                    9001000,
	}
	for in, want := range cases {
		got, err := parseVersion(in)
		if err != nil || got != want {
			t.Errorf("parseVersion(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseVersion("nonsense"); err == nil {
		t.Error("parseVersion accepted text without a version")
	}
}

func TestCommandLine(t *testing.T) {
	d := &Driver{cfg: Config{TBSizeMB: 32}, accel: "tcg", inst: "/s/instances"}
	in := d.instance("u1")
	r := &record{InstanceSpec: virt.InstanceSpec{UUID: "u1", Name: "inst,x", VCPUs: 2, MemoryMB: 192,
		NICs: []virt.NIC{{MAC: "fa:16:3e:00:00:01", TapName: "tap1"}}, HasConfig: true}}
	args := d.commandLine(in, r, launchOpts{})
	line := strings.Join(args, " ")
	for _, want := range []string{
		"-nodefaults", "-no-user-config", "-display none", "-machine pc", "-accel tcg,tb-size=32",
		"-m 192", "-smp 2", "-uuid u1", "-name guest=inst,,x", "-daemonize -pidfile /s/instances/u1/qemu.pid",
		"-qmp unix:qmp.sock,server=on,wait=off", "-vnc unix:vnc.sock",
		"logfile=/s/instances/u1/console.log,logappend=on",
		"-netdev tap,id=net0,ifname=tap1,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=fa:16:3e:00:00:01",
		"virtio-blk-pci,drive=root,id=root-disk,bootindex=0",
		`"read-only":true`, "virtio-blk-pci,drive=config,id=config-disk",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("command line lacks %q:\n%s", want, line)
		}
	}
	if slices.Contains(args, "-incoming") {
		t.Error("-incoming without a saved state")
	}

	// Rescue boots the rescue disk first, resume loads the saved state.
	r.Rescue = true
	line = strings.Join(d.commandLine(in, r, launchOpts{incoming: "/s/it's.state"}), " ")
	for _, want := range []string{
		"drive=rescue,id=rescue-disk,bootindex=0", "drive=root,id=root-disk,bootindex=1",
		`-S -incoming exec:cat '/s/it'\''s.state'`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("rescue/resume command line lacks %q:\n%s", want, line)
		}
	}
}

func TestValidSpec(t *testing.T) {
	good := virt.InstanceSpec{UUID: "u", VCPUs: 1, MemoryMB: 128,
		NICs: []virt.NIC{{MAC: "fa:16:3e:00:00:01", TapName: "tap1"}}}
	if err := validSpec(good); err != nil {
		t.Fatalf("good spec refused: %v", err)
	}
	bad := []func(*virt.InstanceSpec){
		func(s *virt.InstanceSpec) { s.UUID = "../x" },
		func(s *virt.InstanceSpec) { s.VCPUs = 0 },
		func(s *virt.InstanceSpec) { s.MemoryMB = 8 },
		func(s *virt.InstanceSpec) { s.RootGB = -1 },
		func(s *virt.InstanceSpec) { s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:01,x=y", TapName: "t"}} },
		func(s *virt.InstanceSpec) { s.NICs = []virt.NIC{{MAC: "fa:16:3e:00:00:01", TapName: ""}} },
		func(s *virt.InstanceSpec) { s.NICs = []virt.NIC{{MAC: "fa-16-3e-00-00-01", TapName: "t"}} },
	}
	for i, f := range bad {
		s := good
		s.NICs = slices.Clone(good.NICs)
		f(&s)
		if err := validSpec(s); err == nil {
			t.Errorf("bad spec %d accepted", i)
		}
	}
}

func TestRunStatePower(t *testing.T) {
	cases := map[string]virt.PowerState{
		"running": virt.Running, "paused": virt.Paused, "postmigrate": virt.Paused,
		"inmigrate": virt.Paused, "shutdown": virt.Shutdown, "guest-panicked": virt.Crashed,
		"internal-error": virt.Crashed,
	}
	for st, want := range cases {
		if got := runStatePower(st); got != want {
			t.Errorf("%s -> %v, want %v", st, got, want)
		}
	}
}
