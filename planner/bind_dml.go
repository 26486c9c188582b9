package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// dmlTable returns the single table a DML statement names, and its alias.
func (b *binder) dmlTable(refs *ast.TableRefsClause) (catalog.TableDef, string, error) {
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return catalog.TableDef{}, "", sqlerr.New(sqlerr.FeatureNotSupported, "statements over several tables are not supported")
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return catalog.TableDef{}, "", sqlerr.New(sqlerr.FeatureNotSupported, "unsupported target table")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return catalog.TableDef{}, "", sqlerr.New(sqlerr.FeatureNotSupported, "unsupported target table")
	}
	if tn.AsOf != nil {
		return catalog.TableDef{}, "", sqlerr.New(sqlerr.FeatureNotSupported,
			"AS OF VERSION is for reading: a statement can change only the current version of a table")
	}
	def, err := b.env.Catalog.TableDef(tn.Name.O)
	if err != nil {
		return catalog.TableDef{}, "", err
	}
	if err := errFedTable(def); err != nil {
		return catalog.TableDef{}, "", err
	}
	alias := ts.AsName.O
	if alias == "" {
		alias = tn.Name.O
	}
	return def, alias, nil
}

func tableScope(def catalog.TableDef, alias string) *scope {
	sc := &scope{}
	for _, c := range def.Columns {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, t: c.Type})
	}
	return sc
}

func (b *binder) bindInsert(s *ast.InsertStmt) (plan.Statement, error) {
	if s.IsReplace || len(s.OnDuplicate) > 0 || s.Setlist {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "REPLACE, ON DUPLICATE KEY and INSERT ... SET are not supported")
	}
	def, _, err := b.dmlTable(s.Table)
	toSource := false
	if err != nil {
		sd, ok := b.insertSource(s.Table, err)
		if !ok {
			return nil, err
		}
		def, toSource = catalog.TableDef{Name: sd.Name, Columns: sd.Columns}, true
	}
	var targets []int
	if len(s.Columns) == 0 {
		for i := range def.Columns {
			targets = append(targets, i)
		}
	} else {
		seen := map[int]bool{}
		for _, c := range s.Columns {
			i := def.ColumnIndex(c.Name.O)
			if i < 0 {
				return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", c.Name.O, def.Name)
			}
			if seen[i] {
				return nil, sqlerr.New(sqlerr.DuplicateColumn, "column %q specified more than once", c.Name.O)
			}
			seen[i] = true
			targets = append(targets, i)
		}
	}
	cols := make([]plan.Column, len(targets))
	for i, t := range targets {
		cols[i] = plan.Column{Name: def.Columns[t].Name, Type: def.Columns[t].Type}
	}
	var src plan.Node
	if s.Select != nil {
		q, err := b.bindQuery(s.Select, nil)
		if err != nil {
			return nil, err
		}
		qc := q.Columns()
		if len(s.Columns) == 0 && len(qc) < len(targets) {
			targets, cols = targets[:len(qc)], cols[:len(qc)]
		}
		if len(qc) != len(targets) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has %s expressions than target columns", moreOrFewer(len(qc), len(targets)))
		}
		if src, err = b.castNode(q, cols); err != nil {
			return nil, err
		}
	} else {
		rows := make([][]plan.Expr, len(s.Lists))
		if len(s.Columns) == 0 && len(s.Lists) > 0 && len(s.Lists[0]) < len(targets) {
			// PostgreSQL fills the trailing columns with their defaults (NULL).
			targets, cols = targets[:len(s.Lists[0])], cols[:len(s.Lists[0])]
		}
		for r, list := range s.Lists {
			if len(list) != len(targets) {
				return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has %s expressions than target columns", moreOrFewer(len(list), len(targets)))
			}
			for i, v := range list {
				e, err := b.bindExpr(&scope{}, v)
				if err != nil {
					return nil, err
				}
				c, err := b.assign(e, cols[i])
				if err != nil {
					return nil, err
				}
				rows[r] = append(rows[r], c)
			}
		}
		src = &plan.Values{Rows: rows, Cols: cols}
	}
	return &plan.Insert{Table: def.Name, Source: src, Targets: targets, ToSource: toSource, Width: len(def.Columns)}, nil
}

// insertSource returns the source an INSERT names when its target is not
// a table (err is the table lookup's error).
func (b *binder) insertSource(refs *ast.TableRefsClause, err error) (catalog.SourceDef, bool) {
	if sqlerr.Code(err) != sqlerr.UndefinedTable || refs == nil || refs.TableRefs == nil {
		return catalog.SourceDef{}, false
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return catalog.SourceDef{}, false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return catalog.SourceDef{}, false
	}
	return b.env.Catalog.SourceDef(tn.Name.O)
}

// assign converts a value for storing into a column with PostgreSQL's
// assignment casts.
func (b *binder) assign(e plan.Expr, col plan.Column) (plan.Expr, error) {
	from := e.Type()
	if from.Kind != sqltypes.KindUnknown && from.Kind != col.Type.Kind && !implicitCast(from, col.Type) {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "column %q is of type %s but expression is of type %s", col.Name, col.Type, from)
	}
	if lit, ok := e.(*plan.Literal); ok && from.Kind == sqltypes.KindUnknown && lit.Value != nil &&
		col.Type.Kind == sqltypes.KindText && col.Type.Width > 0 {
		// The value must fit VARCHAR(n): an implicit cast checks it.
		return &plan.Cast{Arg: &plan.Literal{Value: lit.Value, T: sqltypes.Text}, T: col.Type}, nil
	}
	return b.coerce(e, col.Type, false)
}

func moreOrFewer(got, want int) string {
	if got > want {
		return "more"
	}
	return "fewer"
}

func (b *binder) bindUpdate(s *ast.UpdateStmt) (plan.Statement, error) {
	if s.Order != nil || s.Limit != nil || s.MultipleTable {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "UPDATE with ORDER BY, LIMIT or several tables is not supported")
	}
	def, alias, err := b.dmlTable(s.TableRefs)
	if err != nil {
		return nil, err
	}
	sc := tableScope(def, alias)
	out := &plan.Update{Table: def.Name}
	seen := map[int]bool{}
	for _, a := range s.List {
		i := def.ColumnIndex(a.Column.Name.O)
		if i < 0 {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", a.Column.Name.O, def.Name)
		}
		if seen[i] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "multiple assignments to same column %q", a.Column.Name.O)
		}
		seen[i] = true
		if hasAggregate(a.Expr) {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in UPDATE")
		}
		e, err := b.bindExpr(sc, a.Expr)
		if err != nil {
			return nil, err
		}
		c, err := b.assign(e, plan.Column{Name: def.Columns[i].Name, Type: def.Columns[i].Type})
		if err != nil {
			return nil, err
		}
		out.Set = append(out.Set, plan.Assignment{Column: i, Expr: c})
	}
	if s.Where != nil {
		if out.Filter, err = b.bindPredicate(sc, s.Where, "WHERE"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *binder) bindDelete(s *ast.DeleteStmt) (plan.Statement, error) {
	if s.IsMultiTable || s.Order != nil || s.Limit != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DELETE with ORDER BY, LIMIT or several tables is not supported")
	}
	def, alias, err := b.dmlTable(s.TableRefs)
	if err != nil {
		return nil, err
	}
	out := &plan.Delete{Table: def.Name}
	if s.Where != nil {
		if out.Filter, err = b.bindPredicate(tableScope(def, alias), s.Where, "WHERE"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *binder) bindCreateTable(s *ast.CreateTableStmt) (plan.Statement, error) {
	if s.Select != nil || s.ReferTable != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "CREATE TABLE AS and LIKE are not supported")
	}
	def := catalog.TableDef{Name: s.Table.Name.O}
	for _, c := range s.Cols {
		t, err := mysqlColumnType(c.Tp)
		if err != nil {
			return nil, err
		}
		cd := catalog.ColumnDef{Name: c.Name.Name.O, Type: t}
		for _, o := range c.Options {
			switch o.Tp {
			case ast.ColumnOptionPrimaryKey:
				if len(def.PrimaryKey) > 0 {
					return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", def.Name)
				}
				def.PrimaryKey = []int{len(def.Columns)}
				cd.NotNull = true
			case ast.ColumnOptionNotNull:
				cd.NotNull = true
			case ast.ColumnOptionNull:
				cd.NotNull = false
			default:
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "column constraint %v is not supported yet", o.Tp)
			}
		}
		def.Columns = append(def.Columns, cd)
	}
	for _, k := range s.Constraints {
		if k.Tp != ast.ConstraintPrimaryKey {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "table constraints other than PRIMARY KEY are not supported yet")
		}
		if len(def.PrimaryKey) > 0 {
			return nil, sqlerr.New(sqlerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", def.Name)
		}
		for _, part := range k.Keys {
			if part.Column == nil {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression keys are not supported")
			}
			i := def.ColumnIndex(part.Column.Name.O)
			if i < 0 {
				return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q named in key does not exist", part.Column.Name.O)
			}
			def.PrimaryKey = append(def.PrimaryKey, i)
			def.Columns[i].NotNull = true
		}
	}
	if len(s.Options) > 0 || s.Partition != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "table options are not supported")
	}
	return &plan.CreateTable{Def: def, IfNotExists: s.IfNotExists}, nil
}

// mysqlColumnType maps the parser's MySQL field type to a Sluice type. The
// front hands PostgreSQL's names to the parser as their MySQL spellings
// (REAL is parsed as FLOAT in REAL_AS_FLOAT mode).
func mysqlColumnType(ft *types.FieldType) (sqltypes.Type, error) {
	switch ft.GetType() {
	case mysql.TypeTiny:
		if ft.GetFlen() == 1 {
			return sqltypes.Bool, nil
		}
		return sqltypes.Int16, nil
	case mysql.TypeShort:
		return sqltypes.Int16, nil
	case mysql.TypeLong, mysql.TypeInt24:
		return sqltypes.Int32, nil
	case mysql.TypeLonglong:
		return sqltypes.Int64, nil
	case mysql.TypeFloat:
		return sqltypes.Float32, nil
	case mysql.TypeDouble, mysql.TypeNewDecimal:
		return sqltypes.Float64, nil
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString:
		if ft.GetFlen() > 0 {
			return sqltypes.Varchar(ft.GetFlen()), nil
		}
		return sqltypes.Text, nil
	case mysql.TypeBlob, mysql.TypeTinyBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob:
		return sqltypes.Text, nil
	case mysql.TypeTimestamp, mysql.TypeDatetime:
		return sqltypes.Timestamp, nil
	case mysql.TypeDate:
		return sqltypes.Date, nil
	}
	return sqltypes.Unknown, sqlerr.New(sqlerr.FeatureNotSupported, "type %s is not supported", ft.String())
}
