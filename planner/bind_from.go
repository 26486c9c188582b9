package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// bindFrom binds a FROM clause (a tree of joins) to a node and the scope
// of its output columns.
func (b *binder) bindFrom(rs ast.ResultSetNode) (plan.Node, *scope, error) {
	switch n := rs.(type) {
	case *ast.Join:
		if n.Right == nil {
			return b.bindFrom(n.Left)
		}
		if n.NaturalJoin || len(n.Using) > 0 {
			return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "NATURAL and USING joins are not supported yet; use ON")
		}
		left, ls, err := b.bindFrom(n.Left)
		if err != nil {
			return nil, nil, err
		}
		right, rs, err := b.bindFrom(n.Right)
		if err != nil {
			return nil, nil, err
		}
		kind := plan.JoinInner
		swapped := false
		switch n.Tp {
		case ast.LeftJoin:
			kind = plan.JoinLeft
		case ast.RightJoin:
			kind = plan.JoinLeft
			left, right, ls, rs, swapped = right, left, rs, ls, true
		}
		sc := &scope{cols: append(append([]scopeCol{}, ls.cols...), rs.cols...)}
		j := &plan.Join{Left: left, Right: right, Kind: kind}
		if n.On != nil {
			if hasAggregate(n.On.Expr) {
				return nil, nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in JOIN conditions")
			}
			pred, err := b.bindPredicate(sc, n.On.Expr, "JOIN/ON")
			if err != nil {
				return nil, nil, err
			}
			b.splitJoinCond(j, pred, len(ls.cols))
		} else if kind == plan.JoinLeft {
			return nil, nil, sqlerr.New(sqlerr.SyntaxError, "syntax error: LEFT JOIN needs an ON condition")
		}
		if !swapped {
			return j, sc, nil
		}
		// Restore the user's column order: the right table was built as
		// the left (preserved) side.
		nr, nl := len(ls.cols), len(rs.cols)
		out := &scope{cols: append(append([]scopeCol{}, rs.cols...), ls.cols...)}
		p := &plan.Project{Input: j}
		jc := j.Columns()
		for i := 0; i < nl; i++ {
			c := jc[nr+i]
			p.Exprs = append(p.Exprs, &plan.ColumnRef{Index: nr + i, Name: c.Name, T: c.Type})
			p.Cols = append(p.Cols, c)
		}
		for i := 0; i < nr; i++ {
			c := jc[i]
			p.Exprs = append(p.Exprs, &plan.ColumnRef{Index: i, Name: c.Name, T: c.Type})
			p.Cols = append(p.Cols, c)
		}
		return p, out, nil
	case *ast.TableSource:
		alias := n.AsName.O
		switch src := n.Source.(type) {
		case *ast.TableName:
			if src.Schema.O != "" && src.Schema.L != "public" {
				return nil, nil, sqlerr.New(sqlerr.UndefinedTable, "schema %q does not exist", src.Schema.O)
			}
			if alias == "" {
				alias = src.Name.O
			}
			def, err := b.env.Catalog.TableDef(src.Name.O)
			if err != nil {
				if sqlerr.Code(err) != sqlerr.UndefinedTable {
					return nil, nil, err
				}
				if src.AsOf != nil && (IsSystemTable(src.Name.O) || b.isSource(src.Name.O)) {
					return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported,
						"AS OF VERSION reads an old version of a table; %q is not a table", src.Name.O)
				}
				if sd, ok := b.env.Catalog.SourceDef(src.Name.O); ok {
					cols := make([]plan.Column, len(sd.Columns))
					for i, c := range sd.Columns {
						cols[i] = plan.Column{Name: c.Name, Type: c.Type}
					}
					return &plan.Input{Source: sd.Name, Cols: cols}, scopeOf(alias, cols), nil
				}
				if cols, ok := SystemTable(src.Name.O); ok {
					return &plan.Input{Source: src.Name.O, Cols: cols}, scopeOf(alias, cols), nil
				}
				return nil, nil, err
			}
			cols := make([]plan.Column, len(def.Columns))
			for i, c := range def.Columns {
				cols[i] = plan.Column{Name: c.Name, Type: c.Type}
			}
			scan := &plan.Scan{Table: def.Name, Cols: cols}
			if src.AsOf != nil {
				if err := b.bindAsOf(scan, src.AsOf); err != nil {
					return nil, nil, err
				}
			}
			return scan, scopeOf(alias, cols), nil
		case *ast.SelectStmt, *ast.SetOprStmt:
			node, err := b.bindQuery(src.(ast.ResultSetNode), nil)
			if err != nil {
				return nil, nil, err
			}
			if len(n.ColumnNames) > 0 {
				return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "column aliases on subqueries are not supported yet")
			}
			return node, scopeOf(alias, node.Columns()), nil
		case *ast.Join:
			node, sc, err := b.bindFrom(src)
			if err != nil {
				return nil, nil, err
			}
			return node, sc, nil
		}
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "FROM item %T is not supported", n.Source)
	case *ast.TableName:
		return b.bindFrom(&ast.TableSource{Source: n})
	}
	return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "FROM item %T is not supported", rs)
}

// isSource reports whether name is a source.
func (b *binder) isSource(name string) bool {
	_, ok := b.env.Catalog.SourceDef(name)
	return ok
}

// bindAsOf sets the version a Scan reads from AS OF VERSION n, which the
// front hands to TiDB as AS OF TIMESTAMP sluice_version(n) (see
// prelex_rewrite.go): n is an integer literal, at least 1, or an integer
// parameter.
func (b *binder) bindAsOf(scan *plan.Scan, asOf *ast.AsOfClause) error {
	call, ok := asOf.TsExpr.(*ast.FuncCallExpr)
	if !ok || call.FnName.L != "sluice_version" || len(call.Args) != 1 {
		return sqlerr.New(sqlerr.FeatureNotSupported, "AS OF TIMESTAMP is not supported; use AS OF VERSION n")
	}
	e, err := b.bindExpr(&scope{}, call.Args[0])
	if err != nil {
		return err
	}
	switch x := e.(type) {
	case *plan.Param:
		switch {
		case x.T.Kind == sqltypes.KindUnknown:
			b.params[x.Index] = sqltypes.Int64
			scan.VersionParam = &plan.Param{Index: x.Index, T: sqltypes.Int64}
			return nil
		case x.T.IsInteger():
			scan.VersionParam = x
			return nil
		}
		return sqlerr.New(sqlerr.DatatypeMismatch, "AS OF VERSION must be type bigint, not type %s", x.T)
	case *plan.Literal:
		if v, ok := x.Value.(int64); ok && x.T.IsInteger() {
			if v < 1 {
				return sqlerr.New(sqlerr.InvalidParameterValue, "AS OF VERSION of table %q must be a version number, at least 1, not %d", scan.Table, v)
			}
			scan.Version = uint64(v)
			return nil
		}
	}
	return sqlerr.New(sqlerr.DatatypeMismatch, "AS OF VERSION must be an integer, not %s", e)
}

// splitJoinCond turns the equalities of pred that compare a left column
// expression with a right one into hash keys; the rest is the residual
// condition.
func (b *binder) splitJoinCond(j *plan.Join, pred plan.Expr, nLeft int) {
	var rest []plan.Expr
	for _, c := range conjuncts(pred) {
		if l, r, ok := equiKey(c, nLeft); ok {
			j.LeftKeys = append(j.LeftKeys, l)
			j.RightKeys = append(j.RightKeys, shiftRefs(r, -nLeft))
			continue
		}
		rest = append(rest, c)
	}
	if len(rest) > 0 {
		j.Cond = andAll(rest)
	}
}

// equiKey recognises "l = r" where one side reads only left columns and
// the other only right columns; it returns them in (left, right) order.
func equiKey(e plan.Expr, nLeft int) (plan.Expr, plan.Expr, bool) {
	f, ok := e.(*plan.Func)
	if !ok || f.Name != "=" {
		return nil, nil, false
	}
	a, c := f.Args[0], f.Args[1]
	sa, sc := side(a, nLeft), side(c, nLeft)
	switch {
	case sa == sideLeft && sc == sideRight:
		return a, c, true
	case sa == sideRight && sc == sideLeft:
		return c, a, true
	}
	return nil, nil, false
}

const (
	sideNone = iota
	sideLeft
	sideRight
	sideBoth
)

// side tells which join input an expression reads.
func side(e plan.Expr, nLeft int) int {
	s := sideNone
	walkRefs(e, func(r *plan.ColumnRef) {
		this := sideLeft
		if r.Index >= nLeft {
			this = sideRight
		}
		if s == sideNone {
			s = this
		} else if s != this {
			s = sideBoth
		}
	})
	return s
}

func walkRefs(e plan.Expr, fn func(*plan.ColumnRef)) {
	switch x := e.(type) {
	case *plan.ColumnRef:
		fn(x)
	case *plan.Func:
		for _, a := range x.Args {
			walkRefs(a, fn)
		}
	case *plan.Cast:
		walkRefs(x.Arg, fn)
	case *plan.Case:
		for _, w := range x.Whens {
			walkRefs(w.Cond, fn)
			walkRefs(w.Then, fn)
		}
		if x.Else != nil {
			walkRefs(x.Else, fn)
		}
	}
}

// shiftRefs returns e with every column index moved by delta.
func shiftRefs(e plan.Expr, delta int) plan.Expr {
	switch x := e.(type) {
	case *plan.ColumnRef:
		return &plan.ColumnRef{Index: x.Index + delta, Name: x.Name, T: x.T}
	case *plan.Func:
		args := make([]plan.Expr, len(x.Args))
		for i, a := range x.Args {
			args[i] = shiftRefs(a, delta)
		}
		return &plan.Func{Name: x.Name, Args: args, T: x.T}
	case *plan.Cast:
		return &plan.Cast{Arg: shiftRefs(x.Arg, delta), T: x.T, Explicit: x.Explicit}
	case *plan.Case:
		out := &plan.Case{T: x.T}
		for _, w := range x.Whens {
			out.Whens = append(out.Whens, plan.When{Cond: shiftRefs(w.Cond, delta), Then: shiftRefs(w.Then, delta)})
		}
		if x.Else != nil {
			out.Else = shiftRefs(x.Else, delta)
		}
		return out
	}
	return e
}

func conjuncts(e plan.Expr) []plan.Expr {
	if f, ok := e.(*plan.Func); ok && f.Name == "and" {
		var out []plan.Expr
		for _, a := range f.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []plan.Expr{e}
}

func andAll(es []plan.Expr) plan.Expr {
	out := es[0]
	for _, e := range es[1:] {
		out = &plan.Func{Name: "and", Args: []plan.Expr{out, e}, T: out.Type()}
	}
	return out
}

// pushDownFilter places a WHERE predicate over node. Over an inner join,
// equalities between the two sides become hash keys (so FROM a, b WHERE
// a.x = b.y is a hash join, not a filtered cross product) and conjuncts
// reading one side only are filtered below the join.
func pushDownFilter(node plan.Node, pred plan.Expr) plan.Node {
	j, ok := node.(*plan.Join)
	if !ok || j.Kind != plan.JoinInner {
		return &plan.Filter{Input: node, Pred: pred}
	}
	nLeft := len(j.Left.Columns())
	var rest, leftOnly, rightOnly []plan.Expr
	for _, c := range conjuncts(pred) {
		if l, r, ok := equiKey(c, nLeft); ok {
			j.LeftKeys = append(j.LeftKeys, l)
			j.RightKeys = append(j.RightKeys, shiftRefs(r, -nLeft))
			continue
		}
		switch side(c, nLeft) {
		case sideLeft:
			leftOnly = append(leftOnly, c)
		case sideRight:
			rightOnly = append(rightOnly, shiftRefs(c, -nLeft))
		default:
			rest = append(rest, c)
		}
	}
	if len(leftOnly) > 0 {
		j.Left = pushDownFilter(j.Left, andAll(leftOnly))
	}
	if len(rightOnly) > 0 {
		j.Right = pushDownFilter(j.Right, andAll(rightOnly))
	}
	if len(rest) == 0 {
		return j
	}
	return &plan.Filter{Input: j, Pred: andAll(rest)}
}
