package catalog

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// openT opens a catalog in dir and closes it when the test ends.
func openT(t testing.TB, dir string, opts ...Options) *Catalog {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	c, err := OpenWithOptions(context.Background(), dir, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// usersDef is a table with a primary key and a VARCHAR.
func usersDef() TableDef {
	return TableDef{
		Name: "users",
		Columns: []ColumnDef{
			{Name: "id", Type: sqltypes.Int64},
			{Name: "name", Type: sqltypes.Varchar(3)},
			{Name: "qty", Type: sqltypes.Int32, NotNull: true},
		},
		PrimaryKey: []int{0},
	}
}

// logDef is a table without a primary key.
func logDef() TableDef {
	return TableDef{
		Name: "log",
		Columns: []ColumnDef{
			{Name: "msg", Type: sqltypes.Text},
			{Name: "n", Type: sqltypes.Int64},
		},
	}
}

// allTypesDef has a column of every type.
func allTypesDef() TableDef {
	return TableDef{
		Name: "all_types",
		Columns: []ColumnDef{
			{Name: "b", Type: sqltypes.Bool},
			{Name: "i16", Type: sqltypes.Int16},
			{Name: "i32", Type: sqltypes.Int32},
			{Name: "i64", Type: sqltypes.Int64},
			{Name: "f32", Type: sqltypes.Float32},
			{Name: "f64", Type: sqltypes.Float64},
			{Name: "s", Type: sqltypes.Text},
			{Name: "vc", Type: sqltypes.Varchar(10)},
			{Name: "ts", Type: sqltypes.Timestamp},
			{Name: "d", Type: sqltypes.Date},
			{Name: "iv", Type: sqltypes.IntervalT},
		},
		PrimaryKey: []int{3, 6},
	}
}

func mustCreate(t testing.TB, c *Catalog, def TableDef) *Table {
	t.Helper()
	if err := c.CreateTable(context.Background(), def, false); err != nil {
		t.Fatalf("CreateTable(%s): %v", def.Name, err)
	}
	tbl, err := c.Table(def.Name)
	if err != nil {
		t.Fatalf("Table(%s): %v", def.Name, err)
	}
	return tbl
}

// mustWrite runs a statement that must succeed.
func mustWrite(t testing.TB, tbl *Table, fn func(cur *Snapshot, w *Writer) error) *Snapshot {
	t.Helper()
	s, err := tbl.Write(context.Background(), fn)
	if err != nil {
		t.Fatalf("Write(%s): %v", tbl.Name(), err)
	}
	return s
}

// insert stages rows.
func insert(rows ...[]any) func(cur *Snapshot, w *Writer) error {
	return func(_ *Snapshot, w *Writer) error {
		for _, r := range rows {
			if err := w.Insert(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// rowsOf returns a snapshot's rows in ordinal order.
func rowsOf(s *Snapshot) [][]any {
	out := make([][]any, s.NumRows())
	for i := range out {
		out[i] = s.Row(i)
	}
	return out
}

// sorted returns rows sorted by their printed form, for order-insensitive
// comparisons.
func sorted(rows [][]any) [][]any {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b []any) int {
		x, y := fmt.Sprint(a...), fmt.Sprint(b...)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}

// recordRows reads a snapshot's rows through Records, checking the chunk
// invariants on the way.
func recordRows(t testing.TB, s *Snapshot, chunkRows int) [][]any {
	t.Helper()
	def := s.Def()
	var out [][]any
	for _, rec := range s.Records() {
		if rec.NumRows() == 0 || int(rec.NumRows()) > chunkRows {
			t.Fatalf("chunk has %d rows, want 1..%d", rec.NumRows(), chunkRows)
		}
		if !rec.Schema().Equal(s.Schema()) {
			t.Fatalf("record schema %s, want %s", rec.Schema(), s.Schema())
		}
		for j, c := range def.Columns {
			if got, want := rec.Column(j).DataType(), c.Type.Arrow(); !arrow.TypeEqual(got, want) {
				t.Fatalf("column %s has Arrow type %s, want %s", c.Name, got, want)
			}
		}
		for i := range int(rec.NumRows()) {
			row := make([]any, len(def.Columns))
			for j, c := range def.Columns {
				row[j] = valueAt(rec.Column(j), c.Type, i)
			}
			out = append(out, row)
		}
	}
	if len(out) != s.NumRows() {
		t.Fatalf("records hold %d rows, NumRows is %d", len(out), s.NumRows())
	}
	return out
}

func equalRows(a, b [][]any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalRow(a[i], b[i]) {
			return false
		}
	}
	return true
}

func equalRow(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if tx, ok := x.(time.Time); ok {
			ty, ok := y.(time.Time)
			if !ok || !tx.Equal(ty) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// wantCode checks an error's SQLSTATE and message.
func wantCode(t testing.TB, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %q", code, msg)
	}
	if got := sqlerr.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("got message %q, want %q", err.Error(), msg)
	}
}

// copyDir copies a directory's regular files, as a backup or a crash
// would leave them.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		_ = in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// lastSegment returns the path of the newest log segment in dir.
func lastSegment(t testing.TB, dir string) string {
	t.Helper()
	seqs, err := listSegments(dir, 0)
	if err != nil || len(seqs) == 0 {
		t.Fatalf("no log segments in %s: %v", dir, err)
	}
	return filepath.Join(dir, segName(seqs[len(seqs)-1]))
}

// state is a comparable summary of a catalog: per table its id, version,
// definition and rows in ordinal order.
type tableState struct {
	id      uint64
	version uint64
	at      time.Time
	def     TableDef
	rows    [][]any
	marks   map[string]int64
}

func stateOf(t testing.TB, c *Catalog) map[string]tableState {
	t.Helper()
	out := make(map[string]tableState)
	for _, name := range c.TableNames() {
		tbl, err := c.Table(name)
		if err != nil {
			t.Fatal(err)
		}
		s := tbl.Snapshot()
		out[name] = tableState{id: tbl.ID(), version: s.Version(), at: s.CommittedAt(), def: s.Def(), rows: rowsOf(s),
			marks: maps.Clone(s.marks)}
	}
	return out
}

func compareStates(t testing.TB, got, want map[string]tableState) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tables, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Fatalf("table %s is missing", name)
		}
		if g.id != w.id || g.version != w.version || !g.at.Equal(w.at) {
			t.Errorf("table %s: got id %d version %d at %v, want id %d version %d at %v",
				name, g.id, g.version, g.at, w.id, w.version, w.at)
		}
		if !reflect.DeepEqual(g.def, w.def) {
			t.Errorf("table %s: got def %+v, want %+v", name, g.def, w.def)
		}
		if !maps.Equal(g.marks, w.marks) {
			t.Errorf("table %s: got marks %v, want %v", name, g.marks, w.marks)
		}
		if !equalRows(g.rows, w.rows) {
			t.Errorf("table %s: got %d rows %v, want %d rows %v", name, len(g.rows), g.rows, len(w.rows), w.rows)
		}
	}
}
