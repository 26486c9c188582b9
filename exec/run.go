package exec

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Result is the outcome of one statement run by Run: rows for a query or
// EXPLAIN, and the command tag.
type Result struct {
	op    Operator // nil for statements without rows
	cols  []plan.Column
	tag   string // the whole tag, or the verb when rows are counted
	count bool   // the tag is "<verb> <rows>"
	rows  int64
	done  bool
}

// Next returns the next record of rows, or nil at the end. The record is
// borrowed until the next call to Next or Close. Its columns are
// Columns(), with the Arrow types of their SQL types.
func (r *Result) Next(ctx context.Context) (arrow.Record, error) {
	if r.done || r.op == nil {
		return nil, nil
	}
	rec, err := r.op.Next(ctx)
	if err != nil {
		r.done = true
		return nil, err
	}
	if rec == nil {
		r.done = true
		// Free the operator tree as soon as the rows are out.
		return nil, r.closeOp()
	}
	r.rows += rec.NumRows()
	return rec, nil
}

// Tag returns the PostgreSQL command tag ("SELECT 3", "INSERT 0 2",
// "UPDATE 1", "CREATE TABLE", ...). For a query it counts the rows
// returned so far, so it is final once Next has returned nil.
func (r *Result) Tag() string {
	if r.count {
		return fmt.Sprintf("%s %d", r.tag, r.rows)
	}
	return r.tag
}

// Columns returns the result columns; nil for statements without rows.
func (r *Result) Columns() []plan.Column { return r.cols }

// Close releases the result and its operators. It is safe to call twice.
func (r *Result) Close() error {
	r.done = true
	return r.closeOp()
}

func (r *Result) closeOp() error {
	if r.op == nil {
		return nil
	}
	err := r.op.Close()
	r.op = nil
	return err
}

// Run executes one statement. Queries and EXPLAIN return a Result whose
// rows stream from Next; every other statement has completed when Run
// returns, and its Result has only a tag. The session-level statements
// (SET, SHOW, BEGIN/COMMIT/ROLLBACK, the empty statement) belong to the
// caller and are refused with 0A000.
func Run(ctx context.Context, env *Env, stmt plan.Statement) (*Result, error) {
	if env == nil {
		return nil, internalf("run without an environment")
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	switch s := stmt.(type) {
	case *plan.Query:
		op, err := Build(ctx, env, s.Root)
		if err != nil {
			return nil, err
		}
		return &Result{op: op, cols: s.Root.Columns(), tag: "SELECT", count: true}, nil

	case *plan.Explain:
		n := explainNode(s.Text)
		op, err := Build(ctx, env, n)
		if err != nil {
			return nil, err
		}
		return &Result{op: op, cols: n.Cols, tag: "EXPLAIN"}, nil

	case *plan.Insert:
		n, err := runInsert(ctx, env, s)
		if err != nil {
			return nil, err
		}
		return &Result{tag: fmt.Sprintf("INSERT 0 %d", n)}, nil

	case *plan.Update:
		n, err := runUpdate(ctx, env, s)
		if err != nil {
			return nil, err
		}
		return &Result{tag: fmt.Sprintf("UPDATE %d", n)}, nil

	case *plan.Delete:
		n, err := runDelete(ctx, env, s)
		if err != nil {
			return nil, err
		}
		return &Result{tag: fmt.Sprintf("DELETE %d", n)}, nil

	case *plan.CreateTable:
		cat, err := env.catalog()
		if err != nil {
			return nil, err
		}
		if err := cat.CreateTable(ctx, s.Def, s.IfNotExists); err != nil {
			return nil, err
		}
		return &Result{tag: "CREATE TABLE"}, nil

	case *plan.DropTable:
		if err := runDropTable(ctx, env, s); err != nil {
			return nil, err
		}
		return &Result{tag: "DROP TABLE"}, nil

	case *plan.Truncate:
		if err := runTruncate(ctx, env, s); err != nil {
			return nil, err
		}
		return &Result{tag: "TRUNCATE TABLE"}, nil

	case *plan.SetVar, *plan.ShowVar, *plan.Txn, *plan.Empty:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "%T is a session statement: the session runs it, not the executor", stmt)

	case nil:
		return nil, internalf("nil statement")
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported by the executor", stmt)
}

// catalog returns the catalog, or an error when the Env has none.
func (e *Env) catalog() (*catalog.Catalog, error) {
	if e.Catalog == nil {
		return nil, internalf("no catalog")
	}
	return e.Catalog, nil
}

// explainNode is the Values node of EXPLAIN's rows: one text row per line
// of the printed plan.
func explainNode(text string) *plan.Values {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	n := &plan.Values{Cols: []plan.Column{{Name: "QUERY PLAN", Type: sqltypes.Text}}}
	for _, l := range lines {
		n.Rows = append(n.Rows, []plan.Expr{&plan.Literal{Value: l, T: sqltypes.Text}})
	}
	return n
}

// runInsert evaluates the source and inserts its rows in one catalog
// write: either every row is inserted or none is. The source is evaluated
// before the write starts, against the versions Build pinned, so that
// INSERT INTO t SELECT ... FROM t reads t as it was before the statement.
func runInsert(ctx context.Context, env *Env, s *plan.Insert) (int, error) {
	if s.ToSource {
		return runInsertSource(ctx, env, s)
	}
	tbl, err := env.table(s.Table)
	if err != nil {
		return 0, err
	}
	def := tbl.Def()
	if len(s.Targets) != len(s.Source.Columns()) {
		return 0, internalf("insert has %d target columns for %d source columns", len(s.Targets), len(s.Source.Columns()))
	}
	for _, t := range s.Targets {
		if t < 0 || t >= len(def.Columns) {
			return 0, internalf("insert target column %d of table %q does not exist", t, def.Name)
		}
	}
	rows, err := collectRows(ctx, env, s.Source, s.Targets, len(def.Columns))
	if err != nil {
		return 0, err
	}
	_, err = tbl.Write(ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error {
		for _, row := range rows {
			if err := w.Insert(row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// runInsertSource appends the rows to a source.
func runInsertSource(ctx context.Context, env *Env, s *plan.Insert) (int, error) {
	if env.Sources == nil {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "cannot insert into source %q here", s.Table)
	}
	for _, t := range s.Targets {
		if t < 0 || t >= s.Width {
			return 0, internalf("insert target column %d of source %q does not exist", t, s.Table)
		}
	}
	rows, err := collectRows(ctx, env, s.Source, s.Targets, s.Width)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	if err := env.Sources.AppendRows(ctx, s.Table, rows); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// collectRows runs the plan n and returns its rows as table rows of width
// columns: source column c goes to column targets[c], the others are NULL.
func collectRows(ctx context.Context, env *Env, n plan.Node, targets []int, width int) (rows [][]any, err error) {
	op, err := Build(ctx, env, n)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := op.Close(); err == nil {
			err = cerr
		}
	}()
	for {
		rec, err := op.Next(ctx)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return rows, nil
		}
		nr := int(rec.NumRows())
		cells := make([]any, nr*width) // one allocation for the record's rows
		for i := 0; i < nr; i++ {
			row := cells[i*width : (i+1)*width : (i+1)*width]
			for c, t := range targets {
				row[t] = expr.ValueAt(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
}

// matchRows returns the rows of rec for which filter is true (all rows
// when filter is nil).
func matchRows(ctx context.Context, env *Env, filter *expr.Program, rec arrow.Record, all *[]int32) ([]int32, error) {
	if filter == nil {
		return iota32(all, int(rec.NumRows())), nil
	}
	return filter.Select(ctx, env.exprEnv(), rec, nil)
}

// compileOptional compiles e, or returns nil for a nil e.
func compileOptional(e plan.Expr) (*expr.Program, error) {
	if e == nil {
		return nil, nil
	}
	return expr.Compile(e)
}

// runUpdate changes the matching rows in one catalog write. The filter
// and the assignments are evaluated over whole records of the current
// version (the assignments only over the matching rows, so that an
// expression failing on a row that does not match cannot fail the
// statement); each matching row is then deleted and its new version
// inserted. All deletes are staged before all inserts, so that a key
// moving from one row to another is not a conflict.
func runUpdate(ctx context.Context, env *Env, s *plan.Update) (int, error) {
	tbl, err := env.table(s.Table)
	if err != nil {
		return 0, err
	}
	width := len(tbl.Def().Columns)
	filter, err := compileOptional(s.Filter)
	if err != nil {
		return 0, err
	}
	set := make([]*expr.Program, len(s.Set))
	for i, a := range s.Set {
		if a.Column < 0 || a.Column >= width {
			return 0, internalf("update of column %d of table %q, which does not exist", a.Column, s.Table)
		}
		if set[i], err = expr.Compile(a.Expr); err != nil {
			return 0, err
		}
	}
	count := 0
	_, err = tbl.Write(ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		count = 0
		var (
			ords []int
			rows [][]any
			all  []int32
		)
		base := 0
		recs := cur.Records()
		defer releaseRecords(recs)
		for _, rec := range recs {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			n := int(rec.NumRows())
			sel, err := matchRows(ctx, env, filter, rec, &all)
			if err != nil {
				return err
			}
			if len(sel) > 0 {
				newRows, err := updatedRows(ctx, env, rec, sel, s.Set, set, width)
				if err != nil {
					return err
				}
				for _, r := range sel {
					ords = append(ords, base+int(r))
				}
				rows = append(rows, newRows...)
			}
			base += n
		}
		for _, o := range ords {
			if err := w.Delete(o); err != nil {
				return err
			}
		}
		for _, row := range rows {
			if err := w.Insert(row); err != nil {
				return err
			}
		}
		count = len(ords)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// updatedRows returns the new versions of rows sel of rec: the
// assignments are evaluated over the matching rows gathered into one
// record.
func updatedRows(ctx context.Context, env *Env, rec arrow.Record, sel []int32, assigns []plan.Assignment, set []*expr.Program, width int) ([][]any, error) {
	sub := rec
	if len(sel) != int(rec.NumRows()) {
		var err error
		if sub, err = takeRecord(env.mem(), rec.Schema(), rec, sel); err != nil {
			return nil, err
		}
		defer sub.Release()
	}
	vals := make([]arrow.Array, len(set))
	defer releaseArrays(vals)
	for i, p := range set {
		a, err := p.Eval(ctx, env.exprEnv(), sub)
		if err != nil {
			return nil, err
		}
		vals[i] = a
	}
	if int(sub.NumCols()) != width {
		return nil, internalf("table record has %d columns, table %d", sub.NumCols(), width)
	}
	n := len(sel)
	cells := make([]any, n*width)
	rows := make([][]any, n)
	for j := 0; j < n; j++ {
		row := cells[j*width : (j+1)*width : (j+1)*width]
		for c := 0; c < width; c++ {
			row[c] = expr.ValueAt(sub.Column(c), j)
		}
		for i, a := range assigns {
			row[a.Column] = expr.ValueAt(vals[i], j)
		}
		rows[j] = row
	}
	return rows, nil
}

// runDelete removes the matching rows in one catalog write.
func runDelete(ctx context.Context, env *Env, s *plan.Delete) (int, error) {
	tbl, err := env.table(s.Table)
	if err != nil {
		return 0, err
	}
	filter, err := compileOptional(s.Filter)
	if err != nil {
		return 0, err
	}
	count := 0
	_, err = tbl.Write(ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		count = 0
		if filter == nil {
			count = cur.NumRows()
			w.DeleteAll()
			return nil
		}
		var ords []int
		base := 0
		recs := cur.Records()
		defer releaseRecords(recs)
		for _, rec := range recs {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			sel, err := filter.Select(ctx, env.exprEnv(), rec, nil)
			if err != nil {
				return err
			}
			for _, r := range sel {
				ords = append(ords, base+int(r))
			}
			base += int(rec.NumRows())
		}
		for _, o := range ords {
			if err := w.Delete(o); err != nil {
				return err
			}
		}
		count = len(ords)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// runDropTable drops the tables. Unless IF EXISTS is given, every table
// must exist before any is dropped, as in PostgreSQL.
func runDropTable(ctx context.Context, env *Env, s *plan.DropTable) error {
	cat, err := env.catalog()
	if err != nil {
		return err
	}
	if !s.IfExists {
		for _, name := range s.Names {
			if _, err := cat.Table(name); err != nil {
				return err
			}
		}
	}
	for _, name := range s.Names {
		if err := cat.DropTable(ctx, name, s.IfExists); err != nil {
			return err
		}
	}
	return nil
}

// runTruncate empties the tables, one new version each. Every table must
// exist before any is emptied.
func runTruncate(ctx context.Context, env *Env, s *plan.Truncate) error {
	tables := make([]*catalog.Table, len(s.Tables))
	for i, name := range s.Tables {
		t, err := env.table(name)
		if err != nil {
			return err
		}
		tables[i] = t
	}
	for _, t := range tables {
		_, err := t.Write(ctx, func(_ *catalog.Snapshot, w *catalog.Writer) error {
			w.DeleteAll()
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
