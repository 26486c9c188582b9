package exec

import (
	"context"
	"testing"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// runStmt runs a statement, drains its rows and returns them with the tag.
func runStmt(t testing.TB, env *Env, stmt plan.Statement) ([][]any, string, error) {
	t.Helper()
	ctx := context.Background()
	res, err := Run(ctx, fresh(env), stmt)
	if err != nil {
		return nil, "", err
	}
	defer func() {
		if err := res.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := res.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	}()
	var rows [][]any
	for {
		rec, err := res.Next(ctx)
		if err != nil {
			return nil, "", err
		}
		if rec == nil {
			break
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]any, rec.NumCols())
			for c := range row {
				row[c] = expr.ValueAt(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
	return rows, res.Tag(), nil
}

// kvTable is the table most statement tests use: k BIGINT PRIMARY KEY,
// v INTEGER NOT NULL, s TEXT.
var kvTable = catalog.TableDef{
	Name: "kv",
	Columns: []catalog.ColumnDef{
		{Name: "k", Type: tInt, NotNull: true},
		{Name: "v", Type: tInt32, NotNull: true},
		{Name: "s", Type: tText},
	},
	PrimaryKey: []int{0},
}

func kvRows() [][]any {
	return [][]any{{int64(1), int64(10), "a"}, {int64(2), int64(20), nil}, {int64(3), int64(0), "c"}, {int64(4), int64(40), "d"}}
}

var (
	kK = colRef(0, tInt)
	kV = colRef(1, tInt32)
	kS = colRef(2, tText)
)

func TestRunStatements(t *testing.T) {
	i32 := func(v int64) plan.Expr { return lit(v, tInt32) }
	tests := []struct {
		name     string
		stmt     func(env *Env) plan.Statement
		wantTag  string
		wantRows [][]any // rows returned, in order
		wantCode string
		wantKV   [][]any // the table afterwards (sorted); nil: unchanged
	}{
		{
			name: "a query streams its rows and counts them in the tag",
			stmt: func(env *Env) plan.Statement {
				return &plan.Query{Root: &plan.Sort{Input: scanOf(t, env, "kv"), Keys: []plan.SortKey{{Expr: kK, Desc: true}}}}
			},
			wantTag:  "SELECT 4",
			wantRows: [][]any{{int64(4), int64(40), "d"}, {int64(3), int64(0), "c"}, {int64(2), int64(20), nil}, {int64(1), int64(10), "a"}},
		},
		{
			name: "a query with no rows is SELECT 0",
			stmt: func(env *Env) plan.Statement {
				return &plan.Query{Root: &plan.Filter{Input: scanOf(t, env, "kv"), Pred: lit(false, tBool)}}
			},
			wantTag:  "SELECT 0",
			wantRows: nil,
		},
		{
			name:     "EXPLAIN returns one text row per line of the plan",
			stmt:     func(*Env) plan.Statement { return &plan.Explain{Text: "Sort k desc\n  Scan kv\n"} },
			wantTag:  "EXPLAIN",
			wantRows: [][]any{{"Sort k desc"}, {"  Scan kv"}},
		},
		{
			name: "INSERT puts NULL in the columns it does not target",
			stmt: func(*Env) plan.Statement {
				return &plan.Insert{Table: "kv", Targets: []int{1, 0}, Source: values([]sqltypes.Type{tInt32, tInt}, []any{int64(50), int64(5)}, []any{int64(60), int64(6)})}
			},
			wantTag: "INSERT 0 2",
			wantKV:  append(kvRows(), []any{int64(5), int64(50), nil}, []any{int64(6), int64(60), nil}),
		},
		{
			name: "INSERT is atomic: a duplicate key in its third row leaves none of its rows",
			stmt: func(*Env) plan.Statement {
				return &plan.Insert{Table: "kv", Targets: []int{0, 1}, Source: values([]sqltypes.Type{tInt, tInt32}, []any{int64(7), int64(1)}, []any{int64(8), int64(1)}, []any{int64(1), int64(1)}, []any{int64(9), int64(1)})}
			},
			wantCode: "23505",
		},
		{
			name: "INSERT of a NULL into a NOT NULL column fails and inserts nothing",
			stmt: func(*Env) plan.Statement {
				return &plan.Insert{Table: "kv", Targets: []int{0}, Source: values([]sqltypes.Type{tInt}, []any{int64(7)})}
			},
			wantCode: "23502",
		},
		{
			name: "INSERT ... SELECT from the same table reads the table as it was",
			stmt: func(env *Env) plan.Statement {
				return &plan.Insert{Table: "kv", Targets: []int{0, 1, 2}, Source: &plan.Project{
					Input: scanOf(t, env, "kv"),
					Exprs: []plan.Expr{call("+", tInt, kK, lit(int64(100), tInt)), kV, kS},
					Cols:  []plan.Column{{Name: "k", Type: tInt}, {Name: "v", Type: tInt32}, {Name: "s", Type: tText}},
				}}
			},
			wantTag: "INSERT 0 4",
			wantKV: append(kvRows(),
				[]any{int64(101), int64(10), "a"}, []any{int64(102), int64(20), nil}, []any{int64(103), int64(0), "c"}, []any{int64(104), int64(40), "d"}),
		},
		{
			name: "UPDATE changes the matching rows and counts them",
			stmt: func(*Env) plan.Statement {
				return &plan.Update{Table: "kv", Filter: call(">=", tBool, kV, i32(20)), Set: []plan.Assignment{{Column: 2, Expr: call("||", tText, lit("x", tText), kS)}}}
			},
			wantTag: "UPDATE 2",
			wantKV:  [][]any{{int64(1), int64(10), "a"}, {int64(2), int64(20), nil}, {int64(3), int64(0), "c"}, {int64(4), int64(40), "xd"}},
		},
		{
			name: "UPDATE assignments all see the old row",
			stmt: func(*Env) plan.Statement {
				return &plan.Update{Table: "kv", Set: []plan.Assignment{
					{Column: 0, Expr: call("+", tInt, kK, lit(int64(1), tInt))},
					{Column: 1, Expr: &plan.Cast{Arg: kK, T: tInt32}},
				}}
			},
			wantTag: "UPDATE 4",
			wantKV:  [][]any{{int64(2), int64(1), "a"}, {int64(3), int64(2), nil}, {int64(4), int64(3), "c"}, {int64(5), int64(4), "d"}},
		},
		{
			name: "UPDATE evaluates assignments only over matching rows",
			stmt: func(*Env) plan.Statement {
				return &plan.Update{Table: "kv", Filter: call("<>", tBool, kV, i32(0)), Set: []plan.Assignment{{Column: 1, Expr: call("/", tInt32, i32(100), kV)}}}
			},
			wantTag: "UPDATE 3",
			wantKV:  [][]any{{int64(1), int64(10), "a"}, {int64(2), int64(5), nil}, {int64(3), int64(0), "c"}, {int64(4), int64(2), "d"}},
		},
		{
			name: "UPDATE is atomic: a duplicate key leaves every row as it was",
			stmt: func(*Env) plan.Statement {
				return &plan.Update{Table: "kv", Filter: call(">", tBool, kK, lit(int64(2), tInt)), Set: []plan.Assignment{{Column: 0, Expr: lit(int64(99), tInt)}}}
			},
			wantCode: "23505",
		},
		{
			name: "UPDATE of no row is UPDATE 0",
			stmt: func(*Env) plan.Statement {
				return &plan.Update{Table: "kv", Filter: null(tBool), Set: []plan.Assignment{{Column: 1, Expr: i32(1)}}}
			},
			wantTag: "UPDATE 0",
		},
		{
			name:    "DELETE removes the matching rows",
			stmt:    func(*Env) plan.Statement { return &plan.Delete{Table: "kv", Filter: call("is_null", tBool, kS)} },
			wantTag: "DELETE 1",
			wantKV:  [][]any{{int64(1), int64(10), "a"}, {int64(3), int64(0), "c"}, {int64(4), int64(40), "d"}},
		},
		{
			name:    "DELETE without a filter removes every row",
			stmt:    func(*Env) plan.Statement { return &plan.Delete{Table: "kv"} },
			wantTag: "DELETE 4",
			wantKV:  [][]any{},
		},
		{
			name:    "TRUNCATE removes every row",
			stmt:    func(*Env) plan.Statement { return &plan.Truncate{Tables: []string{"kv"}} },
			wantTag: "TRUNCATE TABLE",
			wantKV:  [][]any{},
		},
		{
			name:     "TRUNCATE of a missing table fails before emptying any",
			stmt:     func(*Env) plan.Statement { return &plan.Truncate{Tables: []string{"kv", "nope"}} },
			wantCode: "42P01",
		},
		{
			name:     "DROP TABLE of a missing table fails before dropping any",
			stmt:     func(*Env) plan.Statement { return &plan.DropTable{Names: []string{"kv", "nope"}} },
			wantCode: "42P01",
		},
		{
			name:     "CREATE TABLE of an existing table is 42P07",
			stmt:     func(*Env) plan.Statement { return &plan.CreateTable{Def: kvTable} },
			wantCode: "42P07",
		},
		{
			name:    "CREATE TABLE IF NOT EXISTS of an existing table succeeds",
			stmt:    func(*Env) plan.Statement { return &plan.CreateTable{Def: kvTable, IfNotExists: true} },
			wantTag: "CREATE TABLE",
		},
		{
			name:     "SET is the session's business",
			stmt:     func(*Env) plan.Statement { return &plan.SetVar{Name: "x", Value: "1"} },
			wantCode: "0A000",
		},
		{
			name:     "BEGIN is the session's business",
			stmt:     func(*Env) plan.Statement { return &plan.Txn{Kind: plan.TxnBegin} },
			wantCode: "0A000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t, 2)
			createTable(t, env, kvTable, kvRows()...)
			rows, tag, err := runStmt(t, env, tt.stmt(env))
			if tt.wantCode != "" {
				wantCode(t, err, tt.wantCode)
			} else if err != nil {
				t.Fatal(err)
			}
			if tag != tt.wantTag {
				t.Errorf("got tag %q, want %q", tag, tt.wantTag)
			}
			if !sameRows(rows, tt.wantRows) {
				t.Errorf("got rows\n%swant\n%s", fmtRows(rows), fmtRows(tt.wantRows))
			}
			wantKV := tt.wantKV
			if wantKV == nil {
				wantKV = kvRows()
			}
			sortRows(wantKV)
			if got := tableRows(t, env, "kv"); !sameRows(got, wantKV) {
				t.Errorf("table afterwards\n%swant\n%s", fmtRows(got), fmtRows(wantKV))
			}
		})
	}
}

func TestRunDDL(t *testing.T) {
	env := testEnv(t, 0)
	run := func(stmt plan.Statement) string {
		t.Helper()
		_, tag, err := runStmt(t, env, stmt)
		if err != nil {
			t.Fatal(err)
		}
		return tag
	}
	def := catalog.TableDef{Name: "a", Columns: []catalog.ColumnDef{{Name: "x", Type: tInt}}}
	if tag := run(&plan.CreateTable{Def: def}); tag != "CREATE TABLE" {
		t.Errorf("got tag %q, want CREATE TABLE", tag)
	}
	def.Name = "b"
	run(&plan.CreateTable{Def: def})
	if tag := run(&plan.DropTable{Names: []string{"a", "b", "c"}, IfExists: true}); tag != "DROP TABLE" {
		t.Errorf("got tag %q, want DROP TABLE", tag)
	}
	if names := env.Catalog.TableNames(); len(names) != 0 {
		t.Errorf("got tables %v after DROP TABLE, want none", names)
	}
}

func TestResultCanBeClosedBeforeItsEnd(t *testing.T) {
	env := testEnv(t, 1)
	createTable(t, env, kvTable, kvRows()...)
	ctx := context.Background()
	q := &plan.Query{Root: &plan.Sort{Input: scanOf(t, env, "kv"), Keys: []plan.SortKey{{Expr: kK}}}}
	res, err := Run(ctx, fresh(env), q)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Columns(); len(got) != 3 || got[0].Name != "k" {
		t.Errorf("got columns %v, want k, v, s", got)
	}
	rec, err := res.Next(ctx)
	if err != nil || rec == nil {
		t.Fatalf("got %v, %v; want a record", rec, err)
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, err := res.Next(ctx); rec != nil || err != nil {
		t.Errorf("Next after Close gave %v, %v; want nil, nil", rec, err)
	}
	if got := res.Tag(); got != "SELECT 4" {
		t.Errorf("got tag %q, want SELECT 4", got)
	}
}
