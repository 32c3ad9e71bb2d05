// Package config loads kumo's configuration: built-in defaults, then an
// optional YAML file, then KUMO_* environment variables; command-line flags
// are applied last by the caller.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole of kumo's configuration.
type Config struct {
	DataDir string `yaml:"data_dir"`
	Listen  string `yaml:"listen"`
	// PublicHost is the host name or address the catalog's endpoint URLs
	// and openrc name (Keystone's public_endpoint): what clients on other
	// machines reach kumo by. Default: Listen, or 127.0.0.1 when Listen is
	// every address (0.0.0.0, ::).
	PublicHost    string      `yaml:"public_host"`
	PortOffset    int         `yaml:"port_offset"`
	AdminPassword string      `yaml:"admin_password"`
	LogLevel      string      `yaml:"log_level"`
	Identity      Identity    `yaml:"identity"`
	Image         Image       `yaml:"image"`
	Compute       Compute     `yaml:"compute"`
	ObjectStore   ObjectStore `yaml:"object_store"`
}

// ObjectStore holds the object store's options.
type ObjectStore struct {
	// Devices is how many devices (directories under
	// DATA/objectstore/devices) the all-in-one storage node has; Replicas
	// how many copies of each object are kept (at most Devices, Swift never
	// puts two on one device). Defaults 3 and 3; 1 and 1 for tiny machines.
	Devices  int `yaml:"devices"`
	Replicas int `yaml:"replicas"`
	// Node runs that storage node inside kumo up (the default). false: kumo
	// up runs only the Swift proxy, in front of storage nodes started
	// apart (kumo serve --roles objectstore-node) on the rings in SwiftDir.
	Node bool `yaml:"node"`
	// SwiftDir holds what the proxy and every node share, as Swift's
	// /etc/swift: hashpath.json and the rings. Default DATA/objectstore.
	SwiftDir string `yaml:"swift_dir"`
	// DevicesRoot holds a node's device directories (Swift's devices,
	// /srv/node). Default DATA/objectstore/devices.
	DevicesRoot string `yaml:"devices_root"`
	// Pauses between a node's passes: container and object updaters and
	// the expirer (default 30s), replicators (30s), object auditor (30m).
	UpdaterInterval     Duration `yaml:"updater_interval"`
	ReplicationInterval Duration `yaml:"replication_interval"`
	AuditInterval       Duration `yaml:"audit_interval"`
	// FallocateReserve is Swift's fallocate_reserve in bytes: a PUT that
	// would leave less free on a device gets 507. Default 0.
	FallocateReserve int64 `yaml:"fallocate_reserve"`
}

// SwiftDirPath is ObjectStore.SwiftDir or its default.
func (c Config) SwiftDirPath() string {
	if c.ObjectStore.SwiftDir != "" {
		return c.ObjectStore.SwiftDir
	}
	return filepath.Join(c.DataDir, "objectstore")
}

// DevicesRootPath is ObjectStore.DevicesRoot or its default.
func (c Config) DevicesRootPath() string {
	if c.ObjectStore.DevicesRoot != "" {
		return c.ObjectStore.DevicesRoot
	}
	return filepath.Join(c.DataDir, "objectstore", "devices")
}

// Compute holds the compute service's options, named as Nova's where it
// has one.
type Compute struct {
	PolicyFile string `yaml:"policy_file"`
	// Accel is the hypervisor accelerator: auto (KVM only where a probe
	// guest boots with it, else TCG), kvm or tcg; Nova's libvirt.virt_type.
	Accel string `yaml:"accel"`
	// Driver is "qemu" (real guests). "simulated" accepts instances without
	// starting anything: for scheduler-scale tests and benchmarks only.
	Driver string `yaml:"driver"`
	// SimulatedHosts is how many simulated compute hosts the simulated
	// driver registers (default 1).
	SimulatedHosts      int     `yaml:"simulated_hosts"`
	MaxConcurrentBuilds int     `yaml:"max_concurrent_builds"`
	CPUAllocationRatio  float64 `yaml:"cpu_allocation_ratio"`
	RAMAllocationRatio  float64 `yaml:"ram_allocation_ratio"`
	DiskAllocationRatio float64 `yaml:"disk_allocation_ratio"`
	ReservedHostMemMB   int     `yaml:"reserved_host_memory_mb"`
	// Weigher is "spread" (most free RAM first, Nova's default) or "pack".
	Weigher string `yaml:"weigher"`
	// QEMUBinary is the emulator to run (libvirt's <emulator>): default
	// qemu-system-x86_64 from PATH.
	QEMUBinary string `yaml:"qemu_binary"`
	// ShelvedOffloadTime is Nova's shelved_offload_time in seconds: 0 (the
	// default) offloads a shelved server at once, -1 never, more after
	// that many seconds.
	ShelvedOffloadTime int `yaml:"shelved_offload_time"`
}

// Image holds the image service's options.
type Image struct {
	PolicyFile string `yaml:"policy_file"`
	// EnabledBackends are the image stores, as Glance's enabled_backends
	// (filesystem stores only). Empty: one store, "local", at
	// DATA/images, with the multi-store API off (as Glance without
	// enabled_backends).
	EnabledBackends []ImageStore `yaml:"enabled_backends"`
}

// ImageStore is one image store (filesystem or swift), named as Glance's
// [<store id>] section options.
type ImageStore struct {
	ID string `yaml:"id"`
	// Type is the store's kind: "file" (the default) or "swift" (kumo's
	// object store).
	Type string `yaml:"type"`
	// Container is swift_store_container for a swift store; "" means
	// "glance".
	Container string `yaml:"swift_store_container"`
	// Path is filesystem_store_datadir (a swift store spools there); ""
	// means DATA/images for the store "local" and DATA/images-<id> for
	// the others.
	Path        string `yaml:"filesystem_store_datadir"`
	Description string `yaml:"store_description"`
	// Default marks [glance_store] default_backend (else the first).
	Default bool `yaml:"default"`
}

// Identity holds the identity service's options, named as Keystone's.
type Identity struct {
	TokenExpiration    Duration           `yaml:"token_expiration"`
	BcryptCost         int                `yaml:"bcrypt_cost"`
	MaxActiveKeys      int                `yaml:"max_active_keys"`
	PolicyFile         string             `yaml:"policy_file"`
	SecurityCompliance SecurityCompliance `yaml:"security_compliance"`
}

// SecurityCompliance mirrors Keystone's [security_compliance] section.
type SecurityCompliance struct {
	LockoutFailureAttempts         int      `yaml:"lockout_failure_attempts"`
	LockoutDuration                Duration `yaml:"lockout_duration"`
	UniqueLastPasswordCount        int      `yaml:"unique_last_password_count"`
	PasswordExpiresDays            int      `yaml:"password_expires_days"`
	MinimumPasswordAge             int      `yaml:"minimum_password_age"`
	PasswordRegex                  string   `yaml:"password_regex"`
	PasswordRegexDescription       string   `yaml:"password_regex_description"`
	ChangePasswordUponFirstUse     bool     `yaml:"change_password_upon_first_use"`
	DisableUserAccountDaysInactive int      `yaml:"disable_user_account_days_inactive"`
}

// Duration is a time.Duration written "90s", "1h" (or plain seconds) in YAML.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if secs, err := strconv.Atoi(n.Value); err == nil {
		d.Duration = time.Duration(secs) * time.Second
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (like 90s or 1h)", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// Defaults returns the configuration of a plain `kumo up`.
func Defaults() Config {
	return Config{DataDir: "./kumo-data", Listen: "127.0.0.1", LogLevel: "info",
		Identity: Identity{TokenExpiration: Duration{time.Hour}, BcryptCost: 12, MaxActiveKeys: 3},
		// Nova's defaults.
		Compute: Compute{Accel: "auto", Driver: "qemu", SimulatedHosts: 1, MaxConcurrentBuilds: 10,
			CPUAllocationRatio: 16, RAMAllocationRatio: 1.5, DiskAllocationRatio: 1, ReservedHostMemMB: 512, Weigher: "spread"},
		ObjectStore: ObjectStore{Devices: 3, Replicas: 3, Node: true, UpdaterInterval: Duration{30 * time.Second},
			ReplicationInterval: Duration{30 * time.Second}, AuditInterval: Duration{30 * time.Minute}}}
}

// Load returns the defaults overlaid with file (if not "") and the
// environment.
func Load(file string) (Config, error) {
	c := Defaults()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config %s: %w", file, err)
		}
	}
	env := map[string]*string{"KUMO_DATA_DIR": &c.DataDir, "KUMO_LISTEN": &c.Listen, "KUMO_PUBLIC_HOST": &c.PublicHost, "KUMO_ADMIN_PASSWORD": &c.AdminPassword, "KUMO_LOG_LEVEL": &c.LogLevel,
		"KUMO_COMPUTE_ACCEL": &c.Compute.Accel, "KUMO_COMPUTE_DRIVER": &c.Compute.Driver,
		"KUMO_OBJECT_STORE_SWIFT_DIR": &c.ObjectStore.SwiftDir, "KUMO_OBJECT_STORE_DEVICES_ROOT": &c.ObjectStore.DevicesRoot}
	for k, p := range env {
		if v, ok := os.LookupEnv(k); ok {
			*p = v
		}
	}
	if v, ok := os.LookupEnv("KUMO_PORT_OFFSET"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("config: KUMO_PORT_OFFSET=%q is not a number", v)
		}
		c.PortOffset = n
	}
	if err := c.objectStoreEnv(); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c Config) validate() error {
	switch c.Compute.Accel {
	case "auto", "kvm", "tcg":
	default:
		return fmt.Errorf("config: compute.accel %q: want auto, kvm or tcg", c.Compute.Accel)
	}
	if c.ObjectStore.Devices < 1 || c.ObjectStore.Replicas < 1 || c.ObjectStore.Replicas > c.ObjectStore.Devices {
		return fmt.Errorf("config: object_store: %d replicas on %d devices: want 1 <= replicas <= devices",
			c.ObjectStore.Replicas, c.ObjectStore.Devices)
	}
	ob := c.ObjectStore
	for _, d := range []struct {
		key string
		v   Duration
	}{{"updater_interval", ob.UpdaterInterval}, {"replication_interval", ob.ReplicationInterval}, {"audit_interval", ob.AuditInterval}} {
		if d.v.Duration <= 0 {
			return fmt.Errorf("config: object_store.%s %s: want a positive duration", d.key, d.v.Duration)
		}
	}
	if ob.FallocateReserve < 0 {
		return fmt.Errorf("config: object_store.fallocate_reserve %d: want 0 or more bytes", ob.FallocateReserve)
	}
	switch c.Compute.Driver {
	case "qemu", "simulated":
	default:
		return fmt.Errorf("config: compute.driver %q: want qemu or simulated", c.Compute.Driver)
	}
	if c.Compute.ShelvedOffloadTime < -1 {
		return fmt.Errorf("config: compute.shelved_offload_time %d: want -1 (never), 0 (at once) or seconds", c.Compute.ShelvedOffloadTime)
	}
	return nil
}

// objectStoreEnv applies the KUMO_OBJECT_STORE_* variables that are not
// strings: NODE (true/false) and the *_INTERVAL durations.
func (c *Config) objectStoreEnv() error {
	if v, ok := os.LookupEnv("KUMO_OBJECT_STORE_NODE"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("config: KUMO_OBJECT_STORE_NODE=%q: want true or false", v)
		}
		c.ObjectStore.Node = b
	}
	for k, p := range map[string]*Duration{"KUMO_OBJECT_STORE_UPDATER_INTERVAL": &c.ObjectStore.UpdaterInterval,
		"KUMO_OBJECT_STORE_REPLICATION_INTERVAL": &c.ObjectStore.ReplicationInterval,
		"KUMO_OBJECT_STORE_AUDIT_INTERVAL":       &c.ObjectStore.AuditInterval} {
		v, ok := os.LookupEnv(k)
		if !ok {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("config: %s=%q is not a duration (like 30s or 5m)", k, v)
		}
		p.Duration = d
	}
	return nil
}

// Standard ports of the OpenStack services kumo runs.
const (
	IdentityPort = 5000
	ImagePort    = 9292
	ComputePort  = 8774
	// ObjectStorePort is the Swift proxy's; the storage node's object,
	// container and account servers listen on loopback at Swift's 6200-6202.
	ObjectStorePort     = 8080
	ObjectServerPort    = 6200
	ContainerServerPort = 6201
	AccountServerPort   = 6202
)

// Host is the host of the URLs kumo advertises: PublicHost, else Listen
// unless that is every address, else 127.0.0.1.
func (c Config) Host() string {
	switch {
	case c.PublicHost != "":
		return c.PublicHost
	case c.Listen == "" || c.Listen == "0.0.0.0" || c.Listen == "::":
		return "127.0.0.1"
	}
	return c.Listen
}
