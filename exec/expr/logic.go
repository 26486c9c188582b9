package expr

import (
	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Boolean logic works on whole bitmaps a byte at a time.

// alignedBits returns the first n bits of m starting at bit 0 of the
// returned slice (copying when m's offset is not a whole byte), or nil
// when m is nil (all ones).
func alignedBits(m bitmap, n int) []byte {
	if m.b == nil {
		return nil
	}
	if m.off&7 == 0 {
		return m.b[m.off>>3:]
	}
	out := make([]byte, bitutil.BytesForBits(int64(n)))
	bitutil.CopyBitmap(m.b, m.off, n, out, 0)
	return out
}

// byteAt reads byte k of aligned bits, 0xff for nil.
func byteAt(b []byte, k int) byte {
	if b == nil {
		return 0xff
	}
	return b[k]
}

// boolArray builds a Boolean array of n rows from value bytes and validity
// bytes (nil validity: no NULLs). Both are copied.
func boolArray(st *state, n int, val, valid []byte) arrow.Array {
	nb := int(bitutil.BytesForBits(int64(n)))
	buf, out := allocBits(st.mem, n)
	copy(out, val[:nb])
	if valid == nil {
		return newArray(arrow.FixedWidthTypes.Boolean, n, nil, 0, buf)
	}
	vbuf, vout := allocBits(st.mem, n)
	copy(vout, valid[:nb])
	if n&7 != 0 {
		vout[nb-1] &= byte(1)<<(n&7) - 1
	}
	vbuf, nulls := validityFromBits(vbuf, n)
	return newArray(arrow.FixedWidthTypes.Boolean, n, vbuf, nulls, buf)
}

var (
	_ node     = (*logicNode)(nil)
	_ selecter = (*logicNode)(nil)
	_ node     = (*isNullNode)(nil)
	_ node     = (*boolTestNode)(nil)
	_ node     = (*distinctNode)(nil)
)

// logicNode is AND (or OR, with or set) over two or more arguments, with
// SQL's three-valued logic: AND is false if any argument is false, else
// NULL if any is NULL, else true; OR is the dual. Arguments after the
// first are evaluated only over the rows still undecided, so
// "x <> 0 AND 10 / x > 1" does not divide by zero.
type logicNode struct {
	or   bool
	args []node
}

func (n *logicNode) fallible() bool {
	for _, a := range n.args {
		if a.fallible() {
			return true
		}
	}
	return false
}

func (n *logicNode) eval(st *state, b *batch) (vec, error) {
	rows := b.n
	nb := int(bitutil.BytesForBits(int64(rows)))
	// decided marks rows whose result is known: false for AND, true for
	// OR. null marks rows where some argument was NULL.
	decided := make([]byte, nb)
	null := make([]byte, nb)
	allConst := true
	for k, a := range n.args {
		var which []int32
		if k > 0 {
			which = clearRows(decided, rows)
			if len(which) == 0 {
				break
			}
			if len(which) == rows {
				which = nil
			}
		}
		v, pos, err := evalRows(st, a, b, which)
		if err != nil {
			return vec{}, err
		}
		if v.arr != nil {
			allConst = false
		}
		n.fold(v, which, pos, rows, decided, null)
		v.release()
	}
	if allConst {
		// every row saw the same constants
		d, nu := decided[0]&1 != 0, null[0]&1 != 0
		switch {
		case d:
			return constVec(n.or), nil
		case nu:
			return constVec(nil), nil
		}
		return constVec(!n.or), nil
	}
	val := make([]byte, nb)
	valid := make([]byte, nb)
	for k := range val {
		valid[k] = decided[k] | ^null[k]
		if n.or {
			val[k] = decided[k]
		} else {
			val[k] = ^decided[k] & ^null[k]
		}
	}
	return vec{arr: boolArray(st, rows, val, valid)}, nil
}

// fold records one argument's values for the rows which (all rows when
// nil); the value of which[j] is at pos[j] (j when pos is nil).
func (n *logicNode) fold(v vec, which, pos []int32, rows int, decided, null []byte) {
	if v.arr == nil {
		var d, nu bool
		if v.c == nil {
			nu = true
		} else {
			d = v.c.(bool) == n.or
		}
		if !d && !nu {
			return
		}
		set := func(r int) {
			if d {
				decided[r>>3] |= 1 << (r & 7)
			} else {
				null[r>>3] |= 1 << (r & 7)
			}
		}
		if which == nil {
			for r := 0; r < rows; r++ {
				set(r)
			}
		}
		for _, r := range which {
			set(int(r))
		}
		return
	}
	valm, validm := boolValues(v.arr), validityOf(v.arr)
	if which == nil && pos == nil {
		val, valid := alignedBits(valm, rows), alignedBits(validm, rows)
		for k := range decided {
			vd, vv := byteAt(valid, k), val[k]
			if !n.or {
				vv = ^vv
			}
			decided[k] |= vd & vv
			null[k] |= ^vd
		}
		return
	}
	for j, r := range which {
		p := j
		if pos != nil {
			p = int(pos[j])
		}
		switch {
		case !validm.get(p):
			null[r>>3] |= 1 << (r & 7)
		case valm.get(p) == n.or:
			decided[r>>3] |= 1 << (r & 7)
		}
	}
}

// clearRows returns the positions of the clear bits among the first n.
func clearRows(bits []byte, n int) []int32 {
	var out []int32
	for i := 0; i < n; i++ {
		if bits[i>>3]&(1<<(i&7)) == 0 {
			out = append(out, int32(i))
		}
	}
	return out
}

// selectRows implements selecter for AND: each conjunct narrows the rows
// the next one is evaluated over.
func (n *logicNode) selectRows(st *state, b *batch, dst []int32) ([]int32, error) {
	if n.or {
		v, err := n.eval(st, b)
		if err != nil {
			return dst, err
		}
		defer v.release()
		return selectVec(v, b.n, dst), nil
	}
	start := len(dst)
	dst, err := selectRows(st, n.args[0], b, dst)
	if err != nil {
		return dst, err
	}
	for _, a := range n.args[1:] {
		cur := dst[start:]
		switch {
		case len(cur) == 0:
			return dst, nil
		case len(cur) == b.n:
			// every row so far: evaluate over the whole batch
			dst, err = selectRows(st, a, b, dst[:start])
		case !a.fallible() && 2*len(cur) >= b.n:
			var all []int32
			all, err = selectRows(st, a, b, nil)
			dst = dst[:start+len(intersectSorted(cur, all))]
		default:
			sub := b.sub(cur)
			var local []int32
			local, err = selectRows(st, a, sub, nil)
			sub.release()
			for j, l := range local {
				cur[j] = cur[l] // l >= j: compaction in place is safe
			}
			dst = dst[:start+len(local)]
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// intersectSorted keeps the elements of a that are also in b, in place.
func intersectSorted(a, b []int32) []int32 {
	out := a[:0]
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			out = append(out, x)
		}
	}
	return out
}

// notKernel is NOT: the value bits inverted, the validity kept.
func notKernel(c *call) (arrow.Array, error) {
	a := c.args[0].arr
	vbuf, nulls := argValidity(c)
	val := alignedBits(boolValues(a), c.n)
	buf, out := allocBits(c.st.mem, c.n)
	for k := range out {
		out[k] = ^val[k]
	}
	return newArray(arrow.FixedWidthTypes.Boolean, c.n, vbuf, nulls, buf), nil
}

// isNullNode is IS NULL (IS NOT NULL with not set); never NULL.
type isNullNode struct {
	arg node
	not bool
}

func (n *isNullNode) fallible() bool { return n.arg.fallible() }

func (n *isNullNode) eval(st *state, b *batch) (vec, error) {
	v, err := n.arg.eval(st, b)
	if err != nil {
		return vec{}, err
	}
	defer v.release()
	if v.arr == nil {
		return constVec((v.c == nil) != n.not), nil
	}
	valid := alignedBits(validityOf(v.arr), b.n)
	val := make([]byte, bitutil.BytesForBits(int64(b.n)))
	for k := range val {
		x := byteAt(valid, k)
		if !n.not {
			x = ^x
		}
		val[k] = x
	}
	return vec{arr: boolArray(st, b.n, val, nil)}, nil
}

// boolTestNode is IS [NOT] TRUE / IS [NOT] FALSE; never NULL.
type boolTestNode struct {
	arg   node
	truth bool // IS TRUE / IS NOT TRUE test for true, the others for false
	not   bool
}

func (n *boolTestNode) fallible() bool { return n.arg.fallible() }

func (n *boolTestNode) eval(st *state, b *batch) (vec, error) {
	v, err := n.arg.eval(st, b)
	if err != nil {
		return vec{}, err
	}
	defer v.release()
	if v.arr == nil {
		is := v.c != nil && v.c.(bool) == n.truth
		return constVec(is != n.not), nil
	}
	valm := alignedBits(boolValues(v.arr), b.n)
	valid := alignedBits(validityOf(v.arr), b.n)
	out := make([]byte, bitutil.BytesForBits(int64(b.n)))
	for k := range out {
		x := valm[k]
		if !n.truth {
			x = ^x
		}
		x &= byteAt(valid, k)
		if n.not {
			x = ^x
		}
		out[k] = x
	}
	return vec{arr: boolArray(st, b.n, out, nil)}, nil
}

// distinctNode is IS DISTINCT FROM (IS NOT DISTINCT FROM with not set):
// equality where NULL equals NULL; never NULL.
type distinctNode struct {
	a, b node
	t    sqltypes.Type
	not  bool
}

func (n *distinctNode) fallible() bool { return n.a.fallible() || n.b.fallible() }

func (n *distinctNode) eval(st *state, b *batch) (vec, error) {
	vals, err := evalAll(st, []node{n.a, n.b}, b)
	if err != nil {
		return vec{}, err
	}
	defer releaseAll(vals)
	x, y := vals[0], vals[1]
	if x.isConst() && y.isConst() {
		var same bool
		switch {
		case x.c == nil || y.c == nil:
			same = x.c == nil && y.c == nil
		default:
			var bit [1]byte
			cmpBits(opEQ, n.t, x, y, 1, bit[:])
			same = bit[0]&1 != 0
		}
		return constVec(same == n.not), nil
	}
	rows := b.n
	eq := make([]byte, bitutil.BytesForBits(int64(rows)))
	var vx, vy []byte
	switch {
	case x.isNull() || y.isNull():
		// eq stays all zero; only the validities matter
		vx, vy = constValidity(x, rows), constValidity(y, rows)
		if x.arr != nil {
			vx = alignedBits(validityOf(x.arr), rows)
		}
		if y.arr != nil {
			vy = alignedBits(validityOf(y.arr), rows)
		}
	default:
		cmpBits(opEQ, n.t, x, y, rows, eq)
		if x.arr != nil {
			vx = alignedBits(validityOf(x.arr), rows)
		}
		if y.arr != nil {
			vy = alignedBits(validityOf(y.arr), rows)
		}
	}
	out := make([]byte, len(eq))
	for k := range out {
		ax, ay := byteAt(vx, k), byteAt(vy, k)
		same := (ax & ay & eq[k]) | (^ax & ^ay)
		if !n.not {
			same = ^same
		}
		out[k] = same
	}
	return vec{arr: boolArray(st, rows, out, nil)}, nil
}

// constValidity is the validity bytes of a constant: all zero for NULL,
// nil (all ones) otherwise.
func constValidity(v vec, n int) []byte {
	if v.isNull() {
		return make([]byte, bitutil.BytesForBits(int64(n)))
	}
	return nil
}
