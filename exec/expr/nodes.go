package expr

import (
	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// This file holds the leaf nodes and funcNode, the node of every strict
// function (NULL in, NULL out): operators, casts, string and math
// functions. Their work is done by kernels.

var (
	_ node = (*constNode)(nil)
	_ node = (*paramNode)(nil)
	_ node = (*colNode)(nil)
	_ node = (*funcNode)(nil)
)

// constNode is a literal.
type constNode struct {
	v any // normalized
}

func (n *constNode) eval(*state, *batch) (vec, error) { return constVec(n.v), nil }

func (n *constNode) fallible() bool { return false }

// paramNode is a statement parameter.
type paramNode struct {
	index int
	t     sqltypes.Type
}

func (n *paramNode) eval(st *state, _ *batch) (vec, error) {
	if n.index >= len(st.params) {
		return vec{}, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", n.index+1)
	}
	v, err := normalize(n.t, st.params[n.index])
	if err != nil {
		return vec{}, sqlerr.New(sqlerr.Code(err), "parameter $%d: %w", n.index+1, err)
	}
	return constVec(v), nil
}

func (n *paramNode) fallible() bool { return false }

// colNode reads a column of the input.
type colNode struct {
	index int
}

func (n *colNode) eval(st *state, b *batch) (vec, error) {
	arr, err := b.column(st, n.index)
	if err != nil {
		return vec{}, err
	}
	arr.Retain()
	return vec{arr: arr}, nil
}

func (n *colNode) fallible() bool { return false }

// call is one invocation of a kernel: n rows, the evaluated arguments and
// their types, the result type. At least one argument is an array and no
// argument is a NULL constant.
type call struct {
	st    *state
	n     int
	args  []vec
	types []sqltypes.Type
	out   sqltypes.Type
}

// kernel computes a strict function over the n rows of a call and returns
// an array of n values of type c.out. The result of a row where any
// argument is NULL must be NULL, and such a row must never raise an error.
type kernel func(c *call) (arrow.Array, error)

// funcNode applies a strict kernel to its arguments. A NULL constant
// argument makes the result a NULL constant; all-constant arguments give a
// constant, computed by running the kernel over one row.
type funcNode struct {
	name  string
	args  []node
	types []sqltypes.Type
	t     sqltypes.Type
	kern  kernel
	fails bool // the kernel may fail on some values
}

func newFunc(name string, args []node, types []sqltypes.Type, t sqltypes.Type, kern kernel, fails bool) *funcNode {
	return &funcNode{name: name, args: args, types: types, t: t, kern: kern, fails: fails}
}

func (f *funcNode) fallible() bool {
	if f.fails {
		return true
	}
	for _, a := range f.args {
		if a.fallible() {
			return true
		}
	}
	return false
}

func (f *funcNode) eval(st *state, b *batch) (vec, error) {
	vals, err := evalAll(st, f.args, b)
	if err != nil {
		return vec{}, err
	}
	defer releaseAll(vals)
	allConst := true
	for _, v := range vals {
		if v.isNull() {
			return constVec(nil), nil
		}
		if v.arr != nil {
			allConst = false
		}
	}
	if allConst {
		return f.evalConst(st, vals)
	}
	arr, err := f.kern(&call{st: st, n: b.n, args: vals, types: f.types, out: f.t})
	if err != nil {
		return vec{}, err
	}
	return vec{arr: arr}, nil
}

// evalConst runs the kernel over one row made of the constant arguments.
func (f *funcNode) evalConst(st *state, vals []vec) (vec, error) {
	one := make([]vec, len(vals))
	defer releaseAll(one)
	for i, v := range vals {
		arr, err := ScalarToArray(st.mem, f.types[i], v.c, 1)
		if err != nil {
			return vec{}, err
		}
		one[i] = vec{arr: arr}
	}
	arr, err := f.kern(&call{st: st, n: 1, args: one, types: f.types, out: f.t})
	if err != nil {
		return vec{}, err
	}
	defer arr.Release()
	return constVec(ValueAt(arr, 0)), nil
}

// evalAll evaluates nodes over b. On error nothing is left to release.
func evalAll(st *state, nodes []node, b *batch) ([]vec, error) {
	vals := make([]vec, len(nodes))
	for i, a := range nodes {
		v, err := a.eval(st, b)
		if err != nil {
			releaseAll(vals[:i])
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}
