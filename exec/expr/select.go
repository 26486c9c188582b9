package expr

import (
	"cmp"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// cmpNode is a comparison. Besides evaluating to a boolean array (through
// its funcNode) it selects rows directly: "column op constant" is one
// branch-free loop writing row indexes, with no boolean array between.
type cmpNode struct {
	*funcNode
	op cmpOp
	t  sqltypes.Type
}

var (
	_ node     = (*cmpNode)(nil)
	_ selecter = (*cmpNode)(nil)
)

// selectRows implements selecter.
func (n *cmpNode) selectRows(st *state, b *batch, dst []int32) ([]int32, error) {
	vals, err := evalAll(st, n.args, b)
	if err != nil {
		return dst, err
	}
	defer releaseAll(vals)
	x, y, op := vals[0], vals[1], n.op
	if x.isNull() || y.isNull() {
		return dst, nil
	}
	if x.isConst() && !y.isConst() {
		x, y, op = y, x, op.flip()
	}
	if x.arr != nil && y.isConst() {
		if sel, ok := selectConst(op, n.t, x.arr, y.c, dst); ok {
			return sel, nil
		}
	}
	var v vec
	if x.isConst() {
		v, err = n.evalConst(st, vals)
	} else {
		var arr arrow.Array
		arr, err = n.kern(&call{st: st, n: b.n, args: vals, types: n.types, out: n.t})
		v = vec{arr: arr}
	}
	if err != nil {
		return dst, err
	}
	defer v.release()
	return selectVec(v, b.n, dst), nil
}

// selectConst appends the rows where arr op c holds, when there is a
// direct loop for the type.
func selectConst(op cmpOp, t sqltypes.Type, arr arrow.Array, c any, dst []int32) ([]int32, bool) {
	start := len(dst)
	switch t.Kind {
	case sqltypes.KindInt16:
		dst = selOrdered(op, values[int16](arr), physValue(t, c).(int16), dst)
	case sqltypes.KindInt32, sqltypes.KindDate:
		dst = selOrdered(op, values[int32](arr), physValue(t, c).(int32), dst)
	case sqltypes.KindInt64, sqltypes.KindTimestamp:
		dst = selOrdered(op, values[int64](arr), physValue(t, c).(int64), dst)
	case sqltypes.KindText:
		dst = selText(op, arr.(*array.String), c.(string), dst)
	default:
		return dst, false
	}
	if arr.NullN() > 0 {
		valid := validityOf(arr)
		out := dst[:start]
		for _, r := range dst[start:] {
			if valid.get(int(r)) {
				out = append(out, r)
			}
		}
		dst = out
	}
	return dst, true
}

// selOrdered appends the positions i where v[i] op c, without branches.
func selOrdered[T cmp.Ordered](op cmpOp, v []T, c T, dst []int32) []int32 {
	start := len(dst)
	dst = slices.Grow(dst, len(v))[:start+len(v)]
	out := dst[start:]
	k := 0
	switch op {
	case opEQ:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x == c))
		}
	case opNE:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x != c))
		}
	case opLT:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x < c))
		}
	case opLE:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x <= c))
		}
	case opGT:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x > c))
		}
	case opGE:
		for i, x := range v {
			out[k] = int32(i)
			k += int(b2u8(x >= c))
		}
	}
	return dst[:start+k]
}

// selText compares each string of a with c, bytewise.
func selText(op cmpOp, a *array.String, c string, dst []int32) []int32 {
	n := a.Len()
	for i := 0; i < n; i++ {
		if cmpResult(op, cmp.Compare(a.Value(i), c)) {
			dst = append(dst, int32(i))
		}
	}
	return dst
}
