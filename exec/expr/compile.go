package expr

import (
	"context"
	"math"
	"strings"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// compiler turns plan expressions into nodes.
type compiler struct {
	cols []colUse
}

func (c *compiler) compile(e plan.Expr) (node, error) {
	switch e := e.(type) {
	case *plan.ColumnRef:
		c.use(e.Index, e.T)
		return &colNode{index: e.Index}, nil
	case *plan.Literal:
		v, err := normalize(e.T, e.Value)
		if err != nil {
			return nil, err
		}
		return &constNode{v: v}, nil
	case *plan.Param:
		return &paramNode{index: e.Index, t: e.T}, nil
	case *plan.Cast:
		return c.cast(e)
	case *plan.Case:
		return c.caseExpr(e)
	case *plan.Func:
		n, err := c.fn(e)
		if err != nil {
			return nil, err
		}
		return fold(n, e.T), nil
	case nil:
		return nil, sqlerr.New(sqlerr.InternalError, "missing expression")
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression %T is not supported", e)
}

func (c *compiler) use(index int, t sqltypes.Type) {
	for _, u := range c.cols {
		if u.index == index {
			return
		}
	}
	c.cols = append(c.cols, colUse{index: index, t: t})
}

func (c *compiler) compileAll(es []plan.Expr) ([]node, []sqltypes.Type, error) {
	nodes := make([]node, len(es))
	types := make([]sqltypes.Type, len(es))
	for i, e := range es {
		n, err := c.compile(e)
		if err != nil {
			return nil, nil, err
		}
		nodes[i], types[i] = n, e.Type()
	}
	return nodes, types, nil
}

// fold evaluates a function of constants once, at compile time, when that
// succeeds; an error is left for evaluation to raise, if the expression
// is ever evaluated (it may sit in a CASE arm no row reaches).
func fold(n node, t sqltypes.Type) node {
	f, ok := n.(*funcNode)
	if !ok {
		if cn, ok := n.(*cmpNode); ok {
			f = cn.funcNode
		} else {
			return n
		}
	}
	for _, a := range f.args {
		if _, ok := a.(*constNode); !ok {
			return n
		}
	}
	st := &state{ctx: context.Background(), mem: memory.NewGoAllocator()}
	v, err := n.eval(st, &batch{n: 1})
	if err != nil {
		return n
	}
	defer v.release()
	if v.arr != nil {
		return &constNode{v: ValueAt(v.arr, 0)}
	}
	return &constNode{v: v.c}
}

func (c *compiler) cast(e *plan.Cast) (node, error) {
	arg, err := c.compile(e.Arg)
	if err != nil {
		return nil, err
	}
	from, to := e.Arg.Type(), e.T
	if sameRepr(from, to) {
		return arg, nil
	}
	k, fails, ok := castKernel(from, to, e.Explicit)
	if !ok {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cannot cast type %s to %s", from, to)
	}
	return fold(newFunc("cast", []node{arg}, []sqltypes.Type{from}, to, k, fails), to), nil
}

// sameRepr reports whether a cast from one type to the other changes
// nothing: same kind (text to unbounded text, or to the same width).
func sameRepr(from, to sqltypes.Type) bool {
	textLike := func(t sqltypes.Type) bool {
		return t.Kind == sqltypes.KindText || t.Kind == sqltypes.KindUnknown
	}
	if textLike(from) && textLike(to) {
		return to.Width == 0 || to.Width == from.Width
	}
	return from.Kind == to.Kind
}

func (c *compiler) caseExpr(e *plan.Case) (node, error) {
	n := &caseNode{t: e.T}
	for _, w := range e.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return nil, err
		}
		then, err := c.compile(w.Then)
		if err != nil {
			return nil, err
		}
		n.whens = append(n.whens, caseArm{cond: cond, then: then})
	}
	if e.Else != nil {
		els, err := c.compile(e.Else)
		if err != nil {
			return nil, err
		}
		n.els = els
	} else {
		n.els = &constNode{}
	}
	return n, nil
}

func errNoFunc(name string, types []sqltypes.Type) error {
	ts := make([]string, len(types))
	for i, t := range types {
		ts[i] = t.String()
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(ts, ", "))
}

// fn compiles a function call; see plan.Func for the contract.
func (c *compiler) fn(e *plan.Func) (node, error) {
	args, types, err := c.compileAll(e.Args)
	if err != nil {
		return nil, err
	}
	name := e.Name
	arity := func(min, max int) error {
		if len(args) < min || len(args) > max {
			return errNoFunc(name, types)
		}
		return nil
	}
	// same checks that all arguments have one type, returned.
	same := func() (sqltypes.Type, error) {
		t := types[0]
		for _, u := range types[1:] {
			if u.Kind != t.Kind {
				return t, errNoFunc(name, types)
			}
			if u.Width != t.Width {
				t.Width = 0
			}
		}
		return t, nil
	}
	kinds := func(want ...sqltypes.Kind) error {
		if len(types) != len(want) {
			return errNoFunc(name, types)
		}
		for i, k := range want {
			got := types[i].Kind
			if got == sqltypes.KindUnknown && k == sqltypes.KindText {
				continue
			}
			if got != k {
				return errNoFunc(name, types)
			}
		}
		return nil
	}
	strict := func(k kernel, fails bool) *funcNode {
		return newFunc(name, args, types, e.T, k, fails)
	}
	switch name {
	case "+", "-", "*", "/", "%", "mod":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		a, b := types[0].Kind, types[1].Kind
		switch {
		case (name == "+" || name == "-") && a == sqltypes.KindTimestamp && b == sqltypes.KindInterval:
			sign := int64(1)
			if name == "-" {
				sign = -1
			}
			return strict(tsIntervalKernel(sign), true), nil
		case name == "+" && a == sqltypes.KindInterval && b == sqltypes.KindTimestamp:
			args[0], args[1] = args[1], args[0]
			types[0], types[1] = types[1], types[0]
			return strict(tsIntervalKernel(1), true), nil
		case name == "-" && a == sqltypes.KindTimestamp && b == sqltypes.KindTimestamp:
			return strict(tsDiffKernel, true), nil
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		if name == "mod" && !t.IsInteger() {
			return nil, errNoFunc(name, types)
		}
		op := name[0]
		if name == "mod" {
			op = '%'
		}
		k, ok := arithKernel(op, t)
		if !ok {
			return nil, errNoFunc(name, types)
		}
		return strict(k, true), nil
	case "neg", "abs":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		mk := negKernel
		if name == "abs" {
			mk = absKernel
		}
		k, ok := mk(types[0])
		if !ok {
			return nil, errNoFunc(name, types)
		}
		return strict(k, types[0].IsInteger()), nil
	case "=", "<>", "<", "<=", ">", ">=":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		op, _ := cmpOpOf(name)
		return &cmpNode{funcNode: strict(cmpKernel(op, t), false), op: op, t: t}, nil
	case "and", "or":
		if len(args) == 0 {
			return nil, errNoFunc(name, types)
		}
		for _, t := range types {
			if t.Kind != sqltypes.KindBool {
				return nil, errNoFunc(name, types)
			}
		}
		or := name == "or"
		var flat []node
		for _, a := range args {
			if l, ok := a.(*logicNode); ok && l.or == or {
				flat = append(flat, l.args...)
			} else {
				flat = append(flat, a)
			}
		}
		return &logicNode{or: or, args: flat}, nil
	case "not":
		if err := kinds(sqltypes.KindBool); err != nil {
			return nil, err
		}
		return strict(notKernel, false), nil
	case "is_null", "is_not_null":
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		return &isNullNode{arg: args[0], not: name == "is_not_null"}, nil
	case "is_true", "is_false", "is_not_true", "is_not_false":
		if err := kinds(sqltypes.KindBool); err != nil {
			return nil, err
		}
		return &boolTestNode{
			arg:   args[0],
			truth: name == "is_true" || name == "is_not_true",
			not:   strings.HasPrefix(name, "is_not_"),
		}, nil
	case "is_distinct_from", "is_not_distinct_from":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		return &distinctNode{a: args[0], b: args[1], t: t, not: name == "is_not_distinct_from"}, nil
	case "like", "ilike", "regex_match", "regex_imatch":
		if err := kinds(sqltypes.KindText, sqltypes.KindText); err != nil {
			return nil, err
		}
		fold := name == "ilike" || name == "regex_imatch"
		var pat *string
		if lit, ok := args[1].(*constNode); ok {
			if s, ok := lit.v.(string); ok {
				pat = &s
			}
		}
		if strings.HasPrefix(name, "regex") {
			var k kernel = regexKernel(fold, nil, nil)
			if pat != nil {
				re, err := compileRegex(*pat, fold)
				k = regexKernel(fold, re, err)
			}
			return strict(k, true), nil
		}
		k := likeKernel(fold, nil, nil)
		if pat != nil {
			m, err := compileLike(*pat, fold)
			k = likeKernel(fold, m, err)
		}
		return strict(k, true), nil
	case "in":
		if len(args) < 2 {
			return nil, errNoFunc(name, types)
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		return c.in(args, t)
	case "coalesce", "greatest", "least":
		if len(args) == 0 {
			return nil, errNoFunc(name, types)
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		if name == "coalesce" {
			return &coalesceNode{args: args, t: e.T}, nil
		}
		return &extremeNode{args: args, t: t, least: name == "least"}, nil
	case "nullif":
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		t, err := same()
		if err != nil {
			return nil, err
		}
		return &nullifNode{a: args[0], b: args[1], t: t}, nil
	case "||":
		if err := kinds(sqltypes.KindText, sqltypes.KindText); err != nil {
			return nil, err
		}
		return strict(concatKernel, false), nil
	case "concat":
		for _, t := range types {
			if t.Kind != sqltypes.KindText && t.Kind != sqltypes.KindUnknown {
				return nil, errNoFunc(name, types)
			}
		}
		return &concatNode{args: args}, nil
	case "length", "lower", "upper":
		if err := kinds(sqltypes.KindText); err != nil {
			return nil, err
		}
		k := map[string]kernel{"length": lengthKernel, "lower": lowerKernel, "upper": upperKernel}[name]
		return strict(k, false), nil
	case "substr":
		want := []sqltypes.Kind{sqltypes.KindText, sqltypes.KindInt64, sqltypes.KindInt64}
		if len(args) < 2 || len(args) > 3 {
			return nil, errNoFunc(name, types)
		}
		if err := kinds(want[:len(args)]...); err != nil {
			return nil, err
		}
		return strict(substrKernel, len(args) == 3), nil
	case "trim", "ltrim", "rtrim":
		want := []sqltypes.Kind{sqltypes.KindText, sqltypes.KindText}
		if len(args) < 1 || len(args) > 2 {
			return nil, errNoFunc(name, types)
		}
		if err := kinds(want[:len(args)]...); err != nil {
			return nil, err
		}
		return strict(trimKernel(name != "rtrim", name != "ltrim"), false), nil
	case "replace":
		if err := kinds(sqltypes.KindText, sqltypes.KindText, sqltypes.KindText); err != nil {
			return nil, err
		}
		return strict(replaceKernel, false), nil
	case "position":
		if err := kinds(sqltypes.KindText, sqltypes.KindText); err != nil {
			return nil, err
		}
		return strict(positionKernel, false), nil
	case "round":
		want := []sqltypes.Kind{sqltypes.KindFloat64, sqltypes.KindInt64}
		if len(args) < 1 || len(args) > 2 {
			return nil, errNoFunc(name, types)
		}
		if err := kinds(want[:len(args)]...); err != nil {
			return nil, err
		}
		return strict(roundKernel, false), nil
	case "floor", "ceil", "sqrt":
		if err := kinds(sqltypes.KindFloat64); err != nil {
			return nil, err
		}
		switch name {
		case "floor":
			return strict(unaryFloat(math.Floor), false), nil
		case "ceil":
			return strict(unaryFloat(math.Ceil), false), nil
		}
		return strict(sqrtKernel, true), nil
	case "power":
		if err := kinds(sqltypes.KindFloat64, sqltypes.KindFloat64); err != nil {
			return nil, err
		}
		return strict(powerKernel, true), nil
	case "date_trunc", "extract":
		if err := kinds(sqltypes.KindText, sqltypes.KindTimestamp); err != nil {
			return nil, err
		}
		if name == "date_trunc" {
			return strict(dateTruncKernel, true), nil
		}
		return strict(extractKernel, true), nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", name)
}

// in compiles "a IN (list)": a set lookup when the list is constants, else
// an OR of equalities.
func (c *compiler) in(args []node, t sqltypes.Type) (node, error) {
	lits := true
	for _, a := range args[1:] {
		switch a.(type) {
		case *constNode:
		case *paramNode:
			lits = false
		default:
			var ors []node
			for _, v := range args[1:] {
				ors = append(ors, &cmpNode{
					funcNode: newFunc("=", []node{args[0], v}, []sqltypes.Type{t, t}, sqltypes.Bool, cmpKernel(opEQ, t), false),
					op:       opEQ,
					t:        t,
				})
			}
			return &logicNode{or: true, args: ors}, nil
		}
	}
	n := &inNode{arg: args[0], list: args[1:], t: t}
	if lits {
		vals := make([]any, len(n.list))
		for i, a := range n.list {
			vals[i] = a.(*constNode).v
		}
		n.lit = newInSet(t, vals)
	}
	return n, nil
}
