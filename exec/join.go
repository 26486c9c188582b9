package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// hashJoinOp is an inner or left outer hash join; the build side is the
// right input.
//
// Build: the first Next drains the right input into one record, evaluates
// the right keys over it and inserts every row whose keys are all non-NULL
// into a hashTable of distinct keys; rows with equal keys are chained in
// input order (first per key, next per row). Without keys every right row
// is in one chain (a cross join).
//
// Probe: for each left record the left keys are evaluated and looked up
// in one pass, giving each left row the head of its chain (or none; NULL
// keys never match). The chains are then walked into (left row, right
// row) pairs, at most maxBatchRows per output record, and both sides are
// gathered by index. A residual condition is evaluated over the gathered
// candidate record (left columns then right columns) and filters the
// pairs. A LEFT join emits each left row that matched nothing once, with
// right row -1, which gathers as NULLs: inline when there is no
// condition, else after the left record's last pairs (only then is it
// known which rows the condition let through).
type hashJoinOp struct {
	left, right Operator
	kind        plan.JoinKind
	lkeys       []*expr.Program
	rkeys       []*expr.Program
	cond        *expr.Program
	schema      *arrow.Schema
	mem         memory.Allocator
	eenv        *expr.Env

	built bool
	build arrow.Record // the right side
	ht    *hashTable   // nil without keys
	first []int32      // per key entry: its first build row
	next  []int32      // per build row: the next row with the same key, or -1

	// Probe state of the current left record.
	lrec     arrow.Record
	starts   []int32 // per left row: head of its chain, or -1
	matched  []bool  // per left row, LEFT join with a condition
	lrow     int     // left row being walked
	chain    int32   // next build row of lrow's chain
	inRow    bool    // lrow's chain walk has started
	rowPairs int     // pairs produced for lrow so far
	lidx     []int32
	ridx     []int32
	sel      []int32
	tail     []int32 // LEFT join with a condition: unmatched rows left to emit
	negs     []int32 // -1s

	done bool
	out  outRecord

	// cache, when set, keeps the build side across statements (a
	// stream's lookup join): slot and sig name it (see LookupCache).
	cache     *LookupCache
	slot, sig string
	// cached is the build side taken from the cache, if any.
	cached *joinBuild
}

var _ Operator = (*hashJoinOp)(nil)

func newHashJoinOp(left, right Operator, n *plan.Join, mem memory.Allocator, eenv *expr.Env) (*hashJoinOp, error) {
	if len(n.LeftKeys) != len(n.RightKeys) {
		return nil, internalf("join has %d left keys and %d right keys", len(n.LeftKeys), len(n.RightKeys))
	}
	if n.Kind != plan.JoinInner && n.Kind != plan.JoinLeft {
		return nil, internalf("join kind %d is not supported", n.Kind)
	}
	j := &hashJoinOp{left: left, right: right, kind: n.Kind, schema: schemaOf(n.Columns()), mem: mem, eenv: eenv}
	var dts []arrow.DataType
	for i := range n.LeftKeys {
		lp, err := expr.Compile(n.LeftKeys[i])
		if err != nil {
			return nil, err
		}
		rp, err := expr.Compile(n.RightKeys[i])
		if err != nil {
			return nil, err
		}
		lc, err := classOf(lp.Type().Arrow())
		if err != nil {
			return nil, err
		}
		rc, err := classOf(rp.Type().Arrow())
		if err != nil {
			return nil, err
		}
		if lc != rc {
			return nil, internalf("join key %d compares %s with %s", i, lp.Type(), rp.Type())
		}
		j.lkeys = append(j.lkeys, lp)
		j.rkeys = append(j.rkeys, rp)
		dts = append(dts, rp.Type().Arrow())
	}
	if len(dts) > 0 {
		ht, err := newHashTable(dts, false)
		if err != nil {
			return nil, err
		}
		j.ht = ht
	}
	if n.Cond != nil {
		p, err := expr.Compile(n.Cond)
		if err != nil {
			return nil, err
		}
		j.cond = p
	}
	return j, nil
}

// Schema implements Operator.
func (j *hashJoinOp) Schema() *arrow.Schema { return j.schema }

// Next implements Operator.
func (j *hashJoinOp) Next(ctx context.Context) (arrow.Record, error) {
	j.out.release()
	if j.done {
		return nil, nil
	}
	if !j.built {
		if err := j.buildSide(ctx); err != nil {
			j.done = true
			return nil, err
		}
		j.built = true
		if j.kind == plan.JoinInner && j.build.NumRows() == 0 {
			j.done = true
			return nil, nil
		}
	}
	for {
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
		if j.lrec == nil {
			rec, err := j.left.Next(ctx)
			if err != nil {
				return nil, err
			}
			if rec == nil {
				j.done = true
				return nil, nil
			}
			if err := j.startLeft(ctx, rec); err != nil {
				return nil, err
			}
		}
		n := int(j.lrec.NumRows())
		if j.lrow == n {
			// The record is walked; what may be left is the tail of
			// unmatched rows of a LEFT join with a condition.
			if len(j.tail) == 0 {
				j.lrec.Release()
				j.lrec = nil
				continue
			}
			k := min(len(j.tail), maxBatchRows)
			rec, err := j.gather(j.tail[:k], j.nulls(k))
			if err != nil {
				return nil, err
			}
			j.tail = j.tail[k:]
			return j.out.set(rec), nil
		}
		j.lidx, j.ridx = j.lidx[:0], j.ridx[:0]
		for j.lrow < n && len(j.lidx) < maxBatchRows {
			if !j.inRow {
				j.chain = j.starts[j.lrow]
				j.inRow = true
				j.rowPairs = 0
			}
			for j.chain >= 0 && len(j.lidx) < maxBatchRows {
				j.lidx = append(j.lidx, int32(j.lrow))
				j.ridx = append(j.ridx, j.chain)
				j.chain = j.next[j.chain]
				j.rowPairs++
			}
			if j.chain >= 0 {
				break // output full in the middle of a chain
			}
			if j.kind == plan.JoinLeft && j.cond == nil && j.rowPairs == 0 {
				j.lidx = append(j.lidx, int32(j.lrow))
				j.ridx = append(j.ridx, -1)
			}
			j.inRow = false
			j.lrow++
		}
		rec, err := j.emit(ctx)
		if err != nil {
			return nil, err
		}
		if j.lrow == n && j.kind == plan.JoinLeft && j.cond != nil {
			j.tail = j.tail[:0]
			for l, m := range j.matched {
				if !m {
					j.tail = append(j.tail, int32(l))
				}
			}
		}
		if rec != nil {
			return j.out.set(rec), nil
		}
	}
}

// nulls returns k right-side indexes of -1 (NULL rows).
func (j *hashJoinOp) nulls(k int) []int32 {
	for len(j.negs) < k {
		j.negs = append(j.negs, -1)
	}
	return j.negs[:k]
}

// buildSide drains the right input and builds the hash table.
func (j *hashJoinOp) buildSide(ctx context.Context) error {
	if j.cached != nil {
		// The cache's reference to the build record is the cache's; the
		// one get took is ours, released by Close.
		j.build, j.ht, j.first, j.next = j.cached.build, j.cached.ht, j.cached.first, j.cached.next
		return nil
	}
	if err := j.buildFromRight(ctx); err != nil {
		return err
	}
	if j.cache != nil {
		j.cache.put(j.slot, j.sig, &joinBuild{build: j.build, ht: j.ht, first: j.first, next: j.next})
	}
	return nil
}

// buildFromRight drains the right input and builds the hash table.
func (j *hashJoinOp) buildFromRight(ctx context.Context) error {
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for {
		rec, err := j.right.Next(ctx)
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	build, err := concatRecords(j.mem, j.right.Schema(), recs)
	if err != nil {
		return err
	}
	j.build = build
	m := int(build.NumRows())
	j.next = make([]int32, m)
	if j.ht == nil {
		for r := range j.next {
			j.next[r] = int32(r) + 1
		}
		if m > 0 {
			j.next[m-1] = -1
		}
		return nil
	}
	keys := make([]arrow.Array, len(j.rkeys))
	defer releaseArrays(keys)
	for i, k := range j.rkeys {
		a, err := k.Eval(ctx, j.eenv, build)
		if err != nil {
			return err
		}
		keys[i] = a
	}
	if err := j.ht.bind(keys, nil, m); err != nil {
		return err
	}
	ents := make([]int32, m)
	isNew := make([]bool, m)
	j.ht.findOrInsertAll(ents, isNew, true)
	var last []int32 // per key entry: its last build row so far
	for r, e := range ents {
		j.next[r] = -1
		if e < 0 {
			continue
		}
		if isNew[r] {
			j.first = append(j.first, int32(r))
			last = append(last, int32(r))
			continue
		}
		j.next[last[e]] = int32(r)
		last[e] = int32(r)
	}
	return nil
}

// startLeft makes rec (borrowed from the left input) the record being
// probed and looks up the chain head of every row.
func (j *hashJoinOp) startLeft(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	if cap(j.starts) < n {
		j.starts = make([]int32, n)
	}
	j.starts = j.starts[:n]
	if j.ht == nil {
		head := int32(-1)
		if j.build.NumRows() > 0 {
			head = 0
		}
		for i := range j.starts {
			j.starts[i] = head
		}
	} else {
		keys := make([]arrow.Array, len(j.lkeys))
		defer releaseArrays(keys)
		for i, k := range j.lkeys {
			a, err := k.Eval(ctx, j.eenv, rec)
			if err != nil {
				return err
			}
			keys[i] = a
		}
		if err := j.ht.bind(keys, nil, n); err != nil {
			return err
		}
		j.ht.findAll(j.starts)
		for i, e := range j.starts {
			if e >= 0 {
				j.starts[i] = j.first[e]
			}
		}
	}
	if j.kind == plan.JoinLeft && j.cond != nil {
		if cap(j.matched) < n {
			j.matched = make([]bool, n)
		}
		j.matched = j.matched[:n]
		clear(j.matched)
	}
	rec.Retain()
	j.lrec = rec
	j.tail = j.tail[:0]
	j.lrow = 0
	j.inRow = false
	return nil
}

// emit turns the pairs collected in lidx/ridx into an output record (nil
// when no pair results), applying the residual condition and recording
// which left rows matched.
func (j *hashJoinOp) emit(ctx context.Context) (arrow.Record, error) {
	if len(j.lidx) == 0 {
		return nil, nil
	}
	cand, err := j.gather(j.lidx, j.ridx)
	if err != nil || j.cond == nil {
		return cand, err
	}
	sel, err := j.cond.Select(ctx, j.eenv, cand, j.sel)
	j.sel = sel
	if err != nil {
		cand.Release()
		return nil, err
	}
	if j.kind == plan.JoinLeft {
		for _, s := range sel {
			j.matched[j.lidx[s]] = true
		}
	}
	switch len(sel) {
	case len(j.lidx):
		return cand, nil
	case 0:
		cand.Release()
		return nil, nil
	}
	defer cand.Release()
	return takeRecord(j.mem, j.schema, cand, sel)
}

// gather builds the record of pairs: left columns gathered by lidx, right
// columns by ridx (-1 gives NULLs).
func (j *hashJoinOp) gather(lidx, ridx []int32) (arrow.Record, error) {
	nl, nr := int(j.lrec.NumCols()), int(j.build.NumCols())
	cols := make([]arrow.Array, 0, nl+nr)
	for c := 0; c < nl; c++ {
		a, err := take(j.mem, j.lrec.Column(c), lidx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	for c := 0; c < nr; c++ {
		a, err := take(j.mem, j.build.Column(c), ridx)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols = append(cols, a)
	}
	return newRecordOwned(j.schema, cols, len(lidx))
}

// Close implements Operator.
func (j *hashJoinOp) Close() error {
	j.out.release()
	if j.lrec != nil {
		j.lrec.Release()
		j.lrec = nil
	}
	if j.build != nil {
		j.build.Release()
		j.build = nil
	}
	j.done = true
	return closeAll(j.left, j.right)
}
