package planner

import (
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

// windowScope is the event-time window a SELECT groups by: GROUP BY
// TUMBLE(ts, size) or HOP(ts, slide, size) puts a plan.Window under the
// Aggregate, and TUMBLE_START/_END, HOP_START/_END with the same
// arguments name its window_start and window_end columns.
type windowScope struct {
	kind        plan.WindowKind
	time        string // the bound time argument, printed
	size, slide time.Duration
	start, end  int // the window columns in the aggregate's input scope
}

// windowCall reports whether n is TUMBLE(...) or HOP(...).
func windowCall(n ast.ExprNode) (*ast.FuncCallExpr, bool) {
	f, ok := n.(*ast.FuncCallExpr)
	if !ok {
		return nil, false
	}
	return f, f.FnName.L == "tumble" || f.FnName.L == "hop"
}

// bindWindowArgs binds the arguments of TUMBLE(ts, size), HOP(ts, slide,
// size) and of their _START and _END functions.
func (b *binder) bindWindowArgs(sc *scope, f *ast.FuncCallExpr, kind plan.WindowKind) (plan.Expr, time.Duration, time.Duration, error) {
	name := f.FnName.O
	want := 2
	if kind == plan.WindowHop {
		want = 3
	}
	if len(f.Args) != want {
		return nil, 0, 0, sqlerr.New(sqlerr.UndefinedFunction, "function %s takes %d arguments (time column and interval%s)", name, want, map[bool]string{true: "s slide, size", false: ""}[want == 3])
	}
	saved := b.agg
	b.agg = nil
	defer func() { b.agg = saved }()
	t, err := b.bindExpr(sc, f.Args[0])
	if err != nil {
		return nil, 0, 0, err
	}
	if t.Type().Kind != sqltypes.KindTimestamp {
		return nil, 0, 0, sqlerr.New(sqlerr.DatatypeMismatch, "the first argument of %s must be a timestamp, not %s", name, t.Type())
	}
	var durs []time.Duration
	for _, a := range f.Args[1:] {
		e, err := b.bindExpr(sc, a)
		if err != nil {
			return nil, 0, 0, err
		}
		e, err = b.coerce(e, sqltypes.IntervalT, true)
		if err != nil {
			return nil, 0, 0, err
		}
		lit, ok := e.(*plan.Literal)
		if !ok || lit.Value == nil {
			return nil, 0, 0, sqlerr.New(sqlerr.FeatureNotSupported, "the window sizes of %s must be constant intervals, such as INTERVAL '1 minute'", name)
		}
		iv := lit.Value.(sqltypes.Interval)
		d := time.Duration(iv.Days)*24*time.Hour + time.Duration(iv.Micros)*time.Microsecond
		if iv.Months != 0 || d <= 0 {
			return nil, 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "window intervals of %s must be positive and without months or years", name)
		}
		durs = append(durs, d)
	}
	if kind == plan.WindowHop {
		slide, size := durs[0], durs[1]
		if slide > size {
			return nil, 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "HOP slide %s is larger than its size %s: rows would fall between windows", plan.FormatDuration(slide), plan.FormatDuration(size))
		}
		return t, size, slide, nil
	}
	return t, durs[0], durs[0], nil
}

// bindGroupWindow binds GROUP BY TUMBLE/HOP: it puts a Window node over
// input and returns it with the scope extended by the window columns.
func (b *binder) bindGroupWindow(input plan.Node, sc *scope, f *ast.FuncCallExpr) (plan.Node, *scope, error) {
	if b.window != nil {
		return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "GROUP BY may name one window")
	}
	kind := plan.WindowTumble
	if f.FnName.L == "hop" {
		kind = plan.WindowHop
	}
	t, size, slide, err := b.bindWindowArgs(sc, f, kind)
	if err != nil {
		return nil, nil, err
	}
	w := plan.NewWindow(input, kind, t, size, slide)
	ext := &scope{cols: append(append([]scopeCol{}, sc.cols...),
		scopeCol{name: "$window_start", t: sqltypes.Timestamp},
		scopeCol{name: "$window_end", t: sqltypes.Timestamp})}
	b.window = &windowScope{kind: kind, time: t.String(), size: size, slide: slide, start: len(sc.cols), end: len(sc.cols) + 1}
	return w, ext, nil
}

// bindWindowFunc binds TUMBLE_START, TUMBLE_END, HOP_START and HOP_END
// (and refuses TUMBLE and HOP outside GROUP BY).
func (b *binder) bindWindowFunc(sc *scope, f *ast.FuncCallExpr) (plan.Expr, error) {
	name := f.FnName.L
	switch name {
	case "tumble", "hop":
		return nil, sqlerr.New(sqlerr.GroupingError, "%s(...) may appear only in GROUP BY; select TUMBLE_START/TUMBLE_END or HOP_START/HOP_END", f.FnName.O)
	}
	kind := plan.WindowTumble
	if name == "hop_start" || name == "hop_end" {
		kind = plan.WindowHop
	}
	w := b.window
	if w == nil {
		return nil, sqlerr.New(sqlerr.GroupingError, "%s(...) needs GROUP BY %s(...) with the same arguments", f.FnName.O, kind)
	}
	t, size, slide, err := b.bindWindowArgs(sc, f, kind)
	if err != nil {
		return nil, err
	}
	if kind != w.kind || t.String() != w.time || size != w.size || slide != w.slide {
		return nil, sqlerr.New(sqlerr.GroupingError, "%s(...) must have the same arguments as the GROUP BY window", f.FnName.O)
	}
	if name == "tumble_start" || name == "hop_start" {
		return &plan.ColumnRef{Index: w.start, Name: "window_start", T: sqltypes.Timestamp}, nil
	}
	return &plan.ColumnRef{Index: w.end, Name: "window_end", T: sqltypes.Timestamp}, nil
}
