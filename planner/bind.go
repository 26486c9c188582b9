package planner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Catalog is what the binder needs of the catalog: table definitions.
type Catalog interface {
	// TableDef returns the definition of a table, or a 42P01 error.
	TableDef(name string) (catalog.TableDef, error)
	// TableNames lists the tables, sorted.
	TableNames() []string
	// SourceDef returns the definition of a source.
	SourceDef(name string) (catalog.SourceDef, bool)
	// StreamColumns returns the output columns of a stream.
	StreamColumns(name string) ([]plan.Column, bool)
}

// BindEnv is the context a statement is bound in.
type BindEnv struct {
	Catalog Catalog
	// Now is the statement's start time: now() and CURRENT_TIMESTAMP.
	Now time.Time
	// Setting returns a session setting's value for current_setting().
	Setting func(name string) (string, bool)
	// ParamTypes are the parameter types the client declared; Unknown
	// where it left a type to the server.
	ParamTypes []sqltypes.Type
	// Restoring is set when the server binds a stored definition again on
	// start: the stream's sink table already exists then.
	Restoring bool
}

// Bound is a bound statement.
type Bound struct {
	Stmt plan.Statement
	// ParamTypes are the resolved parameter types ($n with no clue to its
	// type resolves to text, as in PostgreSQL).
	ParamTypes []sqltypes.Type
	// Columns describes the result rows; nil when the statement returns
	// none.
	Columns []plan.Column
}

// binder binds one statement. It is used once.
type binder struct {
	env        BindEnv
	params     []sqltypes.Type
	paramOrder []int
	// agg, when set, binds expressions above an Aggregate node.
	agg *aggScope
	// window is the event-time window of the SELECT being bound, once its
	// GROUP BY TUMBLE/HOP is bound.
	window *windowScope
	// text is the statement's SQL text.
	text string
}

// Bind resolves a parsed statement against the catalog into a plan.
func Bind(env BindEnv, p Parsed) (*Bound, error) {
	b := &binder{env: env, paramOrder: p.ParamOrder}
	n := p.NumParams
	if len(env.ParamTypes) > n {
		n = len(env.ParamTypes)
	}
	b.params = make([]sqltypes.Type, n)
	copy(b.params, env.ParamTypes)
	stmt, cols, err := b.bindStatement(p)
	if err != nil {
		return nil, err
	}
	for i, t := range b.params {
		if t.Kind == sqltypes.KindUnknown {
			b.params[i] = sqltypes.Text
		}
	}
	return &Bound{Stmt: stmt, ParamTypes: b.params, Columns: cols}, nil
}

func (b *binder) bindStatement(p Parsed) (plan.Statement, []plan.Column, error) {
	b.text = p.Text
	if p.Stmt != nil {
		return b.bindSluice(p.Stmt)
	}
	switch s := p.AST.(type) {
	case nil:
		return &plan.Empty{}, nil, nil
	case *ast.SelectStmt, *ast.SetOprStmt:
		node, err := b.bindQuery(s.(ast.ResultSetNode), nil)
		if err != nil {
			return nil, nil, err
		}
		return &plan.Query{Root: node}, node.Columns(), nil
	case *ast.InsertStmt:
		st, err := b.bindInsert(s)
		return st, nil, err
	case *ast.UpdateStmt:
		st, err := b.bindUpdate(s)
		return st, nil, err
	case *ast.DeleteStmt:
		st, err := b.bindDelete(s)
		return st, nil, err
	case *ast.CreateTableStmt:
		st, err := b.bindCreateTable(s)
		return st, nil, err
	case *ast.DropTableStmt:
		if s.IsView {
			return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "views are not supported")
		}
		names := make([]string, len(s.Tables))
		for i, t := range s.Tables {
			names[i] = t.Name.O
		}
		return &plan.DropTable{Names: names, IfExists: s.IfExists}, nil, nil
	case *ast.TruncateTableStmt:
		def, err := b.env.Catalog.TableDef(s.Table.Name.O)
		if err != nil {
			return nil, nil, err
		}
		if err := errFedTable(def); err != nil {
			return nil, nil, err
		}
		return &plan.Truncate{Tables: []string{s.Table.Name.O}}, nil, nil
	case *ast.BeginStmt:
		return &plan.Txn{Kind: plan.TxnBegin}, nil, nil
	case *ast.CommitStmt:
		return &plan.Txn{Kind: plan.TxnCommit}, nil, nil
	case *ast.RollbackStmt:
		return &plan.Txn{Kind: plan.TxnRollback}, nil, nil
	case *ast.SetStmt:
		if len(s.Variables) == 1 && s.Variables[0].Value != nil {
			v := s.Variables[0]
			val, err := b.constText(v.Value)
			if err != nil {
				return nil, nil, err
			}
			return &plan.SetVar{Name: strings.ToLower(v.Name), Value: val}, nil, nil
		}
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "this form of SET is not supported")
	}
	return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", p.AST)
}

// constText evaluates a constant expression of a SET to its text.
func (b *binder) constText(n ast.ExprNode) (string, error) {
	e, err := b.bindExpr(&scope{}, n)
	if err != nil {
		return "", err
	}
	lit, ok := e.(*plan.Literal)
	if !ok {
		if c, isCast := e.(*plan.Cast); isCast {
			lit, ok = c.Arg.(*plan.Literal)
		}
	}
	if !ok || lit.Value == nil {
		return "", sqlerr.New(sqlerr.InvalidParameterValue, "SET requires a constant value")
	}
	return fmt.Sprint(lit.Value), nil
}

func (b *binder) bindSluice(s SluiceStmt) (plan.Statement, []plan.Column, error) {
	switch s := s.(type) {
	case *SetStmt:
		return &plan.SetVar{Name: strings.ToLower(s.Name), Value: s.Value, Default: s.Default}, nil, nil
	case *ShowStmt:
		name := strings.ToLower(s.Name)
		return &plan.ShowVar{Name: name}, []plan.Column{{Name: name, Type: sqltypes.Text}}, nil
	case *ShowTablesStmt:
		cols := []plan.Column{{Name: "name", Type: sqltypes.Text}}
		var rows [][]plan.Expr
		for _, n := range b.env.Catalog.TableNames() {
			rows = append(rows, []plan.Expr{&plan.Literal{Value: n, T: sqltypes.Text}})
		}
		node := &plan.Values{Rows: rows, Cols: cols}
		return &plan.Query{Root: node}, cols, nil
	case *DescribeStmt:
		def, err := b.env.Catalog.TableDef(s.Table)
		if err != nil {
			return nil, nil, err
		}
		cols := []plan.Column{
			{Name: "column_name", Type: sqltypes.Text},
			{Name: "data_type", Type: sqltypes.Text},
			{Name: "is_nullable", Type: sqltypes.Text},
			{Name: "primary_key", Type: sqltypes.Bool},
		}
		pk := map[int]bool{}
		for _, i := range def.PrimaryKey {
			pk[i] = true
		}
		var rows [][]plan.Expr
		for i, c := range def.Columns {
			nullable := "YES"
			if c.NotNull || pk[i] {
				nullable = "NO"
			}
			rows = append(rows, []plan.Expr{
				&plan.Literal{Value: c.Name, T: sqltypes.Text},
				&plan.Literal{Value: c.Type.String(), T: sqltypes.Text},
				&plan.Literal{Value: nullable, T: sqltypes.Text},
				&plan.Literal{Value: pk[i], T: sqltypes.Bool},
			})
		}
		node := &plan.Values{Rows: rows, Cols: cols}
		return &plan.Query{Root: node}, cols, nil
	case *TxnStmt:
		switch s.Kind {
		case "begin":
			return &plan.Txn{Kind: plan.TxnBegin}, nil, nil
		case "commit":
			return &plan.Txn{Kind: plan.TxnCommit}, nil, nil
		default:
			return &plan.Txn{Kind: plan.TxnRollback}, nil, nil
		}
	case *CreateSourceStmt:
		st, err := b.bindCreateSource(s, b.text)
		return st, nil, err
	case *CreateStreamStmt:
		st, err := b.bindCreateStream(s, b.text)
		return st, nil, err
	case *CreateTableWithStmt:
		st, err := b.bindCreateTableWith(s)
		return st, nil, err
	case *AlterStreamStmt:
		st := &plan.AlterStream{Name: s.Name}
		for _, o := range s.Options {
			if o.Key != "trigger" {
				return nil, nil, optErr(sqlerr.FeatureNotSupported, o, "ALTER STREAM can change only the trigger; changing %q needs CREATE OR REPLACE STREAM", o.Key)
			}
			t, err := ParseTrigger(o.Value)
			if err != nil {
				return nil, nil, withPos(err, o.Pos)
			}
			st.Trigger = &t
		}
		return st, nil, nil
	case *StreamControlStmt:
		return &plan.StreamControl{Name: s.Name, Pause: s.Action == "pause"}, nil, nil
	case *DropStreamStmt:
		return &plan.DropStream{Names: s.Names, IfExists: s.IfExists}, nil, nil
	case *DropSourceStmt:
		return &plan.DropSource{Names: s.Names, IfExists: s.IfExists}, nil, nil
	case *ShowStreamsStmt:
		return b.showSystem("sluice_streams", 6)
	case *ShowSourcesStmt:
		return b.showSystem("sluice_sources", 5)
	case *SubscribeStmt:
		cols, ok := b.env.Catalog.StreamColumns(s.Name)
		if !ok {
			return nil, nil, sqlerr.New(sqlerr.UndefinedTable, "stream %q does not exist", s.Name)
		}
		return &plan.Subscribe{Name: s.Name, Cols: cols}, nil, nil
	case *ExplainStmt:
		inner, _, err := b.bindStatement(s.Inner)
		if err != nil {
			return nil, nil, err
		}
		cols := []plan.Column{{Name: "QUERY PLAN", Type: sqltypes.Text}}
		return &plan.Explain{Text: plan.String(inner)}, cols, nil
	}
	return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", s)
}

// showSystem reads the first n columns of a system table (SHOW STREAMS,
// SHOW SOURCES).
func (b *binder) showSystem(name string, n int) (plan.Statement, []plan.Column, error) {
	cols, _ := SystemTable(name)
	in := &plan.Input{Source: name, Cols: cols}
	p := &plan.Project{Input: in}
	for i := 0; i < n; i++ {
		p.Exprs = append(p.Exprs, &plan.ColumnRef{Index: i, Name: cols[i].Name, T: cols[i].Type})
		p.Cols = append(p.Cols, cols[i])
	}
	sort := &plan.Sort{Input: p, Keys: []plan.SortKey{{Expr: &plan.ColumnRef{Index: 0, Name: cols[0].Name, T: cols[0].Type}}}}
	return &plan.Query{Root: sort}, p.Cols, nil
}

// scope is the set of columns an expression can name: the output columns
// of the node it is bound over, with the table (alias) each came from.
type scope struct {
	cols []scopeCol
}

type scopeCol struct {
	table string
	name  string
	t     sqltypes.Type
}

func (s *scope) resolve(table, name string) (int, error) {
	found := -1
	for i, c := range s.cols {
		if c.name != name || (table != "" && c.table != table) {
			continue
		}
		if found >= 0 {
			return 0, sqlerr.New(sqlerr.AmbiguousColumn, "column reference %q is ambiguous", name)
		}
		found = i
	}
	if found < 0 {
		if table != "" {
			if !s.hasTable(table) {
				return 0, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", table)
			}
			return 0, sqlerr.New(sqlerr.UndefinedColumn, "column %s.%s does not exist", table, name)
		}
		return 0, sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", name)
	}
	return found, nil
}

func (s *scope) hasTable(table string) bool {
	for _, c := range s.cols {
		if c.table == table {
			return true
		}
	}
	return false
}

func (s *scope) columns() []plan.Column {
	cols := make([]plan.Column, len(s.cols))
	for i, c := range s.cols {
		cols[i] = plan.Column{Name: c.name, Type: c.t}
	}
	return cols
}

func scopeOf(table string, cols []plan.Column) *scope {
	s := &scope{}
	for _, c := range cols {
		s.cols = append(s.cols, scopeCol{table: table, name: c.Name, t: c.Type})
	}
	return s
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
