package exec

import (
	"context"
	"testing"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

func TestHashJoin(t *testing.T) {
	env := testEnv(t, 0)
	lt := []sqltypes.Type{tInt, tText}
	rt := []sqltypes.Type{tText, tInt}
	left := batches(lt,
		[][]any{{int64(1), "a"}, {int64(2), "b"}},
		[][]any{{int64(3), nil}, {int64(4), "a"}},
	)
	right := batches(rt,
		[][]any{{"a", int64(10)}, {nil, int64(40)}},
		[][]any{{"a", int64(11)}, {"c", int64(30)}},
	)
	small := values([]sqltypes.Type{tInt}, []any{int64(1)}, []any{int64(2)})
	lk := []plan.Expr{colRef(1, tText)}
	rk := []plan.Expr{colRef(0, tText)}
	join := func(kind plan.JoinKind, l, r plan.Node, lkeys, rkeys []plan.Expr, cond plan.Expr) *plan.Join {
		return &plan.Join{Left: l, Right: r, Kind: kind, LeftKeys: lkeys, RightKeys: rkeys, Cond: cond}
	}
	tests := []struct {
		name string
		node plan.Node
		want [][]any // in any order
	}{
		{
			name: "an inner join pairs every match, duplicates on both sides, and NULL keys never match",
			node: join(plan.JoinInner, left, right, lk, rk, nil),
			want: [][]any{{int64(1), "a", "a", int64(10)}, {int64(1), "a", "a", int64(11)}, {int64(4), "a", "a", int64(10)}, {int64(4), "a", "a", int64(11)}},
		},
		{
			name: "a left join adds unmatched and NULL-keyed left rows once, with NULLs on the right",
			node: join(plan.JoinLeft, left, right, lk, rk, nil),
			want: [][]any{
				{int64(1), "a", "a", int64(10)}, {int64(1), "a", "a", int64(11)}, {int64(2), "b", nil, nil},
				{int64(3), nil, nil, nil}, {int64(4), "a", "a", int64(10)}, {int64(4), "a", "a", int64(11)},
			},
		},
		{
			name: "a residual condition over both sides filters the matches of an inner join",
			node: join(plan.JoinInner, left, right, lk, rk, gt(colRef(3, tInt), lit(int64(10), tInt))),
			want: [][]any{{int64(1), "a", "a", int64(11)}, {int64(4), "a", "a", int64(11)}},
		},
		{
			name: "in a left join a row whose matches all fail the condition appears once with NULLs",
			node: join(plan.JoinLeft, left, right, lk, rk,
				call("and", tBool, gt(colRef(3, tInt), lit(int64(10), tInt)), call("<", tBool, colRef(0, tInt), lit(int64(4), tInt)))),
			want: [][]any{{int64(1), "a", "a", int64(11)}, {int64(2), "b", nil, nil}, {int64(3), nil, nil, nil}, {int64(4), "a", nil, nil}},
		},
		{
			name: "a join without keys is a cross join",
			node: join(plan.JoinInner, small, small, nil, nil, nil),
			want: [][]any{{int64(1), int64(1)}, {int64(1), int64(2)}, {int64(2), int64(1)}, {int64(2), int64(2)}},
		},
		{
			name: "a cross join with a condition",
			node: join(plan.JoinLeft, small, small, nil, nil, call("<", tBool, colRef(0, tInt), colRef(1, tInt))),
			want: [][]any{{int64(1), int64(2)}, {int64(2), nil}},
		},
		{
			name: "an inner join with an empty right side is empty",
			node: join(plan.JoinInner, left, values(rt), lk, rk, nil),
			want: nil,
		},
		{
			name: "a left join with an empty right side returns every left row with NULLs",
			node: join(plan.JoinLeft, left, values(rt), lk, rk, nil),
			want: [][]any{{int64(1), "a", nil, nil}, {int64(2), "b", nil, nil}, {int64(3), nil, nil, nil}, {int64(4), "a", nil, nil}},
		},
		{
			name: "a left cross join with an empty right side returns every left row with NULLs",
			node: join(plan.JoinLeft, small, values([]sqltypes.Type{tInt}), nil, nil, nil),
			want: [][]any{{int64(1), nil}, {int64(2), nil}},
		},
		{
			name: "a join with an empty left side is empty",
			node: join(plan.JoinLeft, values(lt), right, lk, rk, nil),
			want: nil,
		},
		{
			name: "keys may be several, of several types, and match only when all are equal and non-NULL",
			node: join(plan.JoinInner,
				values([]sqltypes.Type{tInt32, tText, sqltypes.Date}, []any{int64(1), "x", date("2024-01-01")}, []any{int64(1), "y", date("2024-01-01")}, []any{nil, "x", date("2024-01-01")}, []any{int64(2), "x", nil}),
				values([]sqltypes.Type{tInt32, tText, sqltypes.Date}, []any{int64(1), "x", date("2024-01-01")}, []any{int64(1), "x", date("2024-01-02")}, []any{nil, "x", date("2024-01-01")}, []any{int64(2), "x", nil}),
				[]plan.Expr{colRef(0, tInt32), colRef(1, tText), colRef(2, sqltypes.Date)},
				[]plan.Expr{colRef(0, tInt32), colRef(1, tText), colRef(2, sqltypes.Date)},
				nil),
			want: [][]any{{int64(1), "x", date("2024-01-01"), int64(1), "x", date("2024-01-01")}},
		},
		{
			name: "a key may be an expression",
			node: join(plan.JoinInner, small, small, []plan.Expr{call("+", tInt, colRef(0, tInt), lit(int64(1), tInt))}, []plan.Expr{colRef(0, tInt)}, nil),
			want: [][]any{{int64(1), int64(2)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustRows(t, fresh(env), tt.node)
			sortRows(got)
			sortRows(tt.want)
			if fmtRows(got) != fmtRows(tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(got), fmtRows(tt.want))
			}
		})
	}
}

func TestSelfJoinReadsOneVersion(t *testing.T) {
	env := testEnv(t, 0)
	def := catalog.TableDef{Name: "t", Columns: []catalog.ColumnDef{{Name: "id", Type: tInt}}, PrimaryKey: []int{0}}
	createTable(t, env, def, []any{int64(1)}, []any{int64(2)})
	scan := scanOf(t, env, "t")
	n := &plan.Join{Left: scan, Right: scan, Kind: plan.JoinInner, LeftKeys: []plan.Expr{colRef(0, tInt)}, RightKeys: []plan.Expr{colRef(0, tInt)}}

	ctx := context.Background()
	stmtEnv := fresh(env)
	op, err := Build(ctx, stmtEnv, n)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	// A write committed after the statement started is not seen by it.
	createRows := func() {
		tbl, _ := env.Catalog.Table("t")
		_, err := tbl.Write(ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error { return w.Insert([]any{int64(3)}) })
		if err != nil {
			t.Fatal(err)
		}
	}
	createRows()
	var got int64
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			break
		}
		got += rec.NumRows()
	}
	if got != 2 {
		t.Errorf("got %d joined rows, want 2 (the version pinned when the statement was built)", got)
	}
	if len(stmtEnv.snaps) != 1 {
		t.Errorf("got %d pinned snapshots, want 1", len(stmtEnv.snaps))
	}
}

func TestLeftJoinWithAConditionOverLargeRecords(t *testing.T) {
	env := testEnv(t, 100_000)
	const n = 100_000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i)}
	}
	createTable(t, env, catalog.TableDef{Name: "t", Columns: []catalog.ColumnDef{{Name: "id", Type: tInt}}}, rows...)
	scan := scanOf(t, env, "t")
	// Every row matches itself, the condition rejects all but id 7.
	node := &plan.Join{Left: scan, Right: scan, Kind: plan.JoinLeft,
		LeftKeys: []plan.Expr{colRef(0, tInt)}, RightKeys: []plan.Expr{colRef(0, tInt)},
		Cond: eq(colRef(1, tInt), lit(int64(7), tInt))}
	got, records, err := runNode(t, fresh(env), node)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n || records != 3 {
		t.Errorf("got %d rows in %d records, want %d rows in 3 records", len(got), records, n)
	}
	matched := 0
	for _, r := range got {
		if r[1] != nil {
			matched++
			if r[0] != int64(7) || r[1] != int64(7) {
				t.Errorf("got matched row %v, want [7 7]", r)
			}
		}
	}
	if matched != 1 {
		t.Errorf("got %d matched rows, want 1", matched)
	}
}
