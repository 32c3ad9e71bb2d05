package compute

import (
	"context"
	"database/sql"
	"strings"

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

// loadPage reads the page's metadata, tags and faults.
func (st instanceStore) loadPage(ctx context.Context, ins []*Instance) (*pageData, error) {
	pre := &pageData{metaOf: map[string]map[string]string{}, tagsOf: map[string][]string{},
		faultsOf: map[string]*manager.Fault{}}
	if len(ins) == 0 {
		return pre, nil
	}
	args := make([]any, len(ins))
	for i, in := range ins {
		args[i] = in.UUID
	}
	marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ins)), ", ") + ")"
	each := func(q string, scan func(rows *sql.Rows) error) error {
		rows, err := st.db.R.QueryContext(ctx, q, args...)
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
	err := each(`SELECT instance_uuid, key, value FROM instance_metadata WHERE instance_uuid IN `+marks,
		func(rows *sql.Rows) error {
			var u, k, v string
			if err := rows.Scan(&u, &k, &v); err != nil {
				return err
			}
			if pre.metaOf[u] == nil {
				pre.metaOf[u] = map[string]string{}
			}
			pre.metaOf[u][k] = v
			return nil
		})
	if err == nil {
		err = each(`SELECT instance_uuid, tag FROM instance_tags WHERE instance_uuid IN `+marks+` ORDER BY tag`,
			func(rows *sql.Rows) error {
				var u, t string
				if err := rows.Scan(&u, &t); err != nil {
					return err
				}
				pre.tagsOf[u] = append(pre.tagsOf[u], t)
				return nil
			})
	}
	if err == nil {
		// Rows in id order: the last one of an instance is its latest.
		err = each(`SELECT instance_uuid, code, message, details, created_at FROM instance_faults
			WHERE instance_uuid IN `+marks+` ORDER BY id`,
			func(rows *sql.Rows) error {
				f := &manager.Fault{}
				var u, created string
				if err := rows.Scan(&u, &f.Code, &f.Message, &f.Details, &created); err != nil {
					return err
				}
				f.Created = parseTime(created)
				pre.faultsOf[u] = f
				return nil
			})
	}
	return pre, err
}
