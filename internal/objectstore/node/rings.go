package node

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"kumo/internal/objectstore/ring"
)

// Layout is a single-host object store (kumo up): one storage node whose
// devices hold every replica.
type Layout struct {
	IP                                     string
	ObjectPort, ContainerPort, AccountPort int
	Devices                                []string
	// Replicas must not exceed len(Devices) (Swift never puts two
	// replicas of a partition on one device). Default: min(3, devices).
	Replicas int
	// PartPower defaults to 10 (1024 partitions), plenty for one host.
	PartPower int
}

// EnsureRings loads the account, container and object rings from dir
// (account.ring.gz, ...), or builds them for l and saves them with their
// builder files when they do not exist yet or name other addresses, so
// that later starts and `kumo admin` see the same placement.
func EnsureRings(dir string, l Layout, hp ring.HashPath) (account, container, object *ring.Ring, err error) {
	if len(l.Devices) == 0 {
		return nil, nil, nil, errors.New("node: no devices")
	}
	if l.Replicas <= 0 {
		l.Replicas = min(3, len(l.Devices))
	}
	if l.PartPower <= 0 {
		l.PartPower = 10
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	var out [3]*ring.Ring
	for i, kind := range []struct {
		name string
		port int
	}{{"account", l.AccountPort}, {"container", l.ContainerPort}, {"object", l.ObjectPort}} {
		path := filepath.Join(dir, kind.name+".ring.gz")
		r, err := ring.LoadRing(path, hp)
		if err == nil && matches(r, l.IP, kind.port, l.Devices) {
			out[i] = r
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("node: %s ring: %w", kind.name, err)
		}
		// A fixed seed makes the build deterministic: a rebuild after a
		// port change (kumo up --port-offset) places partitions as before.
		b, err := ring.NewBuilder(l.PartPower, l.Replicas, 1)
		if err != nil {
			return nil, nil, nil, err
		}
		b.SetSeed(1)
		for _, d := range l.Devices {
			if _, err := b.AddDevice(ring.Device{Region: 1, Zone: 1, IP: l.IP, Port: kind.port, Name: d, Weight: 100}); err != nil {
				return nil, nil, nil, err
			}
		}
		if _, err := b.Rebalance(); err != nil {
			return nil, nil, nil, fmt.Errorf("node: build %s ring: %w", kind.name, err)
		}
		if err := b.Save(filepath.Join(dir, kind.name+".builder")); err != nil {
			return nil, nil, nil, err
		}
		if r, err = b.Ring(hp); err == nil {
			err = r.Save(path)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		out[i] = r
	}
	return out[0], out[1], out[2], nil
}

// LoadHashPath reads the cluster's path salt from path, creating a random
// one on first use. It must never change afterwards (Swift's
// swift_hash_path_prefix/suffix), so it is written once, 0600.
func LoadHashPath(path string) (ring.HashPath, error) {
	var hp ring.HashPath
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &hp); err != nil || hp.Prefix == "" || hp.Suffix == "" {
			return hp, fmt.Errorf("node: bad hash path file %s", path)
		}
		return hp, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return hp, err
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return hp, err
	}
	hp = ring.HashPath{Prefix: hex.EncodeToString(r[:16]), Suffix: hex.EncodeToString(r[16:])}
	b, _ = json.Marshal(hp)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return hp, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return hp, err
	}
	return hp, os.Rename(tmp, path)
}

// matches reports whether a saved ring still describes the layout.
func matches(r *ring.Ring, ip string, port int, devs []string) bool {
	have := r.Devices()
	if len(have) != len(devs) {
		return false
	}
	for i, d := range have {
		if d.IP != ip || d.Port != port || d.Name != devs[i] {
			return false
		}
	}
	return true
}
