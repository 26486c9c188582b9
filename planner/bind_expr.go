package planner

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// ServerVersion is what version() and SHOW server_version report.
const ServerVersion = "15.0"

// VersionString is the result of SELECT version().
const VersionString = "PostgreSQL 15.0 (Sluice) on x86_64, compatible subset"

// bindExpr binds an AST expression over scope sc. Above an aggregate
// (b.agg set) group-by expressions and aggregate calls are replaced by
// references to the aggregate's output.
func (b *binder) bindExpr(sc *scope, n ast.ExprNode) (plan.Expr, error) {
	if b.agg != nil {
		if e, ok, err := b.agg.match(b, n); ok || err != nil {
			return e, err
		}
	}
	switch n := n.(type) {
	case *test_driver.ParamMarkerExpr:
		return b.bindParam(n)
	case *test_driver.ValueExpr:
		return bindValue(n)
	case *ast.ColumnNameExpr:
		if b.agg != nil {
			return nil, sqlerr.New(sqlerr.GroupingError,
				"column %q must appear in the GROUP BY clause or be used in an aggregate function", colName(n.Name))
		}
		i, err := sc.resolve(n.Name.Table.O, n.Name.Name.O)
		if err != nil {
			return nil, err
		}
		c := sc.cols[i]
		return &plan.ColumnRef{Index: i, Name: c.name, T: c.t}, nil
	case *ast.ParenthesesExpr:
		return b.bindExpr(sc, n.Expr)
	case *ast.BinaryOperationExpr:
		return b.bindBinary(sc, n)
	case *ast.UnaryOperationExpr:
		v, err := b.bindExpr(sc, n.V)
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case opcode.Not, opcode.Not2:
			return b.fn("not", v)
		case opcode.Minus:
			if lit, ok := v.(*plan.Literal); ok {
				switch x := lit.Value.(type) {
				case int64:
					if x == -x && x != 0 {
						break
					}
					return intLiteral(-x), nil
				case float64:
					return &plan.Literal{Value: -x, T: sqltypes.Float64}, nil
				}
			}
			return b.fn("neg", v)
		case opcode.Plus:
			return v, nil
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator %s is not supported", n.Op)
	case *ast.IsNullExpr:
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		if n.Not {
			return b.fn("is_not_null", v)
		}
		return b.fn("is_null", v)
	case *ast.IsTruthExpr:
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		name := map[[2]bool]string{{true, false}: "is_true", {false, false}: "is_false",
			{true, true}: "is_not_true", {false, true}: "is_not_false"}[[2]bool{n.True != 0, n.Not}]
		return b.fn(name, v)
	case *ast.BetweenExpr:
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		lo, err := b.bindExpr(sc, n.Left)
		if err != nil {
			return nil, err
		}
		hi, err := b.bindExpr(sc, n.Right)
		if err != nil {
			return nil, err
		}
		ge, err := b.fn(">=", v, lo)
		if err != nil {
			return nil, err
		}
		le, err := b.fn("<=", v, hi)
		if err != nil {
			return nil, err
		}
		e, err := b.fn("and", ge, le)
		if err != nil || !n.Not {
			return e, err
		}
		return b.fn("not", e)
	case *ast.PatternInExpr:
		if n.Sel != nil {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "IN (subquery) is not supported yet")
		}
		args := make([]plan.Expr, 0, len(n.List)+1)
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
		for _, item := range n.List {
			e, err := b.bindExpr(sc, item)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		e, err := b.fn("in", args...)
		if err != nil || !n.Not {
			return e, err
		}
		return b.fn("not", e)
	case *ast.PatternLikeOrIlikeExpr:
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		p, err := b.bindExpr(sc, n.Pattern)
		if err != nil {
			return nil, err
		}
		if n.EscapeExplicit && n.Escape != '\\' {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "LIKE ... ESCAPE other than backslash is not supported")
		}
		name := "like"
		if !n.IsLike {
			name = "ilike"
		}
		e, err := b.fn(name, v, p)
		if err != nil || !n.Not {
			return e, err
		}
		return b.fn("not", e)
	case *ast.PatternRegexpExpr:
		v, err := b.bindExpr(sc, n.Expr)
		if err != nil {
			return nil, err
		}
		p, err := b.bindExpr(sc, n.Pattern)
		if err != nil {
			return nil, err
		}
		e, err := b.fn("regex_match", v, p)
		if err != nil || !n.Not {
			return e, err
		}
		return b.fn("not", e)
	case *ast.CaseExpr:
		return b.bindCase(sc, n)
	case *ast.FuncCallExpr:
		return b.bindFuncCall(sc, n)
	case *ast.AggregateFuncExpr:
		return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed here")
	case *ast.FuncCastExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "this form of CAST is not supported")
	case *ast.DefaultExpr:
		return &plan.Literal{Value: nil, T: sqltypes.Unknown}, nil
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "subqueries in expressions are not supported yet")
	case *ast.RowExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "row constructors are not supported")
	case *ast.PositionExpr:
		return nil, sqlerr.New(sqlerr.SyntaxError, "column positions are allowed only in ORDER BY and GROUP BY")
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression %T is not supported", n)
}

func colName(c *ast.ColumnName) string {
	if c.Table.O != "" {
		return c.Table.O + "." + c.Name.O
	}
	return c.Name.O
}

func (b *binder) bindParam(n *test_driver.ParamMarkerExpr) (plan.Expr, error) {
	idx := n.Order
	if idx < len(b.paramOrder) {
		idx = b.paramOrder[idx]
	}
	if idx < 0 {
		return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", idx+1)
	}
	for len(b.params) <= idx {
		b.params = append(b.params, sqltypes.Unknown)
	}
	return &plan.Param{Index: idx, T: b.params[idx]}, nil
}

// intLiteral types an integer literal as PostgreSQL does: integer when it
// fits, else bigint.
func intLiteral(v int64) *plan.Literal {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return &plan.Literal{Value: v, T: sqltypes.Int32}
	}
	return &plan.Literal{Value: v, T: sqltypes.Int64}
}

func bindValue(n *test_driver.ValueExpr) (plan.Expr, error) {
	switch n.Kind() {
	case test_driver.KindNull:
		return &plan.Literal{Value: nil, T: sqltypes.Unknown}, nil
	case test_driver.KindInt64:
		if n.Type.GetFlag()&mysql.IsBooleanFlag != 0 {
			return &plan.Literal{Value: n.GetInt64() != 0, T: sqltypes.Bool}, nil
		}
		return intLiteral(n.GetInt64()), nil
	case test_driver.KindUint64:
		if u := n.GetUint64(); u <= math.MaxInt64 {
			return intLiteral(int64(u)), nil
		}
		return &plan.Literal{Value: float64(n.GetUint64()), T: sqltypes.Float64}, nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return &plan.Literal{Value: n.GetFloat64(), T: sqltypes.Float64}, nil
	case test_driver.KindMysqlDecimal:
		f, err := strconv.ParseFloat(n.GetMysqlDecimal().String(), 64)
		if err != nil {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid numeric literal: %w", err)
		}
		return &plan.Literal{Value: f, T: sqltypes.Float64}, nil
	case test_driver.KindString, test_driver.KindBytes:
		// A quoted string is of unknown type until its context decides,
		// as in PostgreSQL.
		return &plan.Literal{Value: n.GetString(), T: sqltypes.Unknown}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "literal of kind %d is not supported", n.Kind())
}

var binaryOps = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
	opcode.LogicAnd: "and", opcode.LogicOr: "or", opcode.NullEQ: "is_not_distinct_from",
}

func (b *binder) bindBinary(sc *scope, n *ast.BinaryOperationExpr) (plan.Expr, error) {
	name, ok := binaryOps[n.Op]
	if !ok {
		switch n.Op {
		case opcode.IntDiv:
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "DIV is not supported; use / on integers")
		case opcode.LogicXor, opcode.Xor:
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator # is not supported")
		}
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator %s is not supported", n.Op)
	}
	l, err := b.bindExpr(sc, n.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bindExpr(sc, n.R)
	if err != nil {
		return nil, err
	}
	return b.fn(name, l, r)
}

func (b *binder) bindCase(sc *scope, n *ast.CaseExpr) (plan.Expr, error) {
	var operand plan.Expr
	if n.Value != nil {
		v, err := b.bindExpr(sc, n.Value)
		if err != nil {
			return nil, err
		}
		operand = v
	}
	var conds, thens []plan.Expr
	for _, w := range n.WhenClauses {
		c, err := b.bindExpr(sc, w.Expr)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			if c, err = b.fn("=", operand, c); err != nil {
				return nil, err
			}
		} else if c, err = b.coerce(c, sqltypes.Bool, false); err != nil {
			return nil, err
		}
		t, err := b.bindExpr(sc, w.Result)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
		thens = append(thens, t)
	}
	var els plan.Expr = &plan.Literal{T: sqltypes.Unknown}
	if n.ElseClause != nil {
		e, err := b.bindExpr(sc, n.ElseClause)
		if err != nil {
			return nil, err
		}
		els = e
	}
	all := append(append([]plan.Expr{}, thens...), els)
	t, err := b.commonTypeOf("CASE", all)
	if err != nil {
		return nil, err
	}
	out := &plan.Case{T: t}
	for i := range conds {
		then, err := b.coerce(thens[i], t, false)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, plan.When{Cond: conds[i], Then: then})
	}
	if out.Else, err = b.coerce(els, t, false); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *binder) bindFuncCall(sc *scope, n *ast.FuncCallExpr) (plan.Expr, error) {
	name := n.FnName.L
	switch name {
	case "tumble", "hop", "tumble_start", "tumble_end", "hop_start", "hop_end":
		return b.bindWindowFunc(sc, n)
	case "sluice_cast":
		return b.bindCast(sc, n)
	case "sluice_interval":
		if len(n.Args) != 1 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "malformed interval")
		}
		e, err := b.bindExpr(sc, n.Args[0])
		if err != nil {
			return nil, err
		}
		return b.coerce(e, sqltypes.IntervalT, true)
	case ast.DateLiteral, ast.TimestampLiteral, ast.TimeLiteral:
		t := sqltypes.Timestamp
		if name == ast.DateLiteral {
			t = sqltypes.Date
		}
		if name == ast.TimeLiteral {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "type time is not supported")
		}
		e, err := b.bindExpr(sc, n.Args[0])
		if err != nil {
			return nil, err
		}
		return b.coerce(e, t, true)
	case "now", "current_timestamp", "localtimestamp", "sysdate", "transaction_timestamp", "statement_timestamp":
		return &plan.Literal{Value: b.env.Now.UTC().Truncate(time.Microsecond), T: sqltypes.Timestamp}, nil
	case "current_date", "curdate":
		now := b.env.Now.UTC()
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return &plan.Literal{Value: day, T: sqltypes.Date}, nil
	case "version":
		return &plan.Literal{Value: VersionString, T: sqltypes.Text}, nil
	case "current_setting":
		if len(n.Args) < 1 {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "function current_setting() does not exist")
		}
		e, err := b.bindExpr(sc, n.Args[0])
		if err != nil {
			return nil, err
		}
		lit, ok := e.(*plan.Literal)
		s, isStr := lit.Value.(string)
		if !ok || !isStr {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "current_setting() needs a constant name")
		}
		v, found := "", false
		if b.env.Setting != nil {
			v, found = b.env.Setting(strings.ToLower(s))
		}
		if !found {
			return nil, sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", s)
		}
		return &plan.Literal{Value: v, T: sqltypes.Text}, nil
	case "current_database":
		return &plan.Literal{Value: "sluice", T: sqltypes.Text}, nil
	case "current_schema":
		return &plan.Literal{Value: "public", T: sqltypes.Text}, nil
	case "trim", "ltrim", "rtrim":
		return b.bindTrim(sc, n)
	}
	args := make([]plan.Expr, len(n.Args))
	for i, a := range n.Args {
		e, err := b.bindExpr(sc, a)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	switch name {
	case "concat":
		// The parser's reading of a || b (see the front).
		if len(args) != 2 {
			return nil, sqlerr.New(sqlerr.InternalError, "|| with %d operands", len(args))
		}
		name = "||"
	case "sluice_concat":
		name = "concat"
	case "substring", "substr":
		name = "substr"
	case "position", "strpos":
		if name == "strpos" {
			args[0], args[1] = args[1], args[0]
		}
		name = "position"
	case "char_length", "character_length":
		name = "length"
	case "ceiling":
		name = "ceil"
	case "pow":
		name = "power"
	case "date_part":
		name = "extract"
	}
	return b.fn(name, args...)
}

func (b *binder) bindTrim(sc *scope, n *ast.FuncCallExpr) (plan.Expr, error) {
	name := n.FnName.L
	var args []plan.Expr
	for _, a := range n.Args {
		if d, ok := a.(*ast.TrimDirectionExpr); ok {
			switch d.Direction {
			case ast.TrimLeading:
				name = "ltrim"
			case ast.TrimTrailing:
				name = "rtrim"
			}
			continue
		}
		e, err := b.bindExpr(sc, a)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return b.fn(name, args...)
}

func (b *binder) bindCast(sc *scope, n *ast.FuncCallExpr) (plan.Expr, error) {
	if len(n.Args) != 2 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "malformed cast")
	}
	tv, ok := n.Args[1].(*test_driver.ValueExpr)
	if !ok {
		return nil, sqlerr.New(sqlerr.SyntaxError, "malformed cast")
	}
	tname := tv.GetString()
	t, ok := sqltypes.ParseName(tname)
	if !ok {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", tname)
	}
	e, err := b.bindExpr(sc, n.Args[0])
	if err != nil {
		return nil, err
	}
	return b.coerce(e, t, true)
}

// typeRank orders numeric types for promotion.
func typeRank(t sqltypes.Type) int {
	switch t.Kind {
	case sqltypes.KindInt16:
		return 1
	case sqltypes.KindInt32:
		return 2
	case sqltypes.KindInt64:
		return 3
	case sqltypes.KindFloat32:
		return 4
	case sqltypes.KindFloat64:
		return 5
	}
	return 0
}

// commonType returns the type two operands are compared or combined in,
// following PostgreSQL's implicit casts for the types Sluice has.
func commonType(a, c sqltypes.Type) (sqltypes.Type, bool) {
	switch {
	case a.Kind == sqltypes.KindUnknown && c.Kind == sqltypes.KindUnknown:
		return sqltypes.Unknown, true
	case a.Kind == sqltypes.KindUnknown:
		return c, true
	case c.Kind == sqltypes.KindUnknown:
		return a, true
	case a.IsNumeric() && c.IsNumeric():
		if a.IsFloat() || c.IsFloat() {
			if a.Kind == sqltypes.KindFloat32 && c.Kind == sqltypes.KindFloat32 {
				return sqltypes.Float32, true
			}
			return sqltypes.Float64, true
		}
		if typeRank(a) >= typeRank(c) {
			return a, true
		}
		return c, true
	case a.Kind == sqltypes.KindText && c.Kind == sqltypes.KindText:
		if a.Width == c.Width {
			return a, true
		}
		return sqltypes.Text, true
	case (a.Kind == sqltypes.KindTimestamp && c.Kind == sqltypes.KindDate) ||
		(a.Kind == sqltypes.KindDate && c.Kind == sqltypes.KindTimestamp):
		return sqltypes.Timestamp, true
	case a.Kind == c.Kind:
		return a, true
	}
	return sqltypes.Unknown, false
}

func (b *binder) commonTypeOf(what string, args []plan.Expr) (sqltypes.Type, error) {
	t := sqltypes.Unknown
	for _, a := range args {
		nt, ok := commonType(t, a.Type())
		if !ok {
			return t, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", what, t, a.Type())
		}
		t = nt
	}
	if t.Kind == sqltypes.KindUnknown {
		t = sqltypes.Text
	}
	return t, nil
}

// coerce converts e to type t. Unknown-typed literals are parsed now;
// unknown parameters take the type; other conversions become Casts.
// Implicit conversions are limited to those PostgreSQL makes implicitly.
func (b *binder) coerce(e plan.Expr, t sqltypes.Type, explicit bool) (plan.Expr, error) {
	et := e.Type()
	if et == t {
		return e, nil
	}
	switch x := e.(type) {
	case *plan.Literal:
		if x.Value == nil {
			return &plan.Literal{Value: nil, T: t}, nil
		}
		if et.Kind == sqltypes.KindUnknown {
			s, _ := x.Value.(string)
			if t.Kind == sqltypes.KindText {
				if t.Width > 0 && explicit {
					return &plan.Cast{Arg: &plan.Literal{Value: s, T: sqltypes.Text}, T: t, Explicit: true}, nil
				}
				// Compared with a VARCHAR(n) column a literal is not
				// checked against n; only assignment is (see assign).
				return &plan.Literal{Value: s, T: t}, nil
			}
			v, err := sqltypes.ParseText(t, s)
			if err != nil {
				return nil, err
			}
			return &plan.Literal{Value: v, T: t}, nil
		}
		// Widen numeric literals now rather than casting every row.
		if v, ok := x.Value.(int64); ok && et.IsInteger() {
			switch {
			case t.IsFloat():
				return &plan.Literal{Value: float64(v), T: t}, nil
			case t.IsInteger() && typeRank(t) >= typeRank(et):
				return &plan.Literal{Value: v, T: t}, nil
			}
		}
	case *plan.Param:
		if et.Kind == sqltypes.KindUnknown {
			b.params[x.Index] = t
			return &plan.Param{Index: x.Index, T: t}, nil
		}
	}
	if et.Kind == sqltypes.KindUnknown {
		return &plan.Cast{Arg: e, T: t, Explicit: explicit}, nil
	}
	if !explicit && !implicitCast(et, t) {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "cannot convert %s to %s implicitly", et, t)
	}
	return &plan.Cast{Arg: e, T: t, Explicit: explicit}, nil
}

func implicitCast(from, to sqltypes.Type) bool {
	switch {
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.Kind == to.Kind:
		return true
	case from.Kind == sqltypes.KindDate && to.Kind == sqltypes.KindTimestamp:
		return true
	case to.Kind == sqltypes.KindText:
		return true // assignment to text columns
	}
	return false
}
