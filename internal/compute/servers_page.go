package compute

import (
	"context"
	"database/sql"
	"encoding/json"

	"kumo/internal/compute/manager"
)

// pageData holds the metadata, tags and latest faults of a page of
// servers, read with one query each instead of three per server.
type pageData struct {
	metaOf   map[string]map[string]string
	tagsOf   map[string][]string
	faultsOf map[string]*manager.Fault
}

// viewSource is what the server view reads besides the instance row.
type viewSource interface {
	metadata(ctx context.Context, uuid string) (map[string]string, error)
	tags(ctx context.Context, uuid string) ([]string, error)
	fault(ctx context.Context, uuid string) (*manager.Fault, error)
}

// store is pre itself, or st when nothing was loaded.
func (pre *pageData) store(st instanceStore) viewSource {
	if pre == nil {
		return st
	}
	return pre
}

func (pre *pageData) metadata(_ context.Context, uuid string) (map[string]string, error) {
	return pre.metaOf[uuid], nil
}

func (pre *pageData) tags(_ context.Context, uuid string) ([]string, error) {
	if t := pre.tagsOf[uuid]; t != nil {
		return t, nil
	}
	return []string{}, nil
}

func (pre *pageData) fault(_ context.Context, uuid string) (*manager.Fault, error) {
	return pre.faultsOf[uuid], nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// loadPage reads the page's metadata, tags (withTags) and the latest
// faults of the servers that show one (ERROR or DELETED). Each is one
// query whose uuids are a JSON array parameter joined with the table:
// SQLite seeks the table's uuid index for each element, with no list to
// build or sort, and the statement stays short.
func (st instanceStore) loadPage(ctx context.Context, ins []*Instance, withTags bool) (*pageData, error) {
	pre := &pageData{metaOf: map[string]map[string]string{}, tagsOf: map[string][]string{},
		faultsOf: map[string]*manager.Fault{}}
	if len(ins) == 0 {
		return pre, nil
	}
	uuids := make([]string, 0, len(ins))
	var faulted []string
	for _, in := range ins {
		uuids = append(uuids, in.UUID)
		if pageStatus(in) == "ERROR" || pageStatus(in) == "DELETED" {
			faulted = append(faulted, in.UUID)
		}
	}
	each := func(q string, ids []string, scan func(rows *sql.Rows) error) error {
		arg, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		rows, err := queryCached(ctx, st.db.R, q, string(arg))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	const page = `json_each(?) j JOIN `
	// Metadata (kind 0) and tags (kind 1) in one statement: one uuid list
	// to send and parse, one query's overhead instead of two.
	q := `SELECT 0, m.instance_uuid, m.key, m.value FROM json_each(?1) j JOIN instance_metadata m ON m.instance_uuid = j.value`
	if withTags {
		q += ` UNION ALL SELECT 1, t.instance_uuid, t.tag, '' FROM json_each(?1) j JOIN instance_tags t ON t.instance_uuid = j.value`
	}
	err := each(q, uuids, func(rows *sql.Rows) error {
		var kind int
		var u, k, v string
		if err := rows.Scan(&kind, &u, &k, &v); err != nil {
			return err
		}
		if kind == 1 {
			pre.tagsOf[u] = append(pre.tagsOf[u], k)
			return nil
		}
		if pre.metaOf[u] == nil {
			pre.metaOf[u] = map[string]string{}
		}
		pre.metaOf[u][k] = v
		return nil
	})
	if err == nil && len(faulted) > 0 {
		// The latest fault of an instance is its highest id.
		latest := map[string]int64{}
		err = each(`SELECT f.id, f.instance_uuid, f.code, f.message, f.details, f.created_at FROM `+page+`instance_faults f
			ON f.instance_uuid = j.value`, faulted,
			func(rows *sql.Rows) error {
				f := &manager.Fault{}
				var id int64
				var u, created string
				if err := rows.Scan(&id, &u, &f.Code, &f.Message, &f.Details, &created); err != nil {
					return err
				}
				if prev, ok := latest[u]; ok && prev > id {
					return nil
				}
				latest[u] = id
				f.Created = parseTime(created)
				pre.faultsOf[u] = f
				return nil
			})
	}
	// Tags in byte order, as ORDER BY tag (index order already, mostly).
	for _, t := range pre.tagsOf {
		sortStrings(t)
	}
	return pre, err
}

// pageStatus is the status serverViewFrom shows of in.
func pageStatus(in *Instance) string {
	if in.Deleted {
		if in.VMState == manager.VMSoftDeleted {
			return "SOFT_DELETED"
		}
		return "DELETED"
	}
	return manager.StatusOf(in.VMState, in.TaskState)
}
