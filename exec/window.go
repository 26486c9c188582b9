package exec

import (
	"context"
	"math"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// windowOp assigns event-time windows (plan.Window): its output is the
// input's columns followed by window_start and window_end, TIMESTAMPs in
// microseconds since the Unix epoch. Windows are aligned to the epoch,
// with floor division for times before it: the tumbling window of size d
// holding t starts at t - ((t mod d) + d) mod d.
//
// Everything is computed a whole record at a time over the time values as
// an []int64; no row goes through an interface call.
//
// Tumble gives every row exactly one window. When no time is NULL the
// input's arrays are passed on unchanged (retained, not copied) next to
// the two new columns; otherwise the rows with a time are gathered with
// take. A record whose times are all NULL produces nothing.
//
// Hop gives a row at time t every window [k*slide, k*slide+size) holding
// it: with r = t mod slide and last = t - r (the latest window start at
// or before t) they are the ceil((size-r)/slide) windows starting at
// last, last-slide, ..., which is size/slide windows for every row when
// slide divides size. Then, if every row of a record has a time, the
// record goes out size/slide times, its arrays retained, not copied, each
// time with the next window of every row (the earliest first: hopEvery).
// Otherwise each row's windows are emitted in order of window start, by
// gathering the row once per window. Because the output can be many times
// larger than the input, one input record is expanded over as many Next
// calls as it takes to stay within maxBatchRows rows per record.
type windowOp struct {
	input  Operator
	time   *expr.Program
	hop    bool
	size   int64 // microseconds
	slide  int64 // microseconds; equals size for tumble
	lo, hi int64 // the times whose windows are representable
	schema *arrow.Schema
	tsType arrow.DataType
	mem    memory.Allocator
	eenv   *expr.Env

	// The input record a hop is expanding, its times, and the position
	// reached: the next row and how many of its windows were emitted.
	cur    arrow.Record
	times  arrow.Array
	tvals  []int64
	tvalid []bool
	row    int
	done   int64

	sel      []int32 // tumble: rows with a time; hop: the row of each output row
	starts   []int64 // hop: the window start of each output row
	tscratch []int64
	vscratch []bool
	out      outRecord
}

var _ Operator = (*windowOp)(nil)

// windowBounds returns the size and slide of n in microseconds, checking
// them: both positive (22023), slide at most size (22023: hopping windows
// with gaps are not windows of every row), whole microseconds (22023).
func windowBounds(n *plan.Window) (size, slide int64, err error) {
	sz, sl := n.Size, n.Slide
	if n.Kind == plan.WindowTumble {
		sl = sz
	}
	switch {
	case sz <= 0:
		return 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "window size must be positive, not %s", sz)
	case sl <= 0:
		return 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "window slide must be positive, not %s", sl)
	case sl > sz:
		return 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "window slide %s must not exceed window size %s", sl, sz)
	case sz%time.Microsecond != 0 || sl%time.Microsecond != 0:
		return 0, 0, sqlerr.New(sqlerr.InvalidParameterValue, "window size and slide must be whole microseconds, not %s and %s", sz, sl)
	}
	return int64(sz / time.Microsecond), int64(sl / time.Microsecond), nil
}

// newWindowOp checks n and returns its operator over input; on error the
// caller closes input.
func newWindowOp(input Operator, n *plan.Window, mem memory.Allocator, eenv *expr.Env) (*windowOp, error) {
	size, slide, err := windowBounds(n)
	if err != nil {
		return nil, err
	}
	if n.Time == nil {
		return nil, internalf("window has no time expression")
	}
	prog, err := expr.Compile(n.Time)
	if err != nil {
		return nil, err
	}
	if k := prog.Type().Kind; k != sqltypes.KindTimestamp {
		return nil, sqlerr.New(sqlerr.DatatypeMismatch, "window time must be type timestamp, not %s", prog.Type())
	}
	in := len(n.Input.Columns())
	if len(n.Cols) != in+2 || n.Cols[in].Type.Kind != sqltypes.KindTimestamp || n.Cols[in+1].Type.Kind != sqltypes.KindTimestamp {
		return nil, internalf("window over %d columns has columns %v", in, n.Cols)
	}
	schema := schemaOf(n.Cols)
	return &windowOp{
		input:  input,
		time:   prog,
		hop:    n.Kind == plan.WindowHop,
		size:   size,
		slide:  slide,
		lo:     math.MinInt64 + size,
		hi:     math.MaxInt64 - size,
		schema: schema,
		tsType: schema.Field(in).Type,
		mem:    mem,
		eenv:   eenv,
	}, nil
}

// Schema implements Operator.
func (w *windowOp) Schema() *arrow.Schema { return w.schema }

// Next implements Operator.
func (w *windowOp) Next(ctx context.Context) (arrow.Record, error) {
	w.out.release()
	for {
		if w.cur != nil {
			rec, err := w.hopNext()
			if err != nil || rec != nil {
				return w.out.set(rec), err
			}
			w.dropCur()
		}
		rec, err := w.input.Next(ctx)
		if err != nil || rec == nil {
			return nil, err
		}
		times, err := w.time.Eval(ctx, w.eenv, rec)
		if err != nil {
			return nil, err
		}
		if !w.hop {
			out, err := w.tumble(rec, times)
			times.Release()
			if err != nil {
				return nil, err
			}
			if out == nil {
				continue
			}
			return w.out.set(out), nil
		}
		tvals := valuesOf[int64](times)
		tvalid := validityOf(times, &w.vscratch)
		if err := w.checkRange(tvals, tvalid); err != nil {
			times.Release()
			return nil, err
		}
		rec.Retain()
		w.cur, w.times, w.tvals, w.tvalid = rec, times, tvals, tvalid
		w.row, w.done = 0, 0
	}
}

// checkRange fails when some non-NULL time has windows beyond the range
// of a TIMESTAMP (22008).
func (w *windowOp) checkRange(tvals []int64, tvalid []bool) error {
	if len(tvals) == 0 {
		return nil
	}
	mn, mx := int64(math.MaxInt64), int64(math.MinInt64)
	if tvalid == nil {
		for _, t := range tvals {
			mn, mx = min(mn, t), max(mx, t)
		}
	} else {
		for i, t := range tvals {
			if tvalid[i] {
				mn, mx = min(mn, t), max(mx, t)
			}
		}
	}
	if mn > mx {
		return nil // all NULL
	}
	if mn < w.lo || mx > w.hi {
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range for a window of %s", time.Duration(w.size)*time.Microsecond)
	}
	return nil
}

// floorMod is t mod d for d > 0, in [0, d) also for negative t.
func floorMod(t, d int64) int64 {
	r := t % d
	if r < 0 {
		r += d
	}
	return r
}

// tumble returns rec with its window columns, or nil when every time is
// NULL.
func (w *windowOp) tumble(rec arrow.Record, times arrow.Array) (arrow.Record, error) {
	tvals := valuesOf[int64](times)
	tvalid := validityOf(times, &w.vscratch)
	var sel []int32
	if tvalid != nil {
		sel = w.sel[:0]
		for i, ok := range tvalid {
			if ok {
				sel = append(sel, int32(i))
			}
		}
		w.sel = sel
		if len(sel) == 0 {
			return nil, nil
		}
		w.tscratch = growTo(w.tscratch[:0], len(sel))
		tv := w.tscratch[:len(sel)]
		for i, r := range sel {
			tv[i] = tvals[r]
		}
		tvals = tv
	}
	if err := w.checkRange(tvals, nil); err != nil {
		return nil, err
	}
	m := len(tvals)
	size := w.size
	sbuf, starts := allocFixed[int64](w.mem, m)
	ebuf, ends := allocFixed[int64](w.mem, m)
	mn, mx := tvals[0], tvals[0]
	for _, t := range tvals {
		mn, mx = min(mn, t), max(mx, t)
	}
	if first := mn - floorMod(mn, size); mx < first+size {
		// One window for the whole record: the common case of a window
		// much longer than a batch spans.
		for i := range starts {
			starts[i], ends[i] = first, first+size
		}
	} else {
		for i, t := range tvals {
			s := t - floorMod(t, size)
			starts[i], ends[i] = s, s+size
		}
	}
	startArr := newArray(w.tsType, m, nil, 0, sbuf)
	endArr := newArray(w.tsType, m, nil, 0, ebuf)
	nin := int(rec.NumCols())
	cols := make([]arrow.Array, 0, nin+2)
	if sel == nil {
		for i := range nin {
			c := rec.Column(i)
			c.Retain()
			cols = append(cols, c)
		}
	} else {
		for i := range nin {
			c, err := take(w.mem, rec.Column(i), sel)
			if err != nil {
				startArr.Release()
				endArr.Release()
				releaseArrays(cols)
				return nil, err
			}
			cols = append(cols, c)
		}
	}
	cols = append(cols, startArr, endArr)
	return newRecordOwned(w.schema, cols, m)
}

// hopNext returns the next record of the hop expansion of w.cur, at most
// maxBatchRows rows, or nil when the record is used up.
func (w *windowOp) hopNext() (arrow.Record, error) {
	if w.tvalid == nil && w.size%w.slide == 0 {
		return w.hopEvery()
	}
	idx, starts := w.sel[:0], w.starts[:0]
	size, slide := w.size, w.slide
	tvals, tvalid := w.tvals, w.tvalid
	row, done := w.row, w.done
	for row < len(tvals) && len(idx) < maxBatchRows {
		if tvalid != nil && !tvalid[row] {
			row++
			continue
		}
		t := tvals[row]
		r := floorMod(t, slide)
		n := (size-r-1)/slide + 1 // ceil((size-r)/slide), size-r > 0
		first := t - r - (n-1)*slide
		end := min(n, done+int64(maxBatchRows-len(idx)))
		for j := done; j < end; j++ {
			idx = append(idx, int32(row))
			starts = append(starts, first+j*slide)
		}
		if end == n {
			row, done = row+1, 0
		} else {
			done = end
		}
	}
	w.row, w.done = row, done
	w.sel, w.starts = idx, starts
	m := len(idx)
	if m == 0 {
		return nil, nil
	}
	nin := int(w.cur.NumCols())
	cols := make([]arrow.Array, 0, nin+2)
	for i := range nin {
		c, err := take(w.mem, w.cur.Column(i), idx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, c)
	}
	sbuf, sdst := allocFixed[int64](w.mem, m)
	ebuf, edst := allocFixed[int64](w.mem, m)
	copy(sdst, starts)
	for i, s := range starts {
		edst[i] = s + size
	}
	cols = append(cols, newArray(w.tsType, m, nil, 0, sbuf), newArray(w.tsType, m, nil, 0, ebuf))
	return newRecordOwned(w.schema, cols, m)
}

// hopEvery is hopNext when every row has a time and the slide divides the
// size: every row is then in exactly k = size/slide windows, and the j-th
// window of every row (j = 0 the earliest) is one more output record made
// of the input's own arrays, retained rather than gathered, and the window
// columns. The rows are cut into slices of at most maxBatchRows, and each
// slice goes out k times (w.row is the slice's first row, w.done the
// window j).
func (w *windowOp) hopEvery() (arrow.Record, error) {
	n := len(w.tvals)
	if w.row >= n {
		return nil, nil
	}
	k := w.size / w.slide
	lo, hi := w.row, min(n, w.row+maxBatchRows)
	m := hi - lo
	back := (k - 1 - w.done) * w.slide // from the row's latest window start
	sbuf, sdst := allocFixed[int64](w.mem, m)
	ebuf, edst := allocFixed[int64](w.mem, m)
	for i, t := range w.tvals[lo:hi] {
		s := t - floorMod(t, w.slide) - back
		sdst[i], edst[i] = s, s+w.size
	}
	if w.done++; w.done == k {
		w.row, w.done = hi, 0
	}
	nin := int(w.cur.NumCols())
	cols := make([]arrow.Array, 0, nin+2)
	for i := range nin {
		c := w.cur.Column(i)
		if m == c.Len() {
			c.Retain()
		} else {
			c = array.NewSlice(c, int64(lo), int64(hi))
		}
		cols = append(cols, c)
	}
	cols = append(cols, newArray(w.tsType, m, nil, 0, sbuf), newArray(w.tsType, m, nil, 0, ebuf))
	return newRecordOwned(w.schema, cols, m)
}

// dropCur releases the record a hop was expanding.
func (w *windowOp) dropCur() {
	if w.cur != nil {
		w.cur.Release()
		w.times.Release()
		w.cur, w.times, w.tvals, w.tvalid = nil, nil, nil, nil
	}
}

// Close implements Operator.
func (w *windowOp) Close() error {
	w.out.release()
	w.dropCur()
	return w.input.Close()
}
