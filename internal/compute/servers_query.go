package compute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"kumo/internal/compute/manager"
	"kumo/internal/platform/httpapi"
)

// The servers list in SQL: filters, sort and marker become one query that
// walks an index (migration 0400) and stops at the page's end, so a page
// costs its own rows, not the project's. Only the name regex is applied
// in Go, over id and name alone, before the page's rows are decoded.

// tsKey is a SQL expression that makes a stored RFC 3339 time (UTC, 'Z',
// 0 to 9 fraction digits as Go's RFC3339Nano writes them) a fixed-width
// string that sorts as the time does; "" (no time) sorts first. Migration
// 0400 indexes tsKey("created_at") written exactly so.
func tsKey(col string) string {
	return `(substr(` + col + `, 1, 19) || CASE WHEN substr(` + col + `, 20, 1) = '.' THEN substr(substr(` + col +
		`, 21, length(` + col + `) - 21) || '000000000', 1, 9) ELSE '000000000' END)`
}

// tsKeyOf is tsKey of t.
func tsKeyOf(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf("%09d", t.Nanosecond())
}

// sortColumn is the SQL expression of a sort key or an equality filter:
// the instance's value, NULL read as "" (byte order, as Go compares
// strings), times as tsKey; "" for keys every instance has the same value
// of (no column: kernel_id, progress...).
func sortColumn(key string) string {
	switch key {
	case "created_at":
		return tsKey(key) // as indexed by migration 0400; never NULL
	case "updated_at", "launched_at", "terminated_at":
		return tsKey("COALESCE(" + key + ", '')") // NULL would not compare with a marker's value
	case "id", "launch_index", "power_state", "uuid", "hostname", "reservation_id", "config_drive", "user_id",
		"project_id", "vm_state", "display_name":
		return key
	case "image_ref", "image":
		return "image_ref"
	case "instance_type_id", "flavor":
		return "flavor_id"
	case "auto_disk_config":
		return "disk_config"
	case "host", "node", "availability_zone", "key_name", "task_state", "display_description", "access_ip_v4",
		"access_ip_v6", "locked_by":
		return "COALESCE(" + key + ", '')"
	}
	return ""
}

// filterColumn is the SQL expression compared with an equality filter's
// value, a string.
func filterColumn(key string) string {
	if key == "power_state" {
		return "CAST(power_state AS TEXT)"
	}
	return sortColumn(key)
}

// listQuery is the WHERE clause and ORDER BY of a list request.
type listQuery struct {
	where []string
	args  []any
	order []string // expressions, with dirs
	desc  []bool
}

func (q *listQuery) and(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func marks(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func strArgs(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// newListQuery translates f and sorts; f.nothing and f.name are the
// caller's.
func newListQuery(f *serverFilter, sorts []sortSpec) *listQuery {
	q := &listQuery{}
	if f.project != "" {
		q.and("project_id = ?", f.project)
	}
	if f.deleted != nil {
		if *f.deleted {
			q.and("deleted != 0")
		} else {
			q.and("deleted = 0")
		}
	}
	if f.status != nil {
		// A deleted row is in vm_state deleted unless soft-deleted.
		q.and(`(CASE WHEN deleted != 0 AND vm_state != ? THEN ? ELSE vm_state END) IN `+marks(len(f.status.VMStates)),
			append([]any{manager.VMSoftDeleted, manager.VMDeleted}, strArgs(f.status.VMStates)...)...)
		if !f.status.AnyTaskState {
			if len(f.status.TaskStates) == 0 {
				q.and("0")
			} else {
				q.and("COALESCE(task_state, '') IN "+marks(len(f.status.TaskStates)), strArgs(f.status.TaskStates)...)
			}
		}
	}
	// In key order: the same filters are the same statement text, which
	// queryCached prepares once.
	for _, k := range slices.Sorted(maps.Keys(f.eq)) {
		v := f.eq[k]
		if col := filterColumn(k); col != "" {
			q.and(col+" = ?", v)
		} else if v != "" {
			q.and("0") // keys without a column have the value ""
		}
	}
	changed := tsKey("COALESCE(NULLIF(updated_at, ''), created_at)")
	if !f.since.IsZero() {
		q.and(changed+" >= ?", tsKeyOf(f.since))
	}
	if !f.before.IsZero() {
		q.and(changed+" <= ?", tsKeyOf(f.before))
	}
	if f.locked != nil {
		q.and("locked = ?", *f.locked)
	}
	has := func(tags []string) string {
		return "EXISTS (SELECT 1 FROM instance_tags t WHERE t.instance_uuid = instances.uuid AND t.tag IN " + marks(len(tags)) + ")"
	}
	hasAll := func(tags []string) (string, []any) {
		conds := make([]string, len(tags))
		for i := range tags {
			conds[i] = has(tags[i : i+1])
		}
		return "(" + strings.Join(conds, " AND ") + ")", strArgs(tags)
	}
	if f.tags != nil {
		c, a := hasAll(f.tags)
		q.and(c, a...)
	}
	if f.tagsAny != nil {
		q.and(has(f.tagsAny), strArgs(f.tagsAny)...)
	}
	if f.notTags != nil {
		c, a := hasAll(f.notTags)
		q.and("NOT "+c, a...)
	}
	if f.notTagsAny != nil {
		q.and("NOT "+has(f.notTagsAny), strArgs(f.notTagsAny)...)
	}
	for _, s := range sorts {
		if col := sortColumn(s.key); col != "" {
			q.order = append(q.order, col)
			q.desc = append(q.desc, s.desc)
		}
	}
	return q
}

// after adds the keyset condition "comes after the row with these sort
// values" (Nova's marker: the marker instance's sort-key values).
func (q *listQuery) after(vals []any) {
	same := true
	for _, d := range q.desc {
		same = same && d == q.desc[0]
	}
	op := func(desc bool) string {
		if desc {
			return "<"
		}
		return ">"
	}
	// The first key's bound alone is redundant but lets SQLite seek to
	// the marker in the index instead of walking to it.
	bound := ">="
	if q.desc[0] {
		bound = "<="
	}
	q.and(q.order[0]+" "+bound+" ?", vals[0])
	if same {
		q.and("("+strings.Join(q.order, ", ")+") "+op(q.desc[0])+" "+marks(len(vals)), vals...)
		return
	}
	var ors []string
	var args []any
	for i := range q.order {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, q.order[j]+" = ?")
			args = append(args, vals[j])
		}
		ands = append(ands, q.order[i]+" "+op(q.desc[i])+" ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	q.and("("+strings.Join(ors, " OR ")+")", args...)
}

func (q *listQuery) sql(cols string) string {
	s := "SELECT " + cols + " FROM instances"
	if len(q.where) > 0 {
		s += " WHERE " + strings.Join(q.where, " AND ")
	}
	order := make([]string, len(q.order))
	for i, o := range q.order {
		order[i] = o + " ASC"
		if q.desc[i] {
			order[i] = o + " DESC"
		}
	}
	return s + " ORDER BY " + strings.Join(order, ", ")
}

// listPageHook, when set (tests), is told how many full rows a list
// decoded.
var listPageHook func(decoded int)

// listPage returns the page of instances that match f in sorts' order
// after marker (a uuid, nil for the first page), at most limit of them.
// They come from the list cache: callers must not change them.
func (st instanceStore) listPage(ctx context.Context, f *serverFilter, sorts []sortSpec, marker *string, limit int) ([]*Instance, error) {
	rows, err := st.detailPage(ctx, f, sorts, marker, limit)
	ins := make([]*Instance, len(rows))
	for i, r := range rows {
		ins[i] = r.in
	}
	return ins, err
}

// detailPage is listPage of whole rows with their metadata, tags and
// faults: the page's ids and row versions from SQL (from the list index
// alone in the default order), the rows from the cache
// (servers_list_cache.go) or, for its misses, by id.
func (st instanceStore) detailPage(ctx context.Context, f *serverFilter, sorts []sortSpec, marker *string, limit int) ([]*pageRow, error) {
	q, err := st.pageQuery(ctx, f, sorts, marker)
	if err != nil || q == nil || limit == 0 {
		return nil, err
	}
	var ids, vers []int64
	if f.name == nil {
		ids, vers, err = st.idVersions(ctx, q.sql("id, row_version")+" LIMIT ?", append(q.args, limit), limit)
	} else {
		ids, vers, err = st.namedIDs(ctx, q, f, limit)
	}
	if err != nil {
		return nil, err
	}
	rows, decoded, err := st.pageRows(ctx, ids, vers)
	if err != nil {
		return nil, err
	}
	if listPageHook != nil {
		listPageHook(decoded)
	}
	return rows, nil
}

// pageQuery is the query of f and sorts after marker; nil when f matches
// nothing.
func (st instanceStore) pageQuery(ctx context.Context, f *serverFilter, sorts []sortSpec, marker *string) (*listQuery, error) {
	q := newListQuery(f, sorts)
	if marker != nil {
		vals, err := st.markerValues(ctx, q.order, *marker, f.deleted == nil || *f.deleted)
		if err != nil {
			return nil, err
		}
		q.after(vals)
	}
	if f.nothing {
		return nil, nil
	}
	return q, nil
}

// idVersions runs a query of (id, row_version) rows.
func (st instanceStore) idVersions(ctx context.Context, query string, args []any, sizeHint int) ([]int64, []int64, error) {
	rows, err := queryCached(ctx, st.db.R, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	ids, vers := make([]int64, 0, min(sizeHint, 1000)), make([]int64, 0, min(sizeHint, 1000))
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, nil, err
		}
		ids, vers = append(ids, id), append(vers, v)
	}
	return ids, vers, rows.Err()
}

// scanPage runs a query of listColumns rows.
func (st instanceStore) scanPage(ctx context.Context, query string, args []any, sizeHint int) ([]*Instance, error) {
	rows, err := queryCached(ctx, st.db.R, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ins := make([]*Instance, 0, min(sizeHint, 1000))
	rc := newRowCache()
	for rows.Next() {
		in, err := scanListRow(rows, rc)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, rows.Err()
}

// namedIDs walks the matching rows' ids, versions and names in order
// and keeps the first limit whose name matches the regex.
func (st instanceStore) namedIDs(ctx context.Context, q *listQuery, f *serverFilter, limit int) ([]int64, []int64, error) {
	rows, err := queryCached(ctx, st.db.R, q.sql("id, row_version, display_name"), q.args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids, vers []int64
	for rows.Next() && len(ids) < limit {
		var id, v int64
		var name string
		if err := rows.Scan(&id, &v, &name); err != nil {
			return nil, nil, err
		}
		if f.name.MatchString(name) {
			ids, vers = append(ids, id), append(vers, v)
		}
	}
	return ids, vers, rows.Err()
}

// markerValues reads the marker instance's values of the sort
// expressions; an unknown uuid is Nova's 400 MarkerNotFound.
func (st instanceStore) markerValues(ctx context.Context, order []string, uuid string, withDeleted bool) ([]any, error) {
	q := `SELECT ` + strings.Join(order, ", ") + ` FROM instances WHERE uuid = ?`
	if !withDeleted {
		q += ` AND deleted = 0`
	}
	vals := make([]any, len(order))
	ptrs := make([]any, len(order))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := st.db.R.QueryRowContext(ctx, q, uuid).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, httpapi.BadRequest("marker [%s] not found", uuid)
	}
	return vals, err
}
