package exec

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// TestLookupCacheBuildsOncePerTableVersion joins a stream of events to a
// table batch after batch: the build side is built once per version of
// the table, and a batch after an edit sees the edit.
func TestLookupCacheBuildsOncePerTableVersion(t *testing.T) {
	env := testEnv(t, 2)
	ctx := context.Background()
	createTable(t, env, catalog.TableDef{Name: "rules", PrimaryKey: []int{0},
		Columns: []catalog.ColumnDef{{Name: "page", Type: sqltypes.Text}, {Name: "cat", Type: sqltypes.Text}}},
		[]any{"/a", "x"}, []any{"/b", "y"}, []any{"/c", "z"})
	events := []sqltypes.Type{sqltypes.Text, sqltypes.Int64}
	input := &plan.Input{Source: "ev", Cols: []plan.Column{{Name: "page", Type: sqltypes.Text}, {Name: "n", Type: sqltypes.Int64}}}
	scan := scanOf(t, env, "rules")
	// The build side filters the table, so the cached form is the
	// filtered one.
	right := &plan.Filter{Input: scan, Pred: call("<>", sqltypes.Bool, colRef(1, sqltypes.Text), lit("z", sqltypes.Text))}
	join := &plan.Join{Left: input, Right: right, Kind: plan.JoinLeft,
		LeftKeys: []plan.Expr{colRef(0, sqltypes.Text)}, RightKeys: []plan.Expr{colRef(0, sqltypes.Text)}}
	cache := NewLookupCache()
	defer cache.Close()

	batch := func(rows ...[]any) [][]any {
		t.Helper()
		src := values(events, rows...)
		vop, err := Build(ctx, fresh(env), src)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := drainOp(ctx, vop)
		if err != nil {
			t.Fatal(err)
		}
		defer releaseRecords(recs)
		e := fresh(env)
		e.Lookups = cache
		e.Inputs = map[string]Operator{"ev": NewRecordsOperator(schemaOf(input.Cols), recs)}
		got := mustRows(t, e, join)
		sortRows(got)
		return got
	}
	want := func(got [][]any, rows ...[]any) {
		t.Helper()
		sortRows(rows)
		if !sameRows(got, rows) {
			t.Fatalf("got %s, want %s", fmtRows(got), fmtRows(rows))
		}
	}
	stats := func(hits, built int64) {
		t.Helper()
		if h, b := cache.Stats(); h != hits || b != built {
			t.Fatalf("cache hits %d built %d, want %d and %d", h, b, hits, built)
		}
	}

	want(batch([]any{"/a", int64(1)}, []any{"/c", int64(2)}), []any{"/a", int64(1), "/a", "x"}, []any{"/c", int64(2), nil, nil})
	stats(0, 1)
	want(batch([]any{"/b", int64(3)}), []any{"/b", int64(3), "/b", "y"})
	stats(1, 1)
	want(batch([]any{"/b", int64(4)}, []any{"/a", int64(5)}), []any{"/b", int64(4), "/b", "y"}, []any{"/a", int64(5), "/a", "x"})
	stats(2, 1)

	// An edit makes a new version: the next batch builds again and sees it.
	tbl, err := env.Catalog.Table("rules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Write(ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		ord, ok := cur.Lookup([]any{"/b"})
		if !ok {
			t.Fatal("no /b")
		}
		if err := w.Delete(ord); err != nil {
			return err
		}
		return w.Insert([]any{"/b", "y2"})
	}); err != nil {
		t.Fatal(err)
	}
	want(batch([]any{"/b", int64(6)}), []any{"/b", int64(6), "/b", "y2"})
	stats(2, 2)
	want(batch([]any{"/b", int64(7)}), []any{"/b", int64(7), "/b", "y2"})
	stats(3, 2)
}

// TestLookupCacheSkipsJoinsThatReadTheStream: a join whose build side is
// not only tables is never cached.
func TestLookupCacheSkipsJoinsThatReadTheStream(t *testing.T) {
	env := testEnv(t, 4)
	cache := NewLookupCache()
	defer cache.Close()
	types := []sqltypes.Type{sqltypes.Int64}
	join := &plan.Join{Left: values(types, []any{int64(1)}), Right: values(types, []any{int64(1)}), Kind: plan.JoinInner,
		LeftKeys: []plan.Expr{colRef(0, sqltypes.Int64)}, RightKeys: []plan.Expr{colRef(0, sqltypes.Int64)}}
	for i := 0; i < 2; i++ {
		e := fresh(env)
		e.Lookups = cache
		if got := mustRows(t, e, join); len(got) != 1 {
			t.Fatalf("got %s", fmtRows(got))
		}
	}
	if h, b := cache.Stats(); h != 0 || b != 0 {
		t.Fatalf("a join over VALUES was cached: hits %d built %d", h, b)
	}
}

func drainOp(ctx context.Context, op Operator) (out []arrow.Record, err error) {
	defer op.Close()
	for {
		rec, err := op.Next(ctx)
		if err != nil || rec == nil {
			return out, err
		}
		rec.Retain()
		out = append(out, rec)
	}
}
