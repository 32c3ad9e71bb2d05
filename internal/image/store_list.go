package image

import (
	"context"
	"strings"
)

// where accumulates "AND"-joined SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// listQuery is an image-list request after validation: who asks (Glance's
// visibility rules depend on it), the filters as SQL, sorting and the page.
type listQuery struct {
	Admin        bool
	Project      string // the caller's project ("" when unscoped)
	MemberStatus string // accepted (default), pending, rejected or all
	Visibility   string // "" (default rules), all, public, private, shared, community
	Filters      where
	SortKeys     []string
	SortDirs     []string
	Marker       *Image
	Limit        int
}

// sortExpr is the SQL for a sort key; NULLs sort as the smallest value so
// keyset pagination can compare them.
var sortExpr = map[string]string{
	"name": "COALESCE(name, '')", "status": "status", "container_format": "COALESCE(container_format, '')",
	"disk_format": "COALESCE(disk_format, '')", "size": "COALESCE(size, -1)", "id": "id",
	"created_at": "created_at", "updated_at": "updated_at",
}

func sortValue(im *Image, key string) any {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch key {
	case "name":
		return str(im.Name)
	case "status":
		return im.Status
	case "container_format":
		return str(im.ContainerFormat)
	case "disk_format":
		return str(im.DiskFormat)
	case "size":
		if im.Size == nil {
			return int64(-1)
		}
		return *im.Size
	case "id":
		return im.ID
	case "created_at":
		return micros(im.CreatedAt)
	default:
		return micros(im.UpdatedAt)
	}
}

// ListImages returns one page of the images q may see, as Glance's
// image_get_all does: killed and deleted images never show; a regular
// caller sees public and community images, its own, and shared images it
// is a member of (with the requested member status); an admin sees all.
func (s *Store) ListImages(ctx context.Context, q listQuery) ([]*Image, error) {
	w := where{conds: append([]string{}, q.Filters.conds...), args: append([]any{}, q.Filters.args...)}
	w.add("deleted = 0")
	w.add("status <> ?", statusKilled)
	if !q.Admin {
		member := `EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id AND m.member = ?`
		margs := []any{q.Project}
		if q.MemberStatus != "all" {
			member += ` AND m.status = ?`
			margs = append(margs, q.MemberStatus)
		}
		member += `)`
		w.add(`(visibility IN ('public', 'community') OR owner = ? OR (visibility = 'shared' AND `+member+`))`,
			append([]any{q.Project}, margs...)...)
	}
	switch {
	case q.Visibility != "" && q.Visibility != "all":
		w.add("visibility = ?", q.Visibility)
	case q.Visibility == "" && q.Project == "":
		w.add("visibility <> 'community'")
	case q.Visibility == "":
		w.add("(owner = ? OR visibility <> 'community')", q.Project)
	}
	if q.Marker != nil {
		var ors []string
		var args []any
		for i, k := range q.SortKeys {
			var ands []string
			for j := 0; j < i; j++ {
				ands = append(ands, sortExpr[q.SortKeys[j]]+" = ?")
				args = append(args, sortValue(q.Marker, q.SortKeys[j]))
			}
			op := " > ?"
			if q.SortDirs[i] == "desc" {
				op = " < ?"
			}
			ands = append(ands, sortExpr[k]+op)
			args = append(args, sortValue(q.Marker, k))
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		w.add("("+strings.Join(ors, " OR ")+")", args...)
	}
	var order []string
	for i, k := range q.SortKeys {
		order = append(order, sortExpr[k]+" "+strings.ToUpper(q.SortDirs[i]))
	}
	sqlText := `SELECT ` + imageCols + ` FROM images WHERE ` + strings.Join(w.conds, " AND ") +
		` ORDER BY ` + strings.Join(order, ", ") + ` LIMIT ?`
	rows, err := s.db.R.QueryContext(ctx, sqlText, append(w.args, q.Limit)...)
	if err != nil {
		return nil, wrap("list images", err)
	}
	var out []*Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			rows.Close()
			return nil, wrap("list images", err)
		}
		out = append(out, im)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list images", err)
	}
	return out, wrap("list images", s.loadChildren(ctx, out))
}
