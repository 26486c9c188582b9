package exec

import (
	"context"
	"testing"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// setV commits a statement that sets v of row k of kv.
func setV(t *testing.T, env *Env, k, v int64) {
	t.Helper()
	tbl, err := env.Catalog.Table("kv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tbl.Write(context.Background(), func(cur *catalog.Snapshot, w *catalog.Writer) error {
		o, ok := cur.Lookup([]any{k})
		if !ok {
			return sqlerr.New(sqlerr.InternalError, "no row %d", k)
		}
		row := cur.Row(o)
		if err := w.Delete(o); err != nil {
			return err
		}
		row[1] = v
		return w.Insert(row)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scanAt returns a Scan of kv AS OF VERSION version.
func scanAt(t *testing.T, env *Env, version uint64) *plan.Scan {
	s := scanOf(t, env, "kv")
	s.Version = version
	return s
}

func TestScanAsOfVersion(t *testing.T) {
	env := testEnv(t, 2)
	createTable(t, env, kvTable, kvRows()...) // version 2
	setV(t, env, 1, 11)                       // version 3
	setV(t, env, 1, 12)                       // version 4
	k1 := func(n plan.Node) plan.Node {
		return &plan.Filter{Input: n, Pred: eq(kK, lit(int64(1), tInt))}
	}
	param := func(i int) *plan.Scan {
		s := scanOf(t, env, "kv")
		s.VersionParam = &plan.Param{Index: i, T: tInt}
		return s
	}
	tests := []struct {
		name   string
		node   func() plan.Node
		params []any
		want   [][]any
		code   string
	}{
		{"a scan without a version reads the current one", func() plan.Node { return k1(scanOf(t, env, "kv")) }, nil,
			[][]any{{int64(1), int64(12), "a"}}, ""},
		{"a scan AS OF VERSION reads that version", func() plan.Node { return k1(scanAt(t, env, 3)) }, nil,
			[][]any{{int64(1), int64(11), "a"}}, ""},
		{"a scan AS OF VERSION $1 reads the parameter's version", func() plan.Node { return k1(param(0)) }, []any{int32(2)},
			[][]any{{int64(1), int64(10), "a"}}, ""},
		{"two versions of one table join in one statement", func() plan.Node {
			return &plan.Project{
				Input: &plan.Join{Left: k1(scanAt(t, env, 2)), Right: k1(scanAt(t, env, 4)), Kind: plan.JoinInner,
					LeftKeys: []plan.Expr{kK}, RightKeys: []plan.Expr{kK}},
				Exprs: []plan.Expr{kK, kV, colRef(4, tInt32)},
				Cols:  []plan.Column{{Name: "k", Type: tInt}, {Name: "before", Type: tInt32}, {Name: "after", Type: tInt32}},
			}
		}, nil, [][]any{{int64(1), int64(10), int64(12)}}, ""},
		{"the current version and an old one join in one statement", func() plan.Node {
			return &plan.Join{Left: k1(scanOf(t, env, "kv")), Right: k1(scanAt(t, env, 3)), Kind: plan.JoinInner,
				LeftKeys: []plan.Expr{kK}, RightKeys: []plan.Expr{kK}}
		}, nil, [][]any{{int64(1), int64(12), "a", int64(1), int64(11), "a"}}, ""},
		{"a version not committed yet is 22023", func() plan.Node { return scanAt(t, env, 9) }, nil, nil, sqlerr.InvalidParameterValue},
		{"a NULL version parameter is 22023", func() plan.Node { return param(0) }, []any{nil}, nil, sqlerr.InvalidParameterValue},
		{"a version parameter of 0 is 22023", func() plan.Node { return param(0) }, []any{int64(0)}, nil, sqlerr.InvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fresh(env)
			e.Params = tt.params
			rows, _, err := runNode(t, e, tt.node())
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameRows(rows, tt.want) {
				t.Errorf("got\n%swant\n%s", fmtRows(rows), fmtRows(tt.want))
			}
		})
	}
}

func TestPinnedVersionsAndOldVersionsMix(t *testing.T) {
	env := testEnv(t, 4)
	createTable(t, env, kvTable, kvRows()...) // version 2
	tbl, err := env.Catalog.Table("kv")
	if err != nil {
		t.Fatal(err)
	}
	pinned := tbl.Snapshot()
	setV(t, env, 1, 11) // version 3
	e := fresh(env)
	e.Pinned = map[string]*catalog.Snapshot{"kv": pinned}
	k1 := func(n plan.Node) plan.Node { return &plan.Filter{Input: n, Pred: eq(kK, lit(int64(1), tInt))} }
	rows := mustRows(t, e, &plan.Join{Left: k1(scanOf(t, env, "kv")), Right: k1(scanAt(t, env, 3)), Kind: plan.JoinInner,
		LeftKeys: []plan.Expr{kK}, RightKeys: []plan.Expr{kK}})
	want := [][]any{{int64(1), int64(10), "a", int64(1), int64(11), "a"}}
	if !sameRows(rows, want) {
		t.Errorf("the pinned version joined with version 3: got\n%swant\n%s", fmtRows(rows), fmtRows(want))
	}
}
