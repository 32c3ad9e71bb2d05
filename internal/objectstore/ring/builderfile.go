package ring

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// builderFile is the builder's on-disk state (gzip JSON, like Swift's
// .builder pickle): everything a later rebalance needs, including when
// each partition last moved.
type builderFile struct {
	PartPower        int        `json:"part_power"`
	Replicas         int        `json:"replicas"`
	MinPartHours     int        `json:"min_part_hours"`
	Overload         float64    `json:"overload"`
	Devs             []*Device  `json:"devs"`
	Parts            []int      `json:"dev_parts"`
	RemoveDevs       []int      `json:"remove_devs"`
	Replica2Part2Dev [][]uint16 `json:"replica2part2dev"`
	LastPartMoves    []byte     `json:"last_part_moves"`
	Epoch            int64      `json:"last_part_moves_epoch"`
	LastGatherStart  int        `json:"last_part_gather_start"`
	Version          int        `json:"version"`
	Dispersion       float64    `json:"dispersion"`
	Rebalanced       bool       `json:"rebalanced"`
	Seed             uint64     `json:"seed"`
}

// Save writes the builder atomically so it can be loaded and rebalanced
// again later.
func (b *Builder) Save(path string) error {
	f := builderFile{
		PartPower: b.partPower, Replicas: b.replicas, MinPartHours: b.minPartHours, Overload: b.overload,
		RemoveDevs: b.removeDevs, Replica2Part2Dev: b.r2p2d, LastPartMoves: b.lastPartMoves,
		Epoch: b.epoch, LastGatherStart: b.lastGatherStart, Version: b.version,
		Dispersion: b.dispersion, Rebalanced: b.rebalanced, Seed: b.seed,
	}
	for _, d := range b.devs {
		if d == nil {
			f.Devs, f.Parts = append(f.Devs, nil), append(f.Parts, 0)
			continue
		}
		dd := d.Device
		f.Devs, f.Parts = append(f.Devs, &dd), append(f.Parts, d.parts)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(f); err != nil {
		return fmt.Errorf("encode builder: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("encode builder: %w", err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// LoadBuilder reads a builder written by Save. gzip's CRC catches a
// damaged file; the table is then checked against the devices.
func LoadBuilder(path string) (*Builder, error) {
	raw, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load builder: %w", err)
	}
	defer raw.Close()
	zr, err := gzip.NewReader(raw)
	if err != nil {
		return nil, fmt.Errorf("load builder %s: %w: %v", path, ErrCorrupt, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("load builder %s: %w: %v", path, ErrCorrupt, err)
	}
	var f builderFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("load builder %s: %w: %v", path, ErrCorrupt, err)
	}
	b, err := NewBuilder(f.PartPower, f.Replicas, f.MinPartHours)
	if err != nil {
		return nil, fmt.Errorf("load builder %s: %w", path, err)
	}
	if len(f.Parts) != len(f.Devs) || len(f.LastPartMoves) != b.parts() ||
		(f.Replica2Part2Dev != nil && len(f.Replica2Part2Dev) != f.Replicas) {
		return nil, fmt.Errorf("load builder %s: %w: sizes do not match", path, ErrCorrupt)
	}
	b.overload, b.removeDevs, b.lastPartMoves = f.Overload, f.RemoveDevs, f.LastPartMoves
	b.epoch, b.lastGatherStart, b.version = f.Epoch, f.LastGatherStart, f.Version
	b.dispersion, b.rebalanced, b.seed = f.Dispersion, f.Rebalanced, f.Seed
	b.devs = make([]*devState, len(f.Devs))
	for i, d := range f.Devs {
		if d != nil {
			if d.ID != i {
				return nil, fmt.Errorf("load builder %s: %w: device at %d has id %d", path, ErrCorrupt, i, d.ID)
			}
			b.devs[i] = &devState{Device: *d, parts: f.Parts[i]}
		}
	}
	for _, id := range b.removeDevs {
		if _, err := b.dev(id); err != nil {
			return nil, fmt.Errorf("load builder %s: %w: %v", path, ErrCorrupt, err)
		}
	}
	if f.Replica2Part2Dev != nil {
		counts := make([]int, len(b.devs))
		for _, p2d := range f.Replica2Part2Dev {
			if len(p2d) != b.parts() {
				return nil, fmt.Errorf("load builder %s: %w: replica table size", path, ErrCorrupt)
			}
			for _, id := range p2d {
				if int(id) >= len(b.devs) || b.devs[id] == nil {
					return nil, fmt.Errorf("load builder %s: %w: unknown device %d", path, ErrCorrupt, id)
				}
				counts[id]++
			}
		}
		for i, d := range b.devs {
			if d != nil && d.parts != counts[i] {
				return nil, fmt.Errorf("load builder %s: %w: device %d part count", path, ErrCorrupt, i)
			}
		}
		b.r2p2d = f.Replica2Part2Dev
	}
	b.clock = time.Now
	return b, nil
}
