package planner

import (
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// fn resolves a scalar function or operator by name over bound arguments:
// it picks the argument and result types (the contract listed on
// plan.Func) and inserts the casts that make the arguments fit.
func (b *binder) fn(name string, args ...plan.Expr) (plan.Expr, error) {
	switch name {
	case "+", "-", "*", "/", "%":
		return b.arith(name, args[0], args[1])
	case "neg", "abs":
		if err := b.arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		a, err := b.numeric(name, args[0], sqltypes.Float64)
		if err != nil {
			return nil, err
		}
		return &plan.Func{Name: name, Args: []plan.Expr{a}, T: a.Type()}, nil
	case "=", "<>", "<", "<=", ">", ">=", "is_distinct_from", "is_not_distinct_from":
		return b.same(name, args, sqltypes.Bool, false)
	case "and", "or":
		for i, a := range args {
			c, err := b.coerce(a, sqltypes.Bool, false)
			if err != nil {
				return nil, typeErr(name, a.Type())
			}
			args[i] = c
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Bool}, nil
	case "not", "is_true", "is_false", "is_not_true", "is_not_false":
		if err := b.arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		a, err := b.coerce(args[0], sqltypes.Bool, false)
		if err != nil {
			return nil, typeErr(name, args[0].Type())
		}
		return &plan.Func{Name: name, Args: []plan.Expr{a}, T: sqltypes.Bool}, nil
	case "is_null", "is_not_null":
		a := args[0]
		if a.Type().Kind == sqltypes.KindUnknown {
			var err error
			if a, err = b.coerce(a, sqltypes.Text, false); err != nil {
				return nil, err
			}
		}
		return &plan.Func{Name: name, Args: []plan.Expr{a}, T: sqltypes.Bool}, nil
	case "in":
		return b.same(name, args, sqltypes.Bool, false)
	case "coalesce", "greatest", "least":
		if len(args) == 0 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "%s needs at least one argument", name)
		}
		return b.same(name, args, sqltypes.Unknown, true)
	case "nullif":
		if err := b.arity(name, args, 2, 2); err != nil {
			return nil, err
		}
		return b.same(name, args, sqltypes.Unknown, true)
	case "like", "ilike", "regex_match", "regex_imatch", "||", "replace", "lower", "upper":
		min, max := 2, 2
		switch name {
		case "replace":
			min, max = 3, 3
		case "lower", "upper":
			min, max = 1, 1
		}
		if err := b.arity(name, args, min, max); err != nil {
			return nil, err
		}
		strict := name != "||"
		if name == "||" {
			lk, rk := args[0].Type().Kind, args[1].Type().Kind
			if lk != sqltypes.KindText && lk != sqltypes.KindUnknown && rk != sqltypes.KindText && rk != sqltypes.KindUnknown {
				return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s || %s", args[0].Type(), args[1].Type())
			}
			boolsAsOutput(args)
		}
		if err := b.texts(name, args, strict); err != nil {
			return nil, err
		}
		t := sqltypes.Text
		if name == "like" || name == "ilike" || name == "regex_match" || name == "regex_imatch" {
			t = sqltypes.Bool
		}
		return &plan.Func{Name: name, Args: args, T: t}, nil
	case "concat":
		boolsAsOutput(args)
		if err := b.texts(name, args, false); err != nil {
			return nil, err
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Text}, nil
	case "length":
		if err := b.arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		if err := b.texts(name, args, true); err != nil {
			return nil, err
		}
		return &plan.Func{Name: "length", Args: args, T: sqltypes.Int32}, nil
	case "position":
		if err := b.arity(name, args, 2, 2); err != nil {
			return nil, err
		}
		if err := b.texts(name, args, true); err != nil {
			return nil, err
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Int32}, nil
	case "trim", "ltrim", "rtrim":
		if err := b.arity(name, args, 1, 2); err != nil {
			return nil, err
		}
		if err := b.texts(name, args, true); err != nil {
			return nil, err
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Text}, nil
	case "substr":
		if err := b.arity(name, args, 2, 3); err != nil {
			return nil, err
		}
		if err := b.texts(name, args[:1], true); err != nil {
			return nil, err
		}
		for i := 1; i < len(args); i++ {
			a, err := b.integer(name, args[i])
			if err != nil {
				return nil, err
			}
			args[i] = a
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Text}, nil
	case "round":
		if err := b.arity(name, args, 1, 2); err != nil {
			return nil, err
		}
		a, err := b.coerceNum(name, args[0], sqltypes.Float64)
		if err != nil {
			return nil, err
		}
		out := []plan.Expr{a}
		if len(args) == 2 {
			d, err := b.integer(name, args[1])
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		return &plan.Func{Name: name, Args: out, T: sqltypes.Float64}, nil
	case "floor", "ceil", "sqrt":
		if err := b.arity(name, args, 1, 1); err != nil {
			return nil, err
		}
		a, err := b.coerceNum(name, args[0], sqltypes.Float64)
		if err != nil {
			return nil, err
		}
		return &plan.Func{Name: name, Args: []plan.Expr{a}, T: sqltypes.Float64}, nil
	case "power":
		if err := b.arity(name, args, 2, 2); err != nil {
			return nil, err
		}
		for i := range args {
			a, err := b.coerceNum(name, args[i], sqltypes.Float64)
			if err != nil {
				return nil, err
			}
			args[i] = a
		}
		return &plan.Func{Name: name, Args: args, T: sqltypes.Float64}, nil
	case "mod":
		if err := b.arity(name, args, 2, 2); err != nil {
			return nil, err
		}
		t, err := b.commonTypeOf(name, args)
		if err != nil {
			return nil, err
		}
		if !t.IsInteger() {
			return nil, typeErr(name, t)
		}
		return b.castAll(name, args, t, t)
	case "date_trunc", "extract":
		if err := b.arity(name, args, 2, 2); err != nil {
			return nil, err
		}
		u, err := b.coerce(args[0], sqltypes.Text, false)
		if err != nil {
			return nil, err
		}
		ts, err := b.coerce(args[1], sqltypes.Timestamp, false)
		if err != nil {
			return nil, err
		}
		t := sqltypes.Timestamp
		if name == "extract" {
			t = sqltypes.Float64
		}
		return &plan.Func{Name: name, Args: []plan.Expr{u, ts}, T: t}, nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s does not exist", name)
}

// boolsAsOutput rewrites boolean arguments of concat and || to the text
// PostgreSQL's output function gives them ('t'/'f'), which differs from a
// cast to text ('true'/'false').
func boolsAsOutput(args []plan.Expr) {
	for i, a := range args {
		if a.Type().Kind != sqltypes.KindBool {
			continue
		}
		args[i] = &plan.Case{
			Whens: []plan.When{{Cond: a, Then: &plan.Literal{Value: "t", T: sqltypes.Text}}},
			Else: &plan.Case{
				Whens: []plan.When{{Cond: &plan.Func{Name: "not", Args: []plan.Expr{a}, T: sqltypes.Bool}, Then: &plan.Literal{Value: "f", T: sqltypes.Text}}},
				Else:  &plan.Literal{Value: nil, T: sqltypes.Text},
				T:     sqltypes.Text,
			},
			T: sqltypes.Text,
		}
	}
}

func typeErr(name string, t sqltypes.Type) error {
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, t)
}

func (b *binder) arity(name string, args []plan.Expr, min, max int) error {
	if len(args) < min || len(args) > max {
		return sqlerr.New(sqlerr.UndefinedFunction, "function %s with %d arguments does not exist", name, len(args))
	}
	return nil
}

// arith resolves + - * / %.
func (b *binder) arith(name string, l, r plan.Expr) (plan.Expr, error) {
	lt, rt := l.Type(), r.Type()
	// Timestamp arithmetic: ts ± interval, interval + ts, ts - ts.
	if lt.Kind == sqltypes.KindTimestamp || lt.Kind == sqltypes.KindDate || rt.Kind == sqltypes.KindTimestamp {
		if (name == "+" || name == "-") && (lt.Kind == sqltypes.KindTimestamp || lt.Kind == sqltypes.KindDate) {
			if rt.Kind == sqltypes.KindInterval || rt.Kind == sqltypes.KindUnknown {
				ts, err := b.coerce(l, sqltypes.Timestamp, false)
				if err != nil {
					return nil, err
				}
				iv, err := b.coerce(r, sqltypes.IntervalT, false)
				if err != nil {
					return nil, err
				}
				return &plan.Func{Name: name, Args: []plan.Expr{ts, iv}, T: sqltypes.Timestamp}, nil
			}
			if name == "-" && (rt.Kind == sqltypes.KindTimestamp || rt.Kind == sqltypes.KindDate) {
				a, _ := b.coerce(l, sqltypes.Timestamp, false)
				c, _ := b.coerce(r, sqltypes.Timestamp, false)
				return &plan.Func{Name: name, Args: []plan.Expr{a, c}, T: sqltypes.IntervalT}, nil
			}
		}
		if name == "+" && lt.Kind == sqltypes.KindInterval && rt.Kind == sqltypes.KindTimestamp {
			return b.arith(name, r, l)
		}
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", lt, name, rt)
	}
	if lt.Kind == sqltypes.KindUnknown && rt.Kind == sqltypes.KindUnknown {
		return nil, sqlerr.New(sqlerr.AmbiguousFunction, "operator is not unique: unknown %s unknown", name)
	}
	t, ok := commonType(lt, rt)
	if !ok || !t.IsNumeric() {
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", lt, name, rt)
	}
	return b.castAll(name, []plan.Expr{l, r}, t, t)
}

// same casts all args to their common type; result is res, or the common
// type when sameResult.
func (b *binder) same(name string, args []plan.Expr, res sqltypes.Type, sameResult bool) (plan.Expr, error) {
	t := sqltypes.Unknown
	for _, a := range args {
		nt, ok := commonType(t, a.Type())
		if !ok {
			if name == "in" || name == "coalesce" {
				return nil, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", name, t, a.Type())
			}
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", t, opName(name), a.Type())
		}
		t = nt
	}
	if t.Kind == sqltypes.KindUnknown {
		t = sqltypes.Text
	}
	if sameResult {
		res = t
	}
	return b.castAll(name, args, t, res)
}

func opName(name string) string {
	switch name {
	case "is_distinct_from":
		return "IS DISTINCT FROM"
	case "is_not_distinct_from":
		return "IS NOT DISTINCT FROM"
	}
	return name
}

func (b *binder) castAll(name string, args []plan.Expr, t, res sqltypes.Type) (plan.Expr, error) {
	out := make([]plan.Expr, len(args))
	for i, a := range args {
		c, err := b.coerce(a, t, false)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return &plan.Func{Name: name, Args: out, T: res}, nil
}

// texts casts args to text; strict refuses non-text, non-unknown args as
// PostgreSQL does for most string functions (concat and || accept any).
func (b *binder) texts(name string, args []plan.Expr, strict bool) error {
	for i, a := range args {
		k := a.Type().Kind
		if strict && k != sqltypes.KindText && k != sqltypes.KindUnknown {
			return typeErr(name, a.Type())
		}
		t := sqltypes.Text
		if k == sqltypes.KindText {
			t = a.Type()
		}
		c, err := b.coerce(a, t, true)
		if err != nil {
			return err
		}
		if c.Type().Kind == sqltypes.KindText && c.Type().Width > 0 {
			c = &plan.Cast{Arg: c, T: sqltypes.Text, Explicit: true}
		}
		args[i] = c
	}
	return nil
}

func (b *binder) numeric(name string, a plan.Expr, unknownAs sqltypes.Type) (plan.Expr, error) {
	if a.Type().Kind == sqltypes.KindUnknown {
		return b.coerce(a, unknownAs, false)
	}
	if !a.Type().IsNumeric() {
		return nil, typeErr(name, a.Type())
	}
	return a, nil
}

func (b *binder) coerceNum(name string, a plan.Expr, t sqltypes.Type) (plan.Expr, error) {
	if k := a.Type().Kind; k != sqltypes.KindUnknown && !a.Type().IsNumeric() {
		return nil, typeErr(name, a.Type())
	}
	return b.coerce(a, t, false)
}

func (b *binder) integer(name string, a plan.Expr) (plan.Expr, error) {
	if k := a.Type().Kind; k != sqltypes.KindUnknown && !a.Type().IsInteger() {
		return nil, typeErr(name, a.Type())
	}
	return b.coerce(a, sqltypes.Int64, false)
}
