package exec

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// checkedMem returns an allocator that fails the test if anything it
// allocated is still outstanding when the test ends. Register it before
// anything that releases memory in a Cleanup, so that it runs last.
func checkedMem(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// testEnv returns an Env over a fresh catalog in a temporary directory,
// with snapshot chunks of chunkRows rows (so small tables span several
// records), and a checked allocator.
func testEnv(t testing.TB, chunkRows int) *Env {
	t.Helper()
	mem := checkedMem(t)
	cat, err := catalog.OpenWithOptions(context.Background(), t.TempDir(), catalog.Options{ChunkRows: chunkRows, NoAutoCheckpoint: true})
	if err != nil {
		t.Fatalf("opening catalog: %v", err)
	}
	t.Cleanup(func() {
		if err := cat.Close(); err != nil {
			t.Errorf("closing catalog: %v", err)
		}
	})
	return &Env{Mem: mem, Catalog: cat}
}

// fresh returns a new Env (new statement) sharing env's catalog, allocator
// and parameters.
func fresh(env *Env) *Env {
	return &Env{Mem: env.Mem, Catalog: env.Catalog, Params: env.Params}
}

// createTable creates a table and inserts rows straight through the
// catalog.
func createTable(t testing.TB, env *Env, def catalog.TableDef, rows ...[]any) {
	t.Helper()
	ctx := context.Background()
	if err := env.Catalog.CreateTable(ctx, def, false); err != nil {
		t.Fatalf("creating %s: %v", def.Name, err)
	}
	if len(rows) == 0 {
		return
	}
	tbl, err := env.Catalog.Table(def.Name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tbl.Write(ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error {
		for _, r := range rows {
			if err := w.Insert(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("inserting into %s: %v", def.Name, err)
	}
}

// tableRows returns the current rows of a table, sorted by their printed
// form (row order in a table is unspecified).
func tableRows(t testing.TB, env *Env, name string) [][]any {
	t.Helper()
	tbl, err := env.Catalog.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	snap := tbl.Snapshot()
	rows := make([][]any, snap.NumRows())
	for i := range rows {
		rows[i] = snap.Row(i)
	}
	sortRows(rows)
	return rows
}

// scanOf returns a Scan node over a table's columns.
func scanOf(t testing.TB, env *Env, name string) *plan.Scan {
	t.Helper()
	tbl, err := env.Catalog.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	s := &plan.Scan{Table: name}
	for _, c := range tbl.Def().Columns {
		s.Cols = append(s.Cols, plan.Column{Name: c.Name, Type: c.Type})
	}
	return s
}

// Expression helpers.

func lit(v any, t sqltypes.Type) *plan.Literal { return &plan.Literal{Value: v, T: t} }

func null(t sqltypes.Type) *plan.Literal { return &plan.Literal{T: t} }

func colRef(i int, t sqltypes.Type) *plan.ColumnRef { return &plan.ColumnRef{Index: i, T: t} }

func call(name string, t sqltypes.Type, args ...plan.Expr) *plan.Func {
	return &plan.Func{Name: name, Args: args, T: t}
}

func eq(a, b plan.Expr) plan.Expr { return call("=", sqltypes.Bool, a, b) }

func gt(a, b plan.Expr) plan.Expr { return call(">", sqltypes.Bool, a, b) }

// values returns a Values node of literal rows; columns are named c1, c2, ...
func values(types []sqltypes.Type, rows ...[]any) *plan.Values {
	n := &plan.Values{}
	for i, t := range types {
		n.Cols = append(n.Cols, plan.Column{Name: fmt.Sprintf("c%d", i+1), Type: t})
	}
	for _, r := range rows {
		var er []plan.Expr
		for i, v := range r {
			er = append(er, lit(v, types[i]))
		}
		n.Rows = append(n.Rows, er)
	}
	return n
}

// batches returns a node producing the rows in several records, one per
// group: a UnionAll of Values.
func batches(types []sqltypes.Type, groups ...[][]any) plan.Node {
	u := &plan.UnionAll{}
	for _, g := range groups {
		v := values(types, g...)
		u.Inputs = append(u.Inputs, v)
		u.Cols = v.Cols
	}
	if len(groups) == 0 {
		v := values(types)
		u.Inputs = append(u.Inputs, v)
		u.Cols = v.Cols
	}
	return u
}

// runNode builds n, drains it and returns its rows (as Go values) and the
// number of records it produced.
func runNode(t testing.TB, env *Env, n plan.Node) (rows [][]any, records int, err error) {
	t.Helper()
	ctx := context.Background()
	op, err := Build(ctx, env, n)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if cerr := op.Close(); cerr != nil {
			t.Errorf("close: %v", cerr)
		}
		if cerr := op.Close(); cerr != nil {
			t.Errorf("second close: %v", cerr)
		}
	}()
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			return rows, records, err
		}
		if rec == nil {
			return rows, records, nil
		}
		records++
		if rec.NumRows() == 0 || rec.NumRows() > maxBatchRows {
			t.Errorf("operator returned a record with %d rows", rec.NumRows())
		}
		if !rec.Schema().Equal(op.Schema()) {
			t.Errorf("record schema %v differs from operator schema %v", rec.Schema(), op.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = expr.ValueAt(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
}

// mustRows is runNode that fails the test on error.
func mustRows(t testing.TB, env *Env, n plan.Node) [][]any {
	t.Helper()
	rows, _, err := runNode(t, env, n)
	if err != nil {
		t.Fatalf("running plan:\n%s\nerror: %v", plan.Format(n), err)
	}
	return rows
}

// sortRows sorts rows by their printed form.
func sortRows(rows [][]any) {
	key := func(r []any) string { return fmt.Sprint(r...) }
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && key(rows[j]) < key(rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// sameRows compares rows in order.
func sameRows(got, want [][]any) bool {
	if len(got) == 0 && len(want) == 0 {
		return true
	}
	return reflect.DeepEqual(got, want)
}

// fmtRows prints rows one per line.
func fmtRows(rows [][]any) string {
	var b strings.Builder
	for _, r := range rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(plan.FormatLiteral(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// wantCode checks that err carries SQLSTATE code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want SQLSTATE %s", code)
	}
	if got := sqlerr.Code(err); got != code {
		t.Fatalf("got SQLSTATE %s (%v), want %s", got, err, code)
	}
}

// ts returns a timestamp value.
func ts(s string) time.Time {
	v, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return v.UTC()
}

// date returns a date value.
func date(s string) time.Time {
	v, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return v.UTC()
}
