package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// A table copy is the rows of one version of a config table that a plan
// pins, saved so that replaying the batch after a restart (when the
// catalog no longer retains that version) joins the same rows. It is named
// table-<escaped name>-<version>.arrow: in the escaped name, bytes other
// than a-z, 0-9 and _ are written %XX (upper-case hex), so any table name
// gives a distinct, portable file name (also on case-insensitive file
// systems).

const maxEscapedName = 200

type tableKey struct {
	name    string
	version uint64
}

func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func unescapeName(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), true
}

func tableFileName(name string, version uint64) string {
	return "table-" + escapeName(name) + "-" + strconv.FormatUint(version, 10) + ".arrow"
}

func parseTableName(file string) (tableKey, bool) {
	s, ok := strings.CutPrefix(file, "table-")
	if !ok {
		return tableKey{}, false
	}
	if s, ok = strings.CutSuffix(s, ".arrow"); !ok {
		return tableKey{}, false
	}
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return tableKey{}, false
	}
	name, ok := unescapeName(s[:i])
	if !ok || name == "" {
		return tableKey{}, false
	}
	v, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil || tableFileName(name, v) != file {
		return tableKey{}, false
	}
	return tableKey{name, v}, true
}

func checkTableName(table string) error {
	if table == "" {
		return sqlerr.New(sqlerr.InvalidName, "checkpoint: empty table name")
	}
	if n := len(escapeName(table)); n > maxEscapedName {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "checkpoint: table name %.40q... is too long for a file name (%d bytes escaped, at most %d)", table, n, maxEscapedName)
	}
	return nil
}

// WriteTable saves version of config table table (schema and recs, as the
// catalog's snapshot has them) so that a replay after a restart reads the
// same rows. Write it before the plan that pins it. Saving a version again
// replaces it.
func (d *Dir) WriteTable(ctx context.Context, table string, version uint64, schema *arrow.Schema, recs []arrow.Record) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	if err := checkTableName(table); err != nil {
		return err
	}
	if err := checkRecords(schema, recs); err != nil {
		return sqlerr.New(sqlerr.InternalError, "checkpoint: table %s version %d: %w", table, version, err)
	}
	if _, err := writeArrowFile(d.path, tableFileName(table, version), version, schema, recs); err != nil {
		return ioError(fmt.Sprintf("write copy of table %s version %d", table, version), err)
	}
	d.mu.Lock()
	d.tables[tableKey{table, version}] = true
	d.mu.Unlock()
	return nil
}

// HasTable reports whether version of table is saved.
func (d *Dir) HasTable(table string, version uint64) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.tables[tableKey{table, version}]
}

// LoadTable reads a saved table version; the records are allocated from
// mem and the caller releases them. ok is false when the version is not
// saved. A damaged copy fails with XX001: there is nothing to fall back to.
func (d *Dir) LoadTable(ctx context.Context, mem memory.Allocator, table string, version uint64) (schema *arrow.Schema, recs []arrow.Record, ok bool, err error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return nil, nil, false, err
	}
	if err := checkTableName(table); err != nil {
		return nil, nil, false, err
	}
	path := filepath.Join(d.path, tableFileName(table, version))
	schema, recs, err = readArrowFile(path, version, mem)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, false, nil
	case errors.Is(err, errDamaged):
		return nil, nil, false, corrupted(path, err)
	case err != nil:
		return nil, nil, false, ioError(fmt.Sprintf("read copy of table %s version %d", table, version), err)
	}
	return schema, recs, true, nil
}

// DropTablesBefore deletes, for every table in keep, the saved versions
// older than keep[table]. Tables not in keep are left alone, and so is a
// version a retained plan pins (it may be replayed).
func (d *Dir) DropTablesBefore(ctx context.Context, keep map[string]uint64) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	pinned := d.pinned()
	return d.dropTables(func(k tableKey) bool {
		oldest, ok := keep[k.name]
		return ok && k.version < oldest && !pinned[k]
	})
}

// pinned returns the table versions retained plans pin. d.wmu must be held.
func (d *Dir) pinned() map[tableKey]bool {
	out := map[tableKey]bool{}
	for _, p := range d.plans {
		for t, v := range p.Versions {
			out[tableKey{t, v}] = true
		}
	}
	return out
}

// dropSuperseded deletes the table copies Compact says it deletes.
func (d *Dir) dropSuperseded() error {
	pinned := d.pinned()
	newest := map[string]uint64{}
	for k := range pinned {
		newest[k.name] = max(newest[k.name], k.version)
	}
	return d.dropTables(func(k tableKey) bool {
		n, ok := newest[k.name]
		return ok && k.version < n && !pinned[k]
	})
}

// dropTables deletes the table copies drop selects. d.wmu must be held.
func (d *Dir) dropTables(drop func(tableKey) bool) error {
	d.mu.RLock()
	var doomed []tableKey
	for k := range d.tables {
		if drop(k) {
			doomed = append(doomed, k)
		}
	}
	d.mu.RUnlock()
	if len(doomed) == 0 {
		return nil
	}
	var errs []error
	for _, k := range doomed {
		err := os.Remove(filepath.Join(d.path, tableFileName(k.name, k.version)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		d.mu.Lock()
		delete(d.tables, k)
		d.mu.Unlock()
	}
	if err := syncDir(d.path); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return ioError("remove table copies", err)
	}
	return nil
}
