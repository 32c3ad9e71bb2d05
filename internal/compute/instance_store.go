package compute

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/compute/virt"
	"kumo/internal/platform/db"
)

// Instance is one server (the instances row of migrations 0100/0101).
type Instance struct {
	ID             int64
	UUID           string
	ProjectID      string
	UserID         string
	Name           string
	Description    *string
	Hostname       string
	Host           string // "" until scheduled
	Node           string
	AZ             string
	ReservationID  string
	LaunchIndex    int
	FlavorID       string
	Flavor         instFlavor
	OldFlavor      *instFlavor
	NewFlavor      *instFlavor
	ImageRef       string
	KeyName        *string
	KeyData        *string
	UserData       *string
	ConfigDrive    string // "True" or ""
	VMState        string
	TaskState      string // "" is None
	PowerState     int
	AccessIPv4     string
	AccessIPv6     string
	Locked         bool
	LockedBy       string
	LockedReason   *string
	SecurityGroups []string
	DiskConfig     string
	CreatedAt      time.Time
	UpdatedAt      time.Time // zero: never updated
	LaunchedAt     time.Time
	TerminatedAt   time.Time
	DeletedAt      time.Time
	Deleted        bool
	Version        int64 // row_version (migration 0600); read by the list only
}

// instFlavor is the copy of a flavor an instance keeps, as Nova embeds it.
type instFlavor struct {
	ID          string            `json:"flavorid"`
	Name        string            `json:"name"`
	MemoryMB    int64             `json:"memory_mb"`
	VCPUs       int64             `json:"vcpus"`
	RootGB      int64             `json:"root_gb"`
	EphemeralGB int64             `json:"ephemeral_gb"`
	Swap        int64             `json:"swap"`
	ExtraSpecs  map[string]string `json:"extra_specs"`
}

func flavorCopy(f *Flavor) instFlavor {
	return instFlavor{ID: f.ID, Name: f.Name, MemoryMB: f.MemoryMB, VCPUs: f.VCPUs, RootGB: f.RootGB,
		EphemeralGB: f.EphemeralGB, Swap: f.Swap, ExtraSpecs: f.ExtraSpecs}
}

// instanceName is Nova's instance_name_template instance-%08x.
func (in *Instance) instanceName() string { return fmt.Sprintf("instance-%08x", in.ID) }

// instanceStore is the instances' persistence; it is also the manager's
// Store.
type instanceStore struct {
	db  *db.DB
	now func() time.Time
}

var _ manager.Store = instanceStore{}

const instanceColumns = `id, uuid, project_id, user_id, display_name, display_description, hostname,
	COALESCE(host, ''), COALESCE(node, ''), COALESCE(availability_zone, ''), reservation_id, launch_index,
	flavor_id, flavor, old_flavor, new_flavor, image_ref, key_name, key_data, user_data, config_drive,
	vm_state, COALESCE(task_state, ''), power_state, COALESCE(access_ip_v4, ''), COALESCE(access_ip_v6, ''),
	locked, COALESCE(locked_by, ''), locked_reason, security_groups, disk_config,
	created_at, COALESCE(updated_at, ''), COALESCE(launched_at, ''), COALESCE(terminated_at, ''),
	COALESCE(deleted_at, ''), deleted`

func scanInstance(row scanner) (*Instance, error) { return scanInstanceWith(row, nil) }

// rowCache keeps the decoded flavor and security groups JSON of the rows
// of one list page: most servers share a few flavors, so a page decodes
// each once. Instances decoded with it share these values and must not
// change them.
type rowCache struct {
	flavors map[string]instFlavor
	sgs     map[string][]string
}

func newRowCache() *rowCache {
	return &rowCache{flavors: map[string]instFlavor{}, sgs: map[string][]string{}}
}

// scanInstanceWith is scanInstance with rc (nil: none) for the JSON
// columns.
func scanInstanceWith(row scanner, rc *rowCache) (*Instance, error) {
	in := &Instance{}
	var flavor string
	var oldF, newF sql.NullString
	var desc, keyName, keyData, userData, reason sql.NullString
	var sgs, created, updated, launched, terminated, deletedAt string
	err := row.Scan(&in.ID, &in.UUID, &in.ProjectID, &in.UserID, &in.Name, &desc, &in.Hostname,
		&in.Host, &in.Node, &in.AZ, &in.ReservationID, &in.LaunchIndex,
		&in.FlavorID, &flavor, &oldF, &newF, &in.ImageRef, &keyName, &keyData, &userData, &in.ConfigDrive,
		&in.VMState, &in.TaskState, &in.PowerState, &in.AccessIPv4, &in.AccessIPv6,
		&in.Locked, &in.LockedBy, &reason, &sgs, &in.DiskConfig,
		&created, &updated, &launched, &terminated, &deletedAt, &in.Deleted)
	if err != nil {
		return nil, err
	}
	in.Description, in.KeyName, in.KeyData, in.UserData, in.LockedReason =
		nullStr(desc), nullStr(keyName), nullStr(keyData), nullStr(userData), nullStr(reason)
	if f, ok := rc.flavor(flavor); ok {
		in.Flavor = f
	} else if err := json.Unmarshal([]byte(flavor), &in.Flavor); err != nil {
		return nil, fmt.Errorf("instance %s flavor: %w", in.UUID, err)
	} else if rc != nil {
		rc.flavors[flavor] = in.Flavor
	}
	in.OldFlavor, in.NewFlavor = parseFlavor(oldF), parseFlavor(newF)
	if g, ok := rc.groups(sgs); ok {
		in.SecurityGroups = g
	} else {
		_ = json.Unmarshal([]byte(sgs), &in.SecurityGroups)
		if rc != nil {
			rc.sgs[sgs] = in.SecurityGroups
		}
	}
	in.CreatedAt, in.UpdatedAt, in.LaunchedAt = parseTime(created), parseTime(updated), parseTime(launched)
	in.TerminatedAt, in.DeletedAt = parseTime(terminated), parseTime(deletedAt)
	return in, nil
}

func (rc *rowCache) flavor(raw string) (instFlavor, bool) {
	if rc == nil {
		return instFlavor{}, false
	}
	f, ok := rc.flavors[raw]
	return f, ok
}

func (rc *rowCache) groups(raw string) ([]string, bool) {
	if rc == nil {
		return nil, false
	}
	g, ok := rc.sgs[raw]
	return g, ok
}

func nullStr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func parseFlavor(s sql.NullString) *instFlavor {
	if !s.Valid || s.String == "" {
		return nil
	}
	f := &instFlavor{}
	if json.Unmarshal([]byte(s.String), f) != nil {
		return nil
	}
	return f
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func strPtrArg(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// insertAll stores a request's instances with their metadata and tags in
// one transaction.
func (st instanceStore) insertAll(ctx context.Context, ins []*Instance, meta map[string]string, tags []string) error {
	return st.groupTx(ctx, func(tx *sql.Tx) error { return st.insertAllTx(ctx, tx, ins, meta, tags) })
}

// insertAllTx is insertAll in tx.
func (st instanceStore) insertAllTx(ctx context.Context, tx *sql.Tx, ins []*Instance, meta map[string]string, tags []string) error {
	for _, in := range ins {
		fl, _ := json.Marshal(in.Flavor)
		sgs, _ := json.Marshal(in.SecurityGroups)
		res, err := tx.ExecContext(ctx, `INSERT INTO instances (uuid, project_id, user_id, display_name,
				display_description, hostname, availability_zone, reservation_id, launch_index, flavor_id, flavor,
				memory_mb, vcpus, root_gb, ephemeral_gb, image_ref, key_name, key_data, user_data, config_drive,
				vm_state, task_state, power_state, access_ip_v4, access_ip_v6, security_groups, disk_config,
				created_at, updated_at, deleted)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, 0)`,
			in.UUID, in.ProjectID, in.UserID, in.Name, strPtrArg(in.Description), in.Hostname, nullable(in.AZ),
			in.ReservationID, in.LaunchIndex, in.FlavorID, string(fl), in.Flavor.MemoryMB, in.Flavor.VCPUs,
			in.Flavor.RootGB, in.Flavor.EphemeralGB, in.ImageRef, strPtrArg(in.KeyName), strPtrArg(in.KeyData),
			strPtrArg(in.UserData), in.ConfigDrive, in.VMState, nullable(in.TaskState), nullable(in.AccessIPv4),
			nullable(in.AccessIPv6), string(sgs), in.DiskConfig, dbTime(in.CreatedAt), dbTime(in.CreatedAt))
		if err != nil {
			return err
		}
		in.ID, _ = res.LastInsertId()
		in.UpdatedAt = in.CreatedAt
		for k, v := range meta {
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)`, in.UUID, k, v); err != nil {
				return err
			}
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO instance_tags (instance_uuid, tag) VALUES (?, ?)`, in.UUID, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// get returns an instance by uuid; deleted ones only when withDeleted.
func (st instanceStore) get(ctx context.Context, uuid string, withDeleted bool) (*Instance, error) {
	q := `SELECT ` + instanceColumns + ` FROM instances WHERE uuid = ?`
	if !withDeleted {
		q += ` AND deleted = 0`
	}
	in, err := scanInstance(st.db.R.QueryRowContext(ctx, q, uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return in, err
}

// setFields updates plain columns of a live instance (PUT /servers, lock,
// resetState...) and stamps updated_at.
func (st instanceStore) setFields(ctx context.Context, uuid string, cols map[string]any) error {
	if len(cols) == 0 {
		return nil
	}
	// In key order: the same columns are the same statement, prepared once.
	var sets []string
	var args []any
	for _, k := range slices.Sorted(maps.Keys(cols)) {
		sets = append(sets, k+" = ?")
		args = append(args, cols[k])
	}
	// row_version bumped here spares the trigger of 0600 its own UPDATE.
	sets = append(sets, "updated_at = ?", "row_version = row_version + 1")
	args = append(args, dbTime(st.now()), uuid)
	stmt, done, err := cachedStmt(ctx, st.db.W, `UPDATE instances SET `+strings.Join(sets, ", ")+` WHERE uuid = ? AND deleted = 0`)
	if err != nil {
		return err
	}
	if done != nil {
		defer done()
	}
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	})
}

// Instance implements manager.Store.
func (st instanceStore) Instance(ctx context.Context, uuid string) (manager.State, error) {
	in, err := st.get(ctx, uuid, false)
	if errors.Is(err, errNotFound) {
		return manager.State{}, manager.ErrNotFound
	}
	if err != nil {
		return manager.State{}, err
	}
	return stateOf(in), nil
}

func stateOf(in *Instance) manager.State {
	return manager.State{UUID: in.UUID, ProjectID: in.ProjectID, Host: in.Host, VMState: in.VMState,
		TaskState: in.TaskState, PowerState: virt.PowerState(in.PowerState), LaunchedAt: in.LaunchedAt,
		TerminatedAt: in.TerminatedAt}
}

// Instances implements manager.Store.
func (st instanceStore) Instances(ctx context.Context, host string) ([]manager.State, error) {
	return st.states(ctx, `host = ?`, host)
}

// states are the live instances matching where, in id order.
func (st instanceStore) states(ctx context.Context, where string, args ...any) ([]manager.State, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT `+instanceColumns+` FROM instances WHERE `+where+` AND deleted = 0 ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []manager.State
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, stateOf(in))
	}
	return out, rows.Err()
}

// Update implements manager.Store: the check of Expected and the write
// are one transaction on the single writer, so they are atomic. Its
// statements are the writer's prepared ones (cachedStmt), got before the
// transaction, whose connection is the committer's: parsing an UPDATE of
// instances (with its trigger and index code) costs more than running it.
// A flavor change's SET list depends on the row: it is parsed each time.
func (st instanceStore) Update(ctx context.Context, uuid string, u manager.Update) error {
	sel, doneSel, err := cachedStmt(ctx, st.db.W, `SELECT vm_state, COALESCE(task_state, ''), flavor, old_flavor, new_flavor
			FROM instances WHERE uuid = ? AND deleted = 0`)
	if err != nil {
		return err
	}
	if doneSel != nil {
		defer doneSel()
	}
	now := st.now()
	var upd *sql.Stmt
	if u.Flavor == manager.FlavorKeep {
		sets, _ := updateSets(u, now)
		var done func()
		if upd, done, err = cachedStmt(ctx, st.db.W, updateSQL(sets)); err != nil {
			return err
		}
		if done != nil {
			defer done()
		}
	}
	return st.groupTx(ctx, func(tx *sql.Tx) error {
		var vm, task string
		var flavor string
		var oldF, newF sql.NullString
		err := tx.StmtContext(ctx, sel).QueryRowContext(ctx, uuid).Scan(&vm, &task, &flavor, &oldF, &newF)
		if errors.Is(err, sql.ErrNoRows) {
			return manager.ErrNotFound
		}
		if err != nil {
			return err
		}
		if u.Expected != nil && !contains(u.Expected, task) {
			return manager.ErrUnexpectedTaskState
		}
		if u.ExpectedVMStates != nil && !contains(u.ExpectedVMStates, vm) {
			return manager.ErrUnexpectedTaskState
		}
		sets, args := updateSets(u, now)
		add := func(col string, v any) { sets = append(sets, col+" = ?"); args = append(args, v) }
		switch u.Flavor {
		case manager.FlavorUseNew:
			if newF.Valid && newF.String != "" {
				var f instFlavor
				if err := json.Unmarshal([]byte(newF.String), &f); err != nil {
					return err
				}
				add("flavor", newF.String)
				add("old_flavor", flavor)
				add("new_flavor", nil)
				add("flavor_id", f.ID)
				add("memory_mb", f.MemoryMB)
				add("vcpus", f.VCPUs)
				add("root_gb", f.RootGB)
				add("ephemeral_gb", f.EphemeralGB)
			}
		case manager.FlavorUseOld:
			if oldF.Valid && oldF.String != "" {
				var f instFlavor
				if err := json.Unmarshal([]byte(oldF.String), &f); err != nil {
					return err
				}
				add("flavor", oldF.String)
				add("flavor_id", f.ID)
				add("memory_mb", f.MemoryMB)
				add("vcpus", f.VCPUs)
				add("root_gb", f.RootGB)
				add("ephemeral_gb", f.EphemeralGB)
			}
			add("old_flavor", nil)
			add("new_flavor", nil)
		case manager.FlavorDropOld:
			add("old_flavor", nil)
			add("new_flavor", nil)
		}
		args = append(args, uuid)
		if upd != nil {
			_, err = tx.StmtContext(ctx, upd).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, updateSQL(sets), args...)
		}
		if err != nil || u.Fault == nil {
			return err
		}
		return insertFault(ctx, tx, uuid, *u.Fault, now)
	})
}

// updateSets is the SET list of u but its flavor change.
func updateSets(u manager.Update, now time.Time) ([]string, []any) {
	// row_version bumped here spares the trigger of 0600 its own UPDATE.
	sets := []string{"updated_at = ?", "row_version = row_version + 1"}
	args := []any{dbTime(now)}
	add := func(col string, v any) { sets = append(sets, col+" = ?"); args = append(args, v) }
	if u.VMState != "" {
		add("vm_state", u.VMState)
	}
	if u.TaskState != nil {
		add("task_state", nullable(*u.TaskState))
	}
	if u.PowerState != nil {
		add("power_state", int(*u.PowerState))
	}
	if u.Host != "" {
		add("host", u.Host)
		add("node", u.Host)
	}
	if u.ClearHost {
		add("host", nil)
		add("node", nil)
	}
	if !u.LaunchedAt.IsZero() {
		add("launched_at", dbTime(u.LaunchedAt))
	}
	if !u.TerminatedAt.IsZero() {
		add("terminated_at", dbTime(u.TerminatedAt))
	}
	if u.VMState == manager.VMDeleted {
		add("deleted", 1)
		add("deleted_at", dbTime(now))
	}
	return sets, args
}

func updateSQL(sets []string) string {
	return `UPDATE instances SET ` + strings.Join(sets, ", ") + ` WHERE uuid = ? AND deleted = 0`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AddFault implements manager.Store.
func (st instanceStore) AddFault(ctx context.Context, uuid string, f manager.Fault) error {
	now := st.now()
	return st.groupTx(ctx, func(tx *sql.Tx) error { return insertFault(ctx, tx, uuid, f, now) })
}

// insertFault adds a fault to an instance; a zero Created is now.
func insertFault(ctx context.Context, tx *sql.Tx, uuid string, f manager.Fault, now time.Time) error {
	if f.Created.IsZero() {
		f.Created = now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO instance_faults (instance_uuid, code, message, details, created_at)
		VALUES (?, ?, ?, ?, ?)`, uuid, f.Code, f.Message, f.Details, dbTime(f.Created))
	return err
}

// fault returns the latest fault of an instance, nil if none.
func (st instanceStore) fault(ctx context.Context, uuid string) (*manager.Fault, error) {
	f := &manager.Fault{}
	var created string
	err := st.db.R.QueryRowContext(ctx, `SELECT code, message, details, created_at FROM instance_faults
		WHERE instance_uuid = ? ORDER BY id DESC LIMIT 1`, uuid).Scan(&f.Code, &f.Message, &f.Details, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	f.Created = parseTime(created)
	return f, err
}

// metadata returns an instance's metadata.
func (st instanceStore) metadata(ctx context.Context, uuid string) (map[string]string, error) {
	return st.keyValues(ctx, `SELECT key, value FROM instance_metadata WHERE instance_uuid = ?`, uuid)
}

// keyValues reads the key/value rows query returns for one instance.
func (st instanceStore) keyValues(ctx context.Context, query, uuid string) (map[string]string, error) {
	rows, err := st.db.R.QueryContext(ctx, query, uuid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// setMetadata merges meta into an instance's metadata, or replaces all of
// it when replace is set; limit < 0 is no limit, else more items than
// limit is errOverQuota. Count and write are one transaction.
func (st instanceStore) setMetadata(ctx context.Context, uuid string, meta map[string]string, replace bool, limit int) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		if replace {
			if _, err := tx.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_uuid = ?`, uuid); err != nil {
				return err
			}
		}
		for k, v := range meta {
			if _, err := tx.ExecContext(ctx, `INSERT INTO instance_metadata (instance_uuid, key, value) VALUES (?, ?, ?)
				ON CONFLICT (instance_uuid, key) DO UPDATE SET value = excluded.value`, uuid, k, v); err != nil {
				return err
			}
		}
		if limit >= 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instance_metadata WHERE instance_uuid = ?`, uuid).Scan(&n); err != nil {
				return err
			}
			if n > limit {
				return errMetadataOverQuota
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE instances SET updated_at = ? WHERE uuid = ?`, dbTime(st.now()), uuid)
		return err
	})
}

var errMetadataOverQuota = errors.New("metadata over quota")

func (st instanceStore) deleteMetadata(ctx context.Context, uuid, key string) error {
	res, err := st.db.W.ExecContext(ctx, `DELETE FROM instance_metadata WHERE instance_uuid = ? AND key = ?`, uuid, key)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// tags returns an instance's tags, sorted.
func (st instanceStore) tags(ctx context.Context, uuid string) ([]string, error) {
	rows, err := st.db.R.QueryContext(ctx, `SELECT tag FROM instance_tags WHERE instance_uuid = ? ORDER BY tag`, uuid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// setTags replaces all tags (replace) or adds one; more than maxTags
// afterwards is errTooManyTags and nothing changes.
func (st instanceStore) setTags(ctx context.Context, uuid string, tags []string, replace bool) error {
	return st.db.Tx(ctx, func(tx *sql.Tx) error {
		if replace {
			if _, err := tx.ExecContext(ctx, `DELETE FROM instance_tags WHERE instance_uuid = ?`, uuid); err != nil {
				return err
			}
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO instance_tags (instance_uuid, tag) VALUES (?, ?)`, uuid, t); err != nil {
				return err
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instance_tags WHERE instance_uuid = ?`, uuid).Scan(&n); err != nil {
			return err
		}
		if n > maxTags {
			return errTooManyTags
		}
		_, err := tx.ExecContext(ctx, `UPDATE instances SET updated_at = ? WHERE uuid = ?`, dbTime(st.now()), uuid)
		return err
	})
}

var errTooManyTags = errors.New("too many tags")

// deleteTags deletes one tag ("" deletes all).
func (st instanceStore) deleteTags(ctx context.Context, uuid, tag string) error {
	q, args := `DELETE FROM instance_tags WHERE instance_uuid = ?`, []any{uuid}
	if tag != "" {
		q += ` AND tag = ?`
		args = append(args, tag)
	}
	res, err := st.db.W.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 && tag != "" {
		return errNotFound
	}
	return nil
}
