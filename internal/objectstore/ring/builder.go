package ring

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Builder holds a ring under construction: devices, the current
// partition-to-device assignment and when each partition last moved.
// It is not safe for concurrent use.
type Builder struct {
	partPower    int
	replicas     int
	minPartHours int
	overload     float64

	devs       []*devState // indexed by device ID; nil marks a hole
	removeDevs []int       // IDs to drop at the next rebalance

	// r2p2d[replica][part] is a device ID or noneDev; nil before the first
	// rebalance.
	r2p2d [][]uint16
	// lastPartMoves counts whole hours since each partition last moved,
	// capped at 255 like Swift's byte array; epoch is when it was updated.
	lastPartMoves []uint8
	epoch         int64
	moved         []bool // partitions moved during the current rebalance

	lastGatherStart int
	version         int
	dispersion      float64
	rebalanced      bool

	seed  uint64
	clock func() time.Time
}

// devState is a device plus the builder's bookkeeping for it.
type devState struct {
	Device
	parts       int
	partsWanted int
}

// Swift caps part power at 32; the flat uint16 tables here would need
// 2^32 entries per replica, so kumo stops at 24 (16M partitions).
const (
	MaxPartPower  = 24
	MaxReplicas   = 16
	maxPartHours  = 255 // hours are counted in a byte, as in Swift
	maxBalance    = 999.99
	gatherRetries = 3 // Swift's MAX_BALANCE_GATHER_COUNT
)

// ErrNotRebalanced is returned for operations that need an assignment.
var ErrNotRebalanced = errors.New("ring has never been rebalanced")

// NewBuilder starts an empty ring of 2^partPower partitions, each stored
// replicas times, whose partitions may not move again for minPartHours.
func NewBuilder(partPower, replicas, minPartHours int) (*Builder, error) {
	if partPower < 0 || partPower > MaxPartPower {
		return nil, fmt.Errorf("part_power must be between 0 and %d (was %d)", MaxPartPower, partPower)
	}
	if replicas < 1 || replicas > MaxReplicas {
		return nil, fmt.Errorf("replicas must be between 1 and %d (was %d)", MaxReplicas, replicas)
	}
	if minPartHours < 0 || minPartHours > maxPartHours {
		return nil, fmt.Errorf("min_part_hours must be between 0 and %d (was %d)", maxPartHours, minPartHours)
	}
	return &Builder{
		partPower:     partPower,
		replicas:      replicas,
		minPartHours:  minPartHours,
		lastPartMoves: make([]uint8, 1<<partPower),
		clock:         time.Now,
	}, nil
}

// SetClock replaces the wall clock, so tests can let hours pass.
func (b *Builder) SetClock(now func() time.Time) { b.clock = now }

// SetSeed fixes the random choices of later rebalances (tie-breaking and
// gather order); the same seed and inputs give the same ring.
func (b *Builder) SetSeed(seed uint64) { b.seed = seed }

// SetOverload lets devices take up to this fraction more than their weight
// when that buys dispersion (Swift's overload, 0.1 = 10%).
func (b *Builder) SetOverload(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return fmt.Errorf("invalid overload %v", f)
	}
	b.overload = f
	b.version++
	return nil
}

// SetMinPartHours changes the minimum hours between moves of a partition.
func (b *Builder) SetMinPartHours(h int) error {
	if h < 0 || h > maxPartHours {
		return fmt.Errorf("min_part_hours must be between 0 and %d (was %d)", maxPartHours, h)
	}
	b.minPartHours = h
	return nil
}

// PartPower, Replicas, MinPartHours, Overload and Version describe the ring.
func (b *Builder) PartPower() int      { return b.partPower }
func (b *Builder) Replicas() int       { return b.replicas }
func (b *Builder) MinPartHours() int   { return b.minPartHours }
func (b *Builder) Overload() float64   { return b.overload }
func (b *Builder) Version() int        { return b.version }
func (b *Builder) Dispersion() float64 { return b.dispersion }

func (b *Builder) parts() int { return 1 << b.partPower }

// AddDevice adds a device under the lowest free ID and returns that ID.
// Like Swift, nothing moves until the next Rebalance.
func (b *Builder) AddDevice(d Device) (int, error) {
	if err := d.validate(); err != nil {
		return 0, err
	}
	id := slices.Index(b.devs, nil)
	if id < 0 {
		id = len(b.devs)
	}
	if id > maxDevID {
		return 0, fmt.Errorf("too many devices (max %d)", maxDevID+1)
	}
	for _, o := range b.devs {
		if o != nil && o.IP == d.IP && o.Port == d.Port && o.Name == d.Name {
			return 0, fmt.Errorf("device %s:%d/%s already exists as id %d", d.IP, d.Port, d.Name, o.ID)
		}
	}
	d.ID = id
	if id == len(b.devs) {
		b.devs = append(b.devs, nil)
	}
	b.devs[id] = &devState{Device: d}
	b.version++
	return id, nil
}

func (b *Builder) dev(id int) (*devState, error) {
	if id < 0 || id >= len(b.devs) || b.devs[id] == nil {
		return nil, fmt.Errorf("no device with id %d", id)
	}
	return b.devs[id], nil
}

// SetWeight changes a device's weight; 0 drains it over later rebalances.
func (b *Builder) SetWeight(id int, weight float64) error {
	d, err := b.dev(id)
	if err != nil {
		return err
	}
	if err := validWeight(weight); err != nil {
		return err
	}
	if slices.Contains(b.removeDevs, id) {
		return fmt.Errorf("can not set weight of device %d because it is marked for removal", id)
	}
	d.Weight = weight
	b.version++
	return nil
}

// RemoveDevice marks a device for removal: its weight drops to 0 and the
// next rebalance reassigns all its partitions and forgets it.
func (b *Builder) RemoveDevice(id int) error {
	d, err := b.dev(id)
	if err != nil {
		return err
	}
	if !slices.Contains(b.removeDevs, id) {
		b.removeDevs = append(b.removeDevs, id)
	}
	d.Weight = 0
	b.version++
	return nil
}

// PretendMinPartHoursPassed lets every partition move at the next
// rebalance, as swift-ring-builder's pretend_min_part_hours_passed does.
func (b *Builder) PretendMinPartHoursPassed() {
	b.epoch = 0
	for i := range b.lastPartMoves {
		b.lastPartMoves[i] = 0xff
	}
}

// MinPartSecondsLeft is how long until every partition may move again.
func (b *Builder) MinPartSecondsLeft() int64 {
	elapsed := b.clock().Unix() - b.epoch
	return max(int64(b.minPartHours)*3600-elapsed, 0)
}

// PartDevices returns the device IDs holding a partition, by replica.
func (b *Builder) PartDevices(part int) ([]int, error) {
	if b.r2p2d == nil {
		return nil, ErrNotRebalanced
	}
	if part < 0 || part >= b.parts() {
		return nil, fmt.Errorf("partition %d out of range", part)
	}
	out := make([]int, 0, b.replicas)
	for _, p2d := range b.r2p2d {
		out = append(out, int(p2d[part]))
	}
	return out, nil
}

// clone deep-copies the builder so a failed rebalance leaves it untouched.
func (b *Builder) clone() *Builder {
	c := *b
	c.devs = make([]*devState, len(b.devs))
	for i, d := range b.devs {
		if d != nil {
			dd := *d
			c.devs[i] = &dd
		}
	}
	c.removeDevs = slices.Clone(b.removeDevs)
	if b.r2p2d != nil {
		c.r2p2d = make([][]uint16, len(b.r2p2d))
		for i := range b.r2p2d {
			c.r2p2d[i] = slices.Clone(b.r2p2d[i])
		}
	}
	c.lastPartMoves = slices.Clone(b.lastPartMoves)
	return &c
}
