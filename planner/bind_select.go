package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// bindQuery binds a SELECT, a set operation or VALUES.
func (b *binder) bindQuery(rs ast.ResultSetNode, _ *scope) (plan.Node, error) {
	saved := b.agg
	b.agg = nil
	defer func() { b.agg = saved }()
	switch s := rs.(type) {
	case *ast.SelectStmt:
		return b.bindSelect(s)
	case *ast.SetOprStmt:
		return b.bindSetOpr(s)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "query %T is not supported", rs)
}

// selectItem is one output column before projection.
type selectItem struct {
	expr ast.ExprNode
	name string
}

func (b *binder) bindSelect(s *ast.SelectStmt) (plan.Node, error) {
	if s.With != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "WITH queries are not supported yet")
	}
	if s.Kind == ast.SelectStmtKindValues {
		return b.bindValuesList(s.Lists)
	}
	if s.Kind == ast.SelectStmtKindTable {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "TABLE statements are not supported")
	}
	if s.LockInfo != nil && s.LockInfo.LockType != 0 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "SELECT ... FOR UPDATE is not supported")
	}
	var node plan.Node
	sc := &scope{}
	if s.From == nil {
		node = &plan.Values{Rows: [][]plan.Expr{{}}}
	} else {
		var err error
		if node, sc, err = b.bindFrom(s.From.TableRefs); err != nil {
			return nil, err
		}
	}
	if s.Where != nil {
		if hasAggregate(s.Where) {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in WHERE")
		}
		pred, err := b.bindPredicate(sc, s.Where, "WHERE")
		if err != nil {
			return nil, err
		}
		node = pushDownFilter(node, pred)
	}

	// Expand the select list.
	var items []selectItem
	for _, f := range s.Fields.Fields {
		if f.WildCard != nil {
			tbl := f.WildCard.Table.O
			if tbl != "" && !sc.hasTable(tbl) {
				return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", tbl)
			}
			if s.From == nil {
				return nil, sqlerr.New(sqlerr.SyntaxError, "SELECT * with no tables specified is not valid")
			}
			for _, c := range sc.cols {
				if tbl != "" && c.table != tbl {
					continue
				}
				items = append(items, selectItem{expr: colExpr(c.table, c.name), name: c.name})
			}
			continue
		}
		name := f.AsName.O
		if name == "" {
			name = derivedName(f.Expr)
		}
		items = append(items, selectItem{expr: f.Expr, name: name})
	}

	var orderItems []*ast.ByItem
	if s.OrderBy != nil {
		orderItems = s.OrderBy.Items
	}
	aggregated := s.GroupBy != nil || s.Having != nil
	for _, it := range items {
		aggregated = aggregated || hasAggregate(it.expr)
	}
	for _, o := range orderItems {
		aggregated = aggregated || hasAggregate(o.Expr)
	}
	if aggregated {
		var err error
		if node, err = b.bindAggregate(node, sc, s, items, orderItems); err != nil {
			return nil, err
		}
		if s.Having != nil {
			pred, err := b.bindPredicate(sc, s.Having.Expr, "HAVING")
			if err != nil {
				return nil, err
			}
			node = &plan.Filter{Input: node, Pred: pred}
		}
	}

	// Project the select list.
	proj := &plan.Project{Input: node}
	for _, it := range items {
		e, err := b.bindExpr(sc, it.expr)
		if err != nil {
			return nil, err
		}
		if e.Type().Kind == sqltypes.KindUnknown {
			if e, err = b.coerce(e, sqltypes.Text, false); err != nil {
				return nil, err
			}
		}
		proj.Exprs = append(proj.Exprs, e)
		proj.Cols = append(proj.Cols, plan.Column{Name: it.name, Type: e.Type()})
	}
	visible := len(proj.Exprs)

	// ORDER BY may name output columns, positions, or input expressions;
	// the latter become hidden columns projected away after the sort.
	var keys []plan.SortKey
	for _, o := range orderItems {
		expr, nullsFirst, explicitNulls := unwrapNulls(o.Expr)
		idx, err := b.orderTarget(sc, proj, visible, items, expr, s.Distinct)
		if err != nil {
			return nil, err
		}
		nf := o.Desc
		if explicitNulls {
			nf = nullsFirst
		}
		c := proj.Cols[idx]
		keys = append(keys, plan.SortKey{Expr: &plan.ColumnRef{Index: idx, Name: c.Name, T: c.Type}, Desc: o.Desc, NullsFirst: nf})
	}
	b.agg = nil
	b.window = nil

	node = proj
	if s.Distinct {
		node = &plan.Distinct{Input: node}
	}
	if len(keys) > 0 {
		node = &plan.Sort{Input: node, Keys: keys}
	}
	if s.Limit != nil {
		lim, err := b.bindLimit(s.Limit)
		if err != nil {
			return nil, err
		}
		lim.Input = node
		node = lim
	}
	if len(proj.Exprs) > visible {
		node = trimColumns(node, visible)
	}
	return node, nil
}

func (b *binder) bindPredicate(sc *scope, n ast.ExprNode, clause string) (plan.Expr, error) {
	e, err := b.bindExpr(sc, n)
	if err != nil {
		return nil, err
	}
	if k := e.Type().Kind; k != sqltypes.KindBool && k != sqltypes.KindUnknown {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", clause, e.Type())
	}
	return b.coerce(e, sqltypes.Bool, false)
}

// trimColumns projects away the hidden sort columns after position n.
func trimColumns(node plan.Node, n int) plan.Node {
	cols := node.Columns()[:n]
	p := &plan.Project{Input: node, Cols: cols}
	for i, c := range cols {
		p.Exprs = append(p.Exprs, &plan.ColumnRef{Index: i, Name: c.Name, T: c.Type})
	}
	return p
}

// unwrapNulls strips the front's sluice_nulls_first/last wrapper.
func unwrapNulls(e ast.ExprNode) (ast.ExprNode, bool, bool) {
	if f, ok := e.(*ast.FuncCallExpr); ok && len(f.Args) == 1 {
		switch f.FnName.L {
		case "sluice_nulls_first":
			return f.Args[0], true, true
		case "sluice_nulls_last":
			return f.Args[0], false, true
		}
	}
	return e, false, false
}

// orderTarget returns the projection column an ORDER BY item sorts by,
// adding a hidden column when it names none.
func (b *binder) orderTarget(sc *scope, proj *plan.Project, visible int, items []selectItem, e ast.ExprNode, distinct bool) (int, error) {
	if p, ok := e.(*ast.PositionExpr); ok {
		if p.N < 1 || p.N > visible {
			return 0, sqlerr.New(sqlerr.InvalidColumnReference, "ORDER BY position %d is not in select list", p.N)
		}
		return p.N - 1, nil
	}
	if v, ok := e.(interface{ GetValue() any }); ok {
		if n, isInt := v.GetValue().(int64); isInt {
			if n < 1 || int(n) > visible {
				return 0, sqlerr.New(sqlerr.InvalidColumnReference, "ORDER BY position %d is not in select list", n)
			}
			return int(n) - 1, nil
		}
	}
	if c, ok := e.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		found := -1
		for i := 0; i < visible; i++ {
			if items[i].name == c.Name.Name.O {
				if found >= 0 && !sameAST(items[found].expr, items[i].expr) {
					return 0, sqlerr.New(sqlerr.AmbiguousColumn, "ORDER BY %q is ambiguous", c.Name.Name.O)
				}
				if found < 0 {
					found = i
				}
			}
		}
		if found >= 0 {
			return found, nil
		}
	}
	bound, err := b.bindExpr(sc, e)
	if err != nil {
		return 0, err
	}
	key := bound.String()
	for i, pe := range proj.Exprs {
		if pe.String() == key {
			return i, nil
		}
	}
	if distinct {
		return 0, sqlerr.New(sqlerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
	}
	proj.Exprs = append(proj.Exprs, bound)
	proj.Cols = append(proj.Cols, plan.Column{Name: "?sort?", Type: bound.Type()})
	return len(proj.Exprs) - 1, nil
}

func sameAST(a, c ast.ExprNode) bool {
	ca, ok1 := a.(*ast.ColumnNameExpr)
	cc, ok2 := c.(*ast.ColumnNameExpr)
	return ok1 && ok2 && ca.Name.Table.L == cc.Name.Table.L && ca.Name.Name.L == cc.Name.Name.L
}

func (b *binder) bindLimit(l *ast.Limit) (*plan.Limit, error) {
	out := &plan.Limit{}
	for _, p := range []struct {
		n   ast.ExprNode
		dst *plan.Expr
	}{{l.Count, &out.Count}, {l.Offset, &out.Offset}} {
		if p.n == nil {
			continue
		}
		if v, ok := p.n.(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindUint64 && v.GetUint64() == math.MaxUint64 {
			continue // the front's stand-in for LIMIT ALL
		}
		e, err := b.bindExpr(&scope{}, p.n)
		if err != nil {
			return nil, err
		}
		if e, err = b.coerce(e, sqltypes.Int64, false); err != nil {
			return nil, err
		}
		*p.dst = e
	}
	return out, nil
}

func colExpr(table, name string) *ast.ColumnNameExpr {
	return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(table), Name: ast.NewCIStr(name)}}
}

// derivedName is the output column name PostgreSQL gives an expression
// without an alias.
func derivedName(e ast.ExprNode) string {
	switch e := e.(type) {
	case *ast.ColumnNameExpr:
		return e.Name.Name.O
	case *ast.ParenthesesExpr:
		return derivedName(e.Expr)
	case *ast.AggregateFuncExpr:
		return strings.ToLower(e.F)
	case *ast.CaseExpr:
		return "case"
	case *ast.FuncCallExpr:
		switch e.FnName.L {
		case "sluice_cast":
			if n := derivedName(e.Args[0]); n != "?column?" {
				return n
			}
			if len(e.Args) == 2 {
				if v, ok := e.Args[1].(interface{ GetString() string }); ok {
					return pgTypeName(v.GetString())
				}
			}
		case "sluice_interval":
			return "interval"
		case ast.TimestampLiteral:
			return "timestamp"
		case ast.DateLiteral:
			return "date"
		case "current_timestamp":
			return "current_timestamp"
		case "sluice_concat":
			return "concat"
		case "concat":
			return "?column?"
		case "substring":
			return "substring"
		}
		if !strings.HasPrefix(e.FnName.L, "sluice_") && !strings.Contains(e.FnName.L, "`") {
			return e.FnName.L
		}
	}
	return "?column?"
}

// pgTypeName is the column name PostgreSQL derives from a cast's type.
func pgTypeName(t string) string {
	ty, ok := sqltypes.ParseName(t)
	if !ok {
		return t
	}
	switch ty.Kind {
	case sqltypes.KindBool:
		return "bool"
	case sqltypes.KindInt16:
		return "int2"
	case sqltypes.KindInt32:
		return "int4"
	case sqltypes.KindInt64:
		return "int8"
	case sqltypes.KindFloat32:
		return "float4"
	case sqltypes.KindFloat64:
		return "float8"
	case sqltypes.KindText:
		if ty.Width > 0 || strings.HasPrefix(t, "varchar") || strings.HasPrefix(t, "character varying") {
			return "varchar"
		}
		return "text"
	}
	return strings.Fields(ty.String())[0]
}

// hasAggregate reports whether an expression contains an aggregate call
// (not looking into subqueries).
func hasAggregate(n ast.Node) bool {
	v := &aggFinder{}
	n.Accept(v)
	return len(v.found) > 0
}

type aggFinder struct {
	found []*ast.AggregateFuncExpr
}

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n := n.(type) {
	case *ast.AggregateFuncExpr:
		v.found = append(v.found, n)
		return n, true
	case *ast.SubqueryExpr, *ast.SelectStmt, *ast.SetOprStmt:
		return n, true
	}
	return n, false
}

func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// aggScope binds expressions above an Aggregate node: group-by
// expressions and aggregate calls become references to its output.
type aggScope struct {
	inner   *scope
	groups  []string // bound group-by expressions, printed
	aggKeys map[*ast.AggregateFuncExpr]int
	out     []plan.Column
}

func (a *aggScope) match(b *binder, n ast.ExprNode) (plan.Expr, bool, error) {
	if f, ok := n.(*ast.AggregateFuncExpr); ok {
		i, found := a.aggKeys[f]
		if !found {
			return nil, true, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested")
		}
		i += len(a.groups)
		return &plan.ColumnRef{Index: i, Name: a.out[i].Name, T: a.out[i].Type}, true, nil
	}
	if len(a.groups) == 0 || hasAggregate(n) {
		return nil, false, nil
	}
	switch n.(type) {
	case *ast.ParenthesesExpr:
		return nil, false, nil
	}
	b.agg = nil
	e, err := b.bindExpr(a.inner, n)
	b.agg = a
	if err != nil {
		return nil, false, nil
	}
	key := e.String()
	for i, g := range a.groups {
		if g == key {
			return &plan.ColumnRef{Index: i, Name: a.out[i].Name, T: a.out[i].Type}, true, nil
		}
	}
	return nil, false, nil
}

var aggFuncs = map[string]plan.AggFunc{
	"count": plan.AggCount, "sum": plan.AggSum, "avg": plan.AggAvg, "min": plan.AggMin, "max": plan.AggMax,
}

func (b *binder) bindAggregate(input plan.Node, sc *scope, s *ast.SelectStmt, items []selectItem, order []*ast.ByItem) (plan.Node, error) {
	agg := &plan.Aggregate{Input: input}
	as := &aggScope{inner: sc, aggKeys: map[*ast.AggregateFuncExpr]int{}}
	if s.GroupBy != nil {
		if s.GroupBy.Rollup {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ROLLUP is not supported")
		}
		for _, g := range s.GroupBy.Items {
			if f, ok := windowCall(g.Expr); ok {
				w, ext, err := b.bindGroupWindow(agg.Input, sc, f)
				if err != nil {
					return nil, err
				}
				agg.Input, sc, as.inner = w, ext, ext
				agg.Window = &plan.AggWindow{StartKey: len(agg.GroupBy), EndKey: len(agg.GroupBy) + 1}
				for _, k := range []int{b.window.start, b.window.end} {
					c := ext.cols[k]
					ref := &plan.ColumnRef{Index: k, Name: c.name[1:], T: c.t}
					agg.GroupBy = append(agg.GroupBy, ref)
					agg.Cols = append(agg.Cols, plan.Column{Name: ref.Name, Type: ref.T})
					as.groups = append(as.groups, ref.String())
				}
				continue
			}
			ge := g.Expr
			if p, ok := ge.(*ast.PositionExpr); ok {
				if p.N < 1 || p.N > len(items) {
					return nil, sqlerr.New(sqlerr.InvalidColumnReference, "GROUP BY position %d is not in select list", p.N)
				}
				ge = items[p.N-1].expr
			} else if c, ok := ge.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
				if _, err := sc.resolve("", c.Name.Name.O); err != nil {
					for _, it := range items {
						if it.name == c.Name.Name.O {
							ge = it.expr
							break
						}
					}
				}
			}
			if hasAggregate(ge) {
				return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in GROUP BY")
			}
			e, err := b.bindExpr(sc, ge)
			if err != nil {
				return nil, err
			}
			if e.Type().Kind == sqltypes.KindUnknown {
				if e, err = b.coerce(e, sqltypes.Text, false); err != nil {
					return nil, err
				}
			}
			name := "?column?"
			if r, ok := e.(*plan.ColumnRef); ok {
				name = r.Name
			}
			agg.GroupBy = append(agg.GroupBy, e)
			agg.Cols = append(agg.Cols, plan.Column{Name: name, Type: e.Type()})
			as.groups = append(as.groups, e.String())
		}
	}
	finder := &aggFinder{}
	for _, it := range items {
		it.expr.Accept(finder)
	}
	if s.Having != nil {
		s.Having.Expr.Accept(finder)
	}
	for _, o := range order {
		o.Expr.Accept(finder)
	}
	dedupe := map[string]int{}
	for _, f := range finder.found {
		call, err := b.bindAggCall(sc, f)
		if err != nil {
			return nil, err
		}
		key := call.String()
		if i, ok := dedupe[key]; ok {
			as.aggKeys[f] = i
			continue
		}
		dedupe[key] = len(agg.Aggs)
		as.aggKeys[f] = len(agg.Aggs)
		agg.Aggs = append(agg.Aggs, call)
		agg.Cols = append(agg.Cols, plan.Column{Name: strings.ToLower(f.F), Type: call.T})
	}
	as.out = agg.Cols
	b.agg = as
	return agg, nil
}

func (b *binder) bindAggCall(sc *scope, f *ast.AggregateFuncExpr) (plan.AggCall, error) {
	name := strings.ToLower(f.F)
	fn, ok := aggFuncs[name]
	if !ok {
		return plan.AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "aggregate %s is not supported", name)
	}
	if f.Order != nil {
		return plan.AggCall{}, sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY inside an aggregate is not supported")
	}
	if len(f.Args) != 1 {
		return plan.AggCall{}, sqlerr.New(sqlerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(f.Args))
	}
	if fn == plan.AggCount && !f.Distinct && isCountStar(f) {
		return plan.AggCall{Func: plan.AggCountStar, T: sqltypes.Int64}, nil
	}
	for _, a := range f.Args {
		if hasAggregate(a) {
			return plan.AggCall{}, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested")
		}
	}
	arg, err := b.bindExpr(sc, f.Args[0])
	if err != nil {
		return plan.AggCall{}, err
	}
	if arg.Type().Kind == sqltypes.KindUnknown {
		if arg, err = b.coerce(arg, sqltypes.Text, false); err != nil {
			return plan.AggCall{}, err
		}
	}
	call := plan.AggCall{Func: fn, Arg: arg, Distinct: f.Distinct}
	at := arg.Type()
	switch fn {
	case plan.AggCount:
		call.T = sqltypes.Int64
	case plan.AggSum:
		switch {
		case at.IsInteger():
			call.T = sqltypes.Int64
		case at.IsFloat():
			call.T = sqltypes.Float64
		case at.Kind == sqltypes.KindInterval:
			call.T = at
		default:
			return plan.AggCall{}, typeErr("sum", at)
		}
	case plan.AggAvg:
		if !at.IsNumeric() {
			return plan.AggCall{}, typeErr("avg", at)
		}
		call.T = sqltypes.Float64
	case plan.AggMin, plan.AggMax:
		if at.Kind == sqltypes.KindInterval {
			return plan.AggCall{}, typeErr(name, at)
		}
		call.T = at
	}
	return call, nil
}

// isCountStar reports whether f is COUNT(*): the parser gives it the
// constant argument 1.
func isCountStar(f *ast.AggregateFuncExpr) bool {
	v, ok := f.Args[0].(interface{ GetValue() any })
	if !ok {
		return false
	}
	n, isInt := v.GetValue().(int64)
	return isInt && n == 1
}

// bindValuesList binds VALUES (..), (..) as a query.
func (b *binder) bindValuesList(lists []*ast.RowExpr) (plan.Node, error) {
	rows := make([][]plan.Expr, len(lists))
	width := -1
	for i, l := range lists {
		if width >= 0 && len(l.Values) != width {
			return nil, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length")
		}
		width = len(l.Values)
		for _, v := range l.Values {
			e, err := b.bindExpr(&scope{}, v)
			if err != nil {
				return nil, err
			}
			rows[i] = append(rows[i], e)
		}
	}
	cols := make([]plan.Column, width)
	for c := 0; c < width; c++ {
		col := make([]plan.Expr, len(rows))
		for r := range rows {
			col[r] = rows[r][c]
		}
		t, err := b.commonTypeOf("VALUES", col)
		if err != nil {
			return nil, err
		}
		for r := range rows {
			if rows[r][c], err = b.coerce(rows[r][c], t, false); err != nil {
				return nil, err
			}
		}
		cols[c] = plan.Column{Name: fmt.Sprintf("column%d", c+1), Type: t}
	}
	return &plan.Values{Rows: rows, Cols: cols}, nil
}

// bindSetOpr binds UNION [ALL] chains (left-associative).
func (b *binder) bindSetOpr(s *ast.SetOprStmt) (plan.Node, error) {
	if s.With != nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "WITH queries are not supported yet")
	}
	node, err := b.bindSetOprList(s.SelectList)
	if err != nil {
		return nil, err
	}
	return b.finishSetOpr(node, s.OrderBy, s.Limit)
}

func (b *binder) bindSetOprList(l *ast.SetOprSelectList) (plan.Node, error) {
	var node plan.Node
	for i, sel := range l.Selects {
		var (
			next  plan.Node
			after *ast.SetOprType
			err   error
		)
		switch s := sel.(type) {
		case *ast.SelectStmt:
			after = s.AfterSetOperator
			next, err = b.bindQuery(s, nil)
		case *ast.SetOprSelectList:
			after = s.AfterSetOperator
			next, err = b.bindSetOprList(s)
			if err == nil {
				next, err = b.finishSetOpr(next, s.OrderBy, s.Limit)
			}
		default:
			err = sqlerr.New(sqlerr.FeatureNotSupported, "set operand %T is not supported", sel)
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			node = next
			continue
		}
		if after == nil || (*after != ast.UnionAll && *after != ast.Union) {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "INTERSECT and EXCEPT are not supported yet")
		}
		if node, err = b.union(node, next); err != nil {
			return nil, err
		}
		if *after == ast.Union {
			node = &plan.Distinct{Input: node}
		}
	}
	return node, nil
}

func (b *binder) union(l, r plan.Node) (plan.Node, error) {
	lc, rc := l.Columns(), r.Columns()
	if len(lc) != len(rc) {
		return nil, sqlerr.New(sqlerr.SyntaxError, "each UNION query must have the same number of columns")
	}
	cols := make([]plan.Column, len(lc))
	for i := range lc {
		t, ok := commonType(lc[i].Type, rc[i].Type)
		if !ok {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "UNION types %s and %s cannot be matched", lc[i].Type, rc[i].Type)
		}
		cols[i] = plan.Column{Name: lc[i].Name, Type: t}
	}
	var inputs []plan.Node
	if u, ok := l.(*plan.UnionAll); ok {
		inputs = append(inputs, u.Inputs...)
	} else {
		inputs = append(inputs, l)
	}
	inputs = append(inputs, r)
	for i, in := range inputs {
		cast, err := b.castNode(in, cols)
		if err != nil {
			return nil, err
		}
		inputs[i] = cast
	}
	return &plan.UnionAll{Inputs: inputs, Cols: cols}, nil
}

// castNode projects n's columns to the given types when they differ.
func (b *binder) castNode(n plan.Node, cols []plan.Column) (plan.Node, error) {
	in := n.Columns()
	p := &plan.Project{Input: n, Cols: make([]plan.Column, len(cols))}
	changed := false
	for i, c := range in {
		var e plan.Expr = &plan.ColumnRef{Index: i, Name: c.Name, T: c.Type}
		if c.Type != cols[i].Type {
			changed = true
			var err error
			if e, err = b.coerce(e, cols[i].Type, false); err != nil {
				return nil, err
			}
		}
		p.Exprs = append(p.Exprs, e)
		p.Cols[i] = plan.Column{Name: c.Name, Type: cols[i].Type}
	}
	if !changed {
		return n, nil
	}
	return p, nil
}

func (b *binder) finishSetOpr(node plan.Node, order *ast.OrderByClause, limit *ast.Limit) (plan.Node, error) {
	if order != nil {
		cols := node.Columns()
		var keys []plan.SortKey
		for _, o := range order.Items {
			e, nullsFirst, explicit := unwrapNulls(o.Expr)
			idx := -1
			switch x := e.(type) {
			case *ast.PositionExpr:
				idx = x.N - 1
			case *ast.ColumnNameExpr:
				for i, c := range cols {
					if c.Name == x.Name.Name.O {
						idx = i
						break
					}
				}
			}
			if idx < 0 || idx >= len(cols) {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY on a UNION result must name an output column")
			}
			nf := o.Desc
			if explicit {
				nf = nullsFirst
			}
			keys = append(keys, plan.SortKey{Expr: &plan.ColumnRef{Index: idx, Name: cols[idx].Name, T: cols[idx].Type}, Desc: o.Desc, NullsFirst: nf})
		}
		node = &plan.Sort{Input: node, Keys: keys}
	}
	if limit != nil {
		lim, err := b.bindLimit(limit)
		if err != nil {
			return nil, err
		}
		lim.Input = node
		node = lim
	}
	return node, nil
}
