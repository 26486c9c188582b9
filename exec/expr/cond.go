package expr

import (
	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Conditional expressions: CASE and COALESCE evaluate each argument only
// over the rows that reach it (CASE WHEN x = 0 THEN 0 ELSE 10 / x END does
// not divide by zero), collect the pieces and gather them into one array.

// assembly collects the pieces of a conditional's result: for each row of
// the batch, which piece holds its value and where.
type assembly struct {
	st     *state
	t      sqltypes.Type
	rows   int
	pieces []arrow.Array
	which  []int32 // piece of each row, -1 for NULL
	pos    []int32 // position in the piece
	// whole is set when a single vec covers every row at its own position:
	// it is the result as is.
	whole *vec
}

func newAssembly(st *state, t sqltypes.Type, rows int) *assembly {
	return &assembly{st: st, t: t, rows: rows}
}

// add records v as the value of the rows target (all rows when nil); the
// value of target[j] is at p[j] of v (j when p is nil). It takes over v.
func (a *assembly) add(v vec, target, p []int32) error {
	if v.arr != nil && !arrow.TypeEqual(v.arr.DataType(), a.t.Arrow()) {
		defer v.release()
		return sqlerr.New(sqlerr.InternalError, "an arm of type %s does not fit a result of type %s", v.arr.DataType(), a.t)
	}
	if target == nil && p == nil && a.which == nil && a.whole == nil {
		a.whole = &v
		return nil
	}
	if err := a.spill(); err != nil {
		v.release()
		return err
	}
	piece := int32(-1)
	switch {
	case v.arr != nil:
		piece = int32(len(a.pieces))
		a.pieces = append(a.pieces, v.arr)
	case v.c != nil:
		arr, err := ScalarToArray(a.st.mem, a.t, v.c, 1)
		if err != nil {
			return err
		}
		piece = int32(len(a.pieces))
		a.pieces = append(a.pieces, arr)
	}
	at := func(j int) int32 {
		switch {
		case v.arr == nil:
			return 0
		case p != nil:
			return p[j]
		}
		return int32(j)
	}
	if target == nil {
		for r := 0; r < a.rows; r++ {
			a.which[r], a.pos[r] = piece, at(r)
		}
		return nil
	}
	for j, r := range target {
		a.which[r], a.pos[r] = piece, at(j)
	}
	return nil
}

// spill allocates the per-row maps, NULL everywhere, and turns a whole
// result into their first piece.
func (a *assembly) spill() error {
	if a.which != nil {
		return nil
	}
	a.which = make([]int32, a.rows)
	a.pos = make([]int32, a.rows)
	for i := range a.which {
		a.which[i] = -1
	}
	if w := a.whole; w != nil {
		a.whole = nil
		return a.add(*w, nil, allRows(a.rows))
	}
	return nil
}

// result returns the assembled vec; the assembly is spent.
func (a *assembly) result() (vec, error) {
	if a.whole != nil {
		return *a.whole, nil
	}
	if a.which == nil {
		return constVec(nil), nil
	}
	defer a.release()
	arr, err := gather(a.st.mem, a.t.Arrow(), a.pieces, a.which, a.pos)
	if err != nil {
		return vec{}, err
	}
	return vec{arr: arr}, nil
}

func (a *assembly) release() {
	for _, p := range a.pieces {
		p.Release()
	}
	a.pieces = nil
	if a.whole != nil {
		a.whole.release()
		a.whole = nil
	}
}

var (
	_ node = (*caseNode)(nil)
	_ node = (*coalesceNode)(nil)
	_ node = (*nullifNode)(nil)
	_ node = (*extremeNode)(nil)
)

// caseNode is the searched CASE.
type caseNode struct {
	whens []caseArm
	els   node
	t     sqltypes.Type
}

type caseArm struct {
	cond, then node
}

func (n *caseNode) fallible() bool {
	for _, w := range n.whens {
		if w.cond.fallible() || w.then.fallible() {
			return true
		}
	}
	return n.els.fallible()
}

func (n *caseNode) eval(st *state, b *batch) (vec, error) {
	asm := newAssembly(st, n.t, b.n)
	rem := []int32(nil) // rows still undecided, nil for all
	done := false
	for _, w := range n.whens {
		cv, cpos, err := evalRows(st, w.cond, b, rem)
		if err != nil {
			asm.release()
			return vec{}, err
		}
		yes, no := splitTrue(cv, rem, cpos, b.n)
		cv.release()
		if len(yes) > 0 || yes == nil {
			tv, tpos, err := evalRows(st, w.then, b, yes)
			if err == nil {
				err = asm.add(tv, yes, tpos)
			}
			if err != nil {
				asm.release()
				return vec{}, err
			}
		}
		if yes == nil || len(no) == 0 {
			done = true
			break
		}
		if len(no) == b.n {
			no = nil
		}
		rem = no
	}
	if !done {
		ev, epos, err := evalRows(st, n.els, b, rem)
		if err == nil {
			err = asm.add(ev, rem, epos)
		}
		if err != nil {
			asm.release()
			return vec{}, err
		}
	}
	return asm.result()
}

// splitTrue splits the rows rem (all rows when nil) by a boolean vec v
// over them (the value of rem[j] at pos[j], or j): yes gets the rows where
// v is true, no the others. yes is nil when every row is true; no is
// then empty.
func splitTrue(v vec, rem, pos []int32, n int) (yes, no []int32) {
	count := n
	if rem != nil {
		count = len(rem)
	}
	if v.arr == nil {
		if t, _ := v.c.(bool); t {
			if rem == nil {
				return nil, []int32{}
			}
			return rem, []int32{}
		}
		if rem == nil {
			rem = allRows(n)
		}
		return []int32{}, rem
	}
	val, valid := boolValues(v.arr), validityOf(v.arr)
	yes, no = make([]int32, 0, count), make([]int32, 0, count)
	for j := 0; j < count; j++ {
		r, p := j, j
		if rem != nil {
			r = int(rem[j])
		}
		if pos != nil {
			p = int(pos[j])
		}
		if val.get(p) && valid.get(p) {
			yes = append(yes, int32(r))
		} else {
			no = append(no, int32(r))
		}
	}
	if len(yes) == n {
		return nil, no
	}
	return yes, no
}

func allRows(n int) []int32 {
	rows := make([]int32, n)
	for i := range rows {
		rows[i] = int32(i)
	}
	return rows
}

// coalesceNode is COALESCE: the first non-NULL argument, each evaluated
// only over the rows still NULL.
type coalesceNode struct {
	args []node
	t    sqltypes.Type
}

func (n *coalesceNode) fallible() bool {
	for _, a := range n.args {
		if a.fallible() {
			return true
		}
	}
	return false
}

func (n *coalesceNode) eval(st *state, b *batch) (vec, error) {
	asm := newAssembly(st, n.t, b.n)
	rem := []int32(nil)
	for k, a := range n.args {
		v, vpos, err := evalRows(st, a, b, rem)
		if err != nil {
			asm.release()
			return vec{}, err
		}
		last := k == len(n.args)-1
		switch {
		case v.isNull():
			if last {
				err = asm.add(v, rem, nil)
			}
		case v.arr == nil || last:
			err = asm.add(v, rem, vpos)
			rem = []int32{}
		default:
			var nonNull, null []int32
			nonNull, null, vpos = splitValid(v.arr, rem, vpos, b.n)
			if nonNull == nil {
				err = asm.add(v, rem, vpos)
				rem = []int32{}
				break
			}
			err = asm.add(v, nonNull, vpos)
			rem = null
		}
		if err != nil {
			asm.release()
			return vec{}, err
		}
		if rem != nil && len(rem) == 0 {
			break
		}
	}
	return asm.result()
}

// splitValid splits the rows rem (nil for all) of an array over them by
// validity. It returns the non-NULL rows with the positions of their
// values, and the NULL rows. nonNull is nil when no row is NULL; pos is
// then returned unchanged.
func splitValid(arr arrow.Array, rem, pos []int32, n int) (nonNull, null, nonNullPos []int32) {
	valid := validityOf(arr)
	if valid.b == nil {
		return nil, []int32{}, pos
	}
	count := n
	if rem != nil {
		count = len(rem)
	}
	nonNull, null = make([]int32, 0, count), make([]int32, 0, count)
	nonNullPos = make([]int32, 0, count)
	for j := 0; j < count; j++ {
		r, p := j, j
		if rem != nil {
			r = int(rem[j])
		}
		if pos != nil {
			p = int(pos[j])
		}
		if valid.get(p) {
			nonNull = append(nonNull, int32(r))
			nonNullPos = append(nonNullPos, int32(p))
		} else {
			null = append(null, int32(r))
		}
	}
	return nonNull, null, nonNullPos
}

// nullifNode is NULLIF(a, b): NULL where a = b, else a.
type nullifNode struct {
	a, b node
	t    sqltypes.Type
}

func (n *nullifNode) fallible() bool { return n.a.fallible() || n.b.fallible() }

func (n *nullifNode) eval(st *state, b *batch) (vec, error) {
	vals, err := evalAll(st, []node{n.a, n.b}, b)
	if err != nil {
		return vec{}, err
	}
	x, y := vals[0], vals[1]
	if x.isNull() || y.isNull() {
		y.release()
		return x, nil
	}
	defer releaseAll(vals)
	rows := b.n
	if x.isConst() && y.isConst() {
		rows = 1
	}
	eq := make([]byte, (rows+7)/8)
	cmpBits(opEQ, n.t, x, y, rows, eq)
	xv, yv := validityOf(x.arr), validityOf(y.arr)
	if x.isConst() && y.isConst() {
		if eq[0]&1 != 0 {
			return constVec(nil), nil
		}
		return constVec(x.c), nil
	}
	xa, err := st.materialize(x, n.t, rows)
	if err != nil {
		return vec{}, err
	}
	defer xa.Release()
	which, pos := make([]int32, rows), make([]int32, rows)
	for r := range which {
		pos[r] = int32(r)
		if xv.get(r) && yv.get(r) && eq[r>>3]&(1<<(r&7)) != 0 {
			which[r] = -1
		}
	}
	arr, err := gather(st.mem, n.t.Arrow(), []arrow.Array{xa}, which, pos)
	if err != nil {
		return vec{}, err
	}
	return vec{arr: arr}, nil
}

// extremeNode is GREATEST (LEAST with least set): NULL arguments are
// ignored; the result is NULL only when all are.
type extremeNode struct {
	args  []node
	t     sqltypes.Type
	least bool
}

func (n *extremeNode) fallible() bool {
	for _, a := range n.args {
		if a.fallible() {
			return true
		}
	}
	return false
}

func (n *extremeNode) eval(st *state, b *batch) (vec, error) {
	vals, err := evalAll(st, n.args, b)
	if err != nil {
		return vec{}, err
	}
	defer releaseAll(vals)
	rows, allConst := b.n, true
	var live []vec
	for _, v := range vals {
		if !v.isNull() {
			live = append(live, v)
			if v.arr != nil {
				allConst = false
			}
		}
	}
	if len(live) == 0 {
		return constVec(nil), nil
	}
	if allConst {
		rows = 1
	}
	arrs := make([]arrow.Array, len(live))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for k, v := range live {
		if arrs[k], err = st.materialize(v, n.t, rows); err != nil {
			return vec{}, err
		}
	}
	// fold left to right: which[r] is the winning argument of row r so far
	which, pos := make([]int32, rows), make([]int32, rows)
	first := validityOf(arrs[0])
	for r := range which {
		pos[r] = int32(r)
		if !first.get(r) {
			which[r] = -1
		}
	}
	for k := 1; k < len(arrs); k++ {
		valid := validityOf(arrs[k])
		cmps := make([]func(i, j int) int, k)
		for r := range which {
			if !valid.get(r) {
				continue
			}
			w := which[r]
			if w < 0 {
				which[r] = int32(k)
				continue
			}
			if cmps[w] == nil {
				cmps[w] = compareAt(n.t, arrs[k], arrs[w])
			}
			c := cmps[w](r, r)
			if (c > 0 && !n.least) || (c < 0 && n.least) {
				which[r] = int32(k)
			}
		}
	}
	arr, err := gather(st.mem, n.t.Arrow(), arrs, which, pos)
	if err != nil {
		return vec{}, err
	}
	if allConst {
		defer arr.Release()
		return constVec(ValueAt(arr, 0)), nil
	}
	return vec{arr: arr}, nil
}
