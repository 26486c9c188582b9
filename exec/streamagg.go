package exec

import (
	"cmp"
	"context"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// StreamAgg is the state of a hash aggregate that a stream keeps across
// micro-batches: Fold adds a batch's rows, EmitChanged reports the groups
// the batches since the last call changed (update output mode), and
// Finalize retires the event-time windows the watermark has passed,
// reporting their final values (append output mode).
//
// # State layout
//
// The state is columnar, as in hashAggOp: a sub-state (aggState) holds a
// hashTable that gives each distinct group key a dense group id and one
// accumulator per aggregate, typed slices indexed by group id. Without a
// window there is one sub-state and the hash table holds all the GROUP BY
// keys. With a window (plan.Aggregate.Window) there is one sub-state per
// window, found by the window's (start, end) in a Go map, and its hash
// table holds only the other GROUP BY keys; the window keys are stored
// once per sub-state. A window is finalised by dropping its sub-state
// whole: no per-group deletion, no tombstones, no rehash. Without any key
// but the window's, a sub-state is a single group and has no hash table.
//
// Fold evaluates the keys and aggregate arguments over the whole record,
// sorts the rows by window when the record's windows are interleaved (a
// hop gives each row several windows; a counting sort and one take per
// column, skipped when each window's rows are already contiguous, as for
// a tumble over time-ordered input), and then folds each window's row
// range into its sub-state with the batch-at-a-time hash table and
// accumulators.
//
// Changed groups are tracked per sub-state as a flag per group id plus
// the list of ids flagged, and the sub-states with flags are listed, so
// EmitChanged touches only what changed: it gathers the key columns and
// the accumulator values of exactly those ids (keyColSel,
// accumulator.buildSel).
//
// DISTINCT aggregates keep, per sub-state, the hashTable of (group id,
// value) pairs seen, as hashAggOp does; it goes away with its window.
//
// Rows whose window ended at or before the watermark of an earlier
// Finalize are late: their window has been reported and dropped, so they
// are counted (LateRows) and not folded.
//
// # Snapshots
//
// Nothing in the state points into Arrow memory (keys and min/max strings
// are owned copies), and every part is a flat typed slice indexed by
// group id, so Snapshot writes the state as Arrow columns, one row per
// group: the key columns (hashTable keys in group id order, the window
// bounds repeated), then each accumulator's slices (accumulator.saveState)
// and each DISTINCT aggregate's values as a list per group. Restore binds
// the key columns to a new hashTable and inserts them in order, which
// hands out the same dense group ids, loads the accumulator slices
// (accumulator.loadState) and inserts the DISTINCT values with their
// group ids. The layout is described in streamagg_snapshot.go.
//
// A StreamAgg is not safe for concurrent use. After an error from Fold
// (an integer sum overflowing, say) the state may hold part of the
// record: the caller drops it or restores a snapshot.
type StreamAgg struct {
	mem     memory.Allocator
	eenv    *expr.Env
	schema  *arrow.Schema
	groupBy []*expr.Program
	// hkeys are the GROUP BY positions that a sub-state's hash table
	// holds: all but the window keys.
	hkeys    []int
	hkeyDTs  []arrow.DataType
	aggs     []streamAggCall
	win      *plan.AggWindow // nil: no window
	startDT  arrow.DataType
	endDT    arrow.DataType
	closed   bool
	wmark    int64 // highest watermark Finalize was called with
	wmarkSet bool
	late     int64
	groups   int64
	// stateSchema is the schema of snapshots (StateSchema).
	stateSchema *arrow.Schema

	global *aggState            // without a window
	states map[winKey]*aggState // with a window
	dirty  []*aggState          // sub-states with changed groups
	bwins  []winKey             // Fold: the record's windows, in order of appearance
	bidx   map[winKey]int32     // Fold: index into bwins, when there are many
	bcount []int                // Fold: rows per window of bwins
	boff   []int                // Fold: start of each window's rows
	bruns  []winRun             // Fold: the record's runs of rows of one window
	perm   []int32              // Fold: rows sorted by window
	gids   []int32              // Fold: group id of each row
	iota   []int32              // 0, 1, 2, ...
	sel    []int32              // DISTINCT: rows adding a new value
	dents  []int32              // DISTINCT: scratch
	dnew   []bool               // DISTINCT: scratch
	bpos   []int32              // Fold: scratch of the counting sort
	svs    [2][]bool            // Fold: validity scratch of the window keys
}

// streamAggCall is one aggregate of a StreamAgg, compiled.
type streamAggCall struct {
	fn       plan.AggFunc
	arg      *expr.Program // nil for count(*)
	argDT    arrow.DataType
	outDT    arrow.DataType
	distinct bool
	nstate   int // columns of the accumulator's state in a snapshot
}

// winKey identifies a window: its start and end, in microseconds since
// the epoch; nulls has bit 0 set for a NULL start and bit 1 for a NULL
// end (such a window never ends).
type winKey struct {
	start, end int64
	nulls      uint8
}

// compareWinKeys orders windows by start then end, NULLs last.
func compareWinKeys(a, b winKey) int {
	if c := cmp.Compare(a.nulls, b.nulls); c != 0 {
		return c
	}
	if c := cmp.Compare(a.start, b.start); c != 0 {
		return c
	}
	return cmp.Compare(a.end, b.end)
}

// aggState is the groups of one window (or of the whole stream, without a
// window).
type aggState struct {
	key     winKey
	ht      *hashTable // nil without keys besides the window's: one group
	groups  int
	accs    []accumulator
	dsets   []*hashTable // per aggregate; nil unless DISTINCT
	changed []bool       // per group: changed since the last EmitChanged
	chIDs   []int32      // the groups with changed set, in order of change
	dirty   bool         // listed in StreamAgg.dirty
}

// NewStreamAgg builds the state for n (its Input is NOT built: the caller
// feeds Fold with records whose columns are n.Input.Columns()).
func NewStreamAgg(env *Env, n *plan.Aggregate) (*StreamAgg, error) {
	if env == nil || n == nil {
		return nil, internalf("stream aggregate without an environment or a plan")
	}
	if len(n.Cols) != len(n.GroupBy)+len(n.Aggs) {
		return nil, internalf("aggregate has %d columns for %d keys and %d aggregates", len(n.Cols), len(n.GroupBy), len(n.Aggs))
	}
	s := &StreamAgg{mem: env.mem(), eenv: env.exprEnv(), schema: schemaOf(n.Cols), win: n.Window}
	if w := n.Window; w != nil {
		if w.StartKey < 0 || w.StartKey >= len(n.GroupBy) || w.EndKey < 0 || w.EndKey >= len(n.GroupBy) || w.StartKey == w.EndKey {
			return nil, internalf("window keys %d and %d of %d GROUP BY keys", w.StartKey, w.EndKey, len(n.GroupBy))
		}
		s.startDT, s.endDT = s.schema.Field(w.StartKey).Type, s.schema.Field(w.EndKey).Type
		if s.startDT.ID() != arrow.TIMESTAMP || s.endDT.ID() != arrow.TIMESTAMP {
			return nil, internalf("window keys are %s and %s, not timestamps", s.startDT, s.endDT)
		}
		s.states = make(map[winKey]*aggState)
	}
	for i, g := range n.GroupBy {
		p, err := expr.Compile(g)
		if err != nil {
			return nil, err
		}
		if !arrow.TypeEqual(p.Type().Arrow(), s.schema.Field(i).Type) {
			return nil, internalf("GROUP BY key %d is %s, column %s", i, p.Type(), n.Cols[i].Type)
		}
		s.groupBy = append(s.groupBy, p)
		if s.win == nil || (i != s.win.StartKey && i != s.win.EndKey) {
			s.hkeys = append(s.hkeys, i)
			s.hkeyDTs = append(s.hkeyDTs, p.Type().Arrow())
		}
	}
	for i, call := range n.Aggs {
		c := streamAggCall{fn: call.Func, outDT: s.schema.Field(len(n.GroupBy) + i).Type, distinct: call.Distinct}
		if call.Func != plan.AggCountStar {
			if call.Arg == nil {
				return nil, internalf("aggregate %s has no argument", call.Func)
			}
			p, err := expr.Compile(call.Arg)
			if err != nil {
				return nil, err
			}
			c.arg, c.argDT = p, p.Type().Arrow()
		} else {
			c.distinct = false
		}
		s.aggs = append(s.aggs, c)
	}
	// Check the aggregates and key types once, by making a sub-state.
	st, err := s.newState(winKey{})
	if err != nil {
		return nil, err
	}
	s.stateSchema = s.buildStateSchema(st)
	if s.win == nil {
		s.global = st
		if st.ht == nil {
			// Without GROUP BY there is exactly one group, from the
			// start: its first report is the aggregate over no rows.
			s.groups = 1
			st.markChanged(s, []int32{0})
		}
	}
	return s, nil
}

// newState returns an empty sub-state for window k.
func (s *StreamAgg) newState(k winKey) (*aggState, error) {
	st := &aggState{key: k}
	if len(s.hkeys) > 0 {
		ht, err := newHashTable(s.hkeyDTs, false)
		if err != nil {
			return nil, err
		}
		st.ht = ht
	} else {
		st.groups = 1
	}
	st.accs = make([]accumulator, len(s.aggs))
	st.dsets = make([]*hashTable, len(s.aggs))
	for i, c := range s.aggs {
		acc, err := newAccumulator(c.fn, c.argDT, c.outDT)
		if err != nil {
			return nil, err
		}
		st.accs[i] = acc
		if c.distinct {
			if st.dsets[i], err = newHashTable([]arrow.DataType{c.argDT}, true); err != nil {
				return nil, err
			}
		}
	}
	st.resize()
	return st, nil
}

// resize makes room in the accumulators and change flags for the groups.
func (st *aggState) resize() {
	for _, acc := range st.accs {
		acc.resize(st.groups)
	}
	st.changed = growTo(st.changed, st.groups)
}

// markChanged flags the groups gids as changed and lists st in s.dirty.
func (st *aggState) markChanged(s *StreamAgg, gids []int32) {
	changed, ids := st.changed, st.chIDs
	for _, g := range gids {
		if !changed[g] {
			changed[g] = true
			ids = append(ids, g)
		}
	}
	st.chIDs = ids
	if !st.dirty && len(ids) > 0 {
		st.dirty = true
		s.dirty = append(s.dirty, st)
	}
}

// Schema is the schema of the records the StreamAgg emits: n.Cols.
func (s *StreamAgg) Schema() *arrow.Schema { return s.schema }

// Rows returns the number of groups held.
func (s *StreamAgg) Rows() int64 { return s.groups }

// LateRows returns the number of rows Fold dropped because their window
// had already been finalised. It is a progress counter of this
// StreamAgg, not state: Snapshot does not save it and Restore leaves it
// as it is.
func (s *StreamAgg) LateRows() int64 { return s.late }

// Fold adds the rows of rec (columns n.Input.Columns()) to their groups
// and marks those groups changed. The record is not kept.
func (s *StreamAgg) Fold(ctx context.Context, rec arrow.Record) error {
	if s.closed {
		return internalf("stream aggregate used after Close")
	}
	n := int(rec.NumRows())
	if n == 0 {
		return ctxErr(ctx)
	}
	keys := make([]arrow.Array, len(s.groupBy))
	defer releaseArrays(keys)
	for i, g := range s.groupBy {
		arr, err := g.Eval(ctx, s.eenv, rec)
		if err != nil {
			return err
		}
		keys[i] = arr
	}
	args := make([]arrow.Array, len(s.aggs))
	defer releaseArrays(args)
	for i, c := range s.aggs {
		if c.arg == nil {
			continue
		}
		arr, err := c.arg.Eval(ctx, s.eenv, rec)
		if err != nil {
			return err
		}
		args[i] = arr
	}
	hk := make([]arrow.Array, len(s.hkeys))
	for i, k := range s.hkeys {
		hk[i] = keys[k]
	}
	s.gids = growTo(s.gids, n)
	if s.win == nil {
		return s.foldRange(s.global, hk, args, 0, n, n)
	}

	wins, contiguous := s.assignWindows(keys[s.win.StartKey], keys[s.win.EndKey], n)
	if !contiguous {
		// Sort the rows by window so that each window's rows are a range.
		perm := growTo(s.perm[:0], n)[:n]
		s.perm = perm
		pos := growTo(s.bpos[:0], len(wins))[:len(wins)]
		s.bpos = pos
		for w := range wins {
			pos[w] = int32(s.boff[w])
		}
		for _, r := range s.bruns {
			p := pos[r.w]
			for i := r.lo; i < r.hi; i++ {
				perm[p] = int32(i)
				p++
			}
			pos[r.w] = p
		}
		for i, a := range hk {
			t, err := take(s.mem, a, perm)
			if err != nil {
				return err
			}
			hk[i] = t
			defer t.Release()
		}
		for i, a := range args {
			if a == nil {
				continue
			}
			t, err := take(s.mem, a, perm)
			if err != nil {
				return err
			}
			a.Release()
			args[i] = t
		}
	}
	for w, k := range wins {
		lo, hi := s.boff[w], s.boff[w]+s.bcount[w]
		if s.wmarkSet && k.nulls&2 == 0 && k.end <= s.wmark {
			s.late += int64(hi - lo)
			continue
		}
		st := s.states[k]
		if st == nil {
			var err error
			if st, err = s.newState(k); err != nil {
				return err
			}
			s.states[k] = st
			if st.ht == nil {
				s.groups++
			}
		}
		if err := s.foldRange(st, hk, args, lo, hi, n); err != nil {
			return err
		}
	}
	return nil
}

// winRun is a run of consecutive rows [lo, hi) of one window of a record.
type winRun struct {
	lo, hi int
	w      int32 // index into StreamAgg.bwins
}

// assignWindows finds the window of every row as runs of rows of one
// window (s.bruns). It returns the record's windows in order of first
// appearance, with s.bcount and s.boff (rows per window, and where each
// window's rows start once the rows are sorted by window), and whether
// each window's rows are already one contiguous run.
func (s *StreamAgg) assignWindows(startArr, endArr arrow.Array, n int) (wins []winKey, contiguous bool) {
	starts, ends := valuesOf[int64](startArr), valuesOf[int64](endArr)
	svalid := validityOf(startArr, &s.svs[0])
	evalid := validityOf(endArr, &s.svs[1])
	keyAt := func(i int) winKey {
		k := winKey{start: starts[i], end: ends[i]}
		if svalid != nil && !svalid[i] {
			k.start, k.nulls = 0, k.nulls|1
		}
		if evalid != nil && !evalid[i] {
			k.end, k.nulls = 0, k.nulls|2
		}
		return k
	}
	wins, counts, runs := s.bwins[:0], s.bcount[:0], s.bruns[:0]
	if s.bidx != nil {
		clear(s.bidx)
	}
	useMap := false // more windows than a linear search suits
	for lo := 0; lo < n; {
		k := keyAt(lo)
		hi := lo + 1
		if svalid == nil && evalid == nil {
			for hi < n && starts[hi] == k.start && ends[hi] == k.end {
				hi++
			}
		} else {
			for hi < n && keyAt(hi) == k {
				hi++
			}
		}
		w := int32(-1)
		if len(wins) <= 16 {
			for j, x := range wins {
				if x == k {
					w = int32(j)
					break
				}
			}
		} else {
			if !useMap {
				if s.bidx == nil {
					s.bidx = make(map[winKey]int32)
				}
				for j, x := range wins {
					s.bidx[x] = int32(j)
				}
				useMap = true
			}
			if j, ok := s.bidx[k]; ok {
				w = j
			}
		}
		if w < 0 {
			w = int32(len(wins))
			wins = append(wins, k)
			counts = append(counts, 0)
			if useMap {
				s.bidx[k] = w
			}
		}
		counts[w] += hi - lo
		runs = append(runs, winRun{lo: lo, hi: hi, w: w})
		lo = hi
	}
	offs := growTo(s.boff[:0], len(wins))[:len(wins)]
	off := 0
	for w, c := range counts {
		offs[w] = off
		off += c
	}
	s.bwins, s.bcount, s.boff, s.bruns = wins, counts, offs, runs
	return wins, len(runs) == len(wins)
}

// foldRange folds rows [lo, hi) of the arrays (hk: the hash-table keys,
// args: the aggregate arguments, nil for count(*); all of n rows) into
// st.
func (s *StreamAgg) foldRange(st *aggState, hk, args []arrow.Array, lo, hi, n int) error {
	m := hi - lo
	gids := s.gids[:n]
	if st.ht != nil {
		bound := hk
		if lo != 0 || hi != n {
			bound = make([]arrow.Array, len(hk))
			for i, a := range hk {
				bound[i] = array.NewSlice(a, int64(lo), int64(hi))
			}
			defer releaseArrays(bound)
		}
		if err := st.ht.bind(bound, nil, m); err != nil {
			return err
		}
		st.ht.findOrInsertAll(gids[lo:hi], nil, false)
		if g := int(st.ht.n); g != st.groups {
			s.groups += int64(g - st.groups)
			st.groups = g
			st.resize()
		}
	} else {
		clear(gids[lo:hi])
	}
	// The accumulators read all of the argument array they are given (a
	// string or narrow-integer load, the validity), so a range of a
	// record of many windows gets a slice of it, not the whole record.
	whole := lo == 0 && hi == n
	rows := iota32(&s.iota, m)
	for i := range s.aggs {
		arg := args[i]
		if arg != nil && !whole {
			arg = array.NewSlice(arg, int64(lo), int64(hi))
		}
		err := s.foldAgg(st.accs[i], st.dsets[i], gids[lo:hi], arg, rows)
		if arg != nil && !whole {
			arg.Release()
		}
		if err != nil {
			return err
		}
	}
	st.markChanged(s, gids[lo:hi])
	return nil
}

// foldAgg folds the m = len(gids) rows of arg (nil for count(*)) into
// groups gids of acc; with a DISTINCT value set dset, only the values new
// to their group. rows is 0, 1, ..., m-1.
func (s *StreamAgg) foldAgg(acc accumulator, dset *hashTable, gids []int32, arg arrow.Array, rows []int32) error {
	if dset == nil {
		return acc.update(gids, arg, rows)
	}
	m := len(gids)
	if err := dset.bind([]arrow.Array{arg}, gids, m); err != nil {
		return err
	}
	s.dents = growTo(s.dents[:0], m)
	s.dnew = growTo(s.dnew[:0], m)
	dset.findOrInsertAll(s.dents[:m], s.dnew[:m], true)
	sel := s.sel[:0]
	for j, isNew := range s.dnew[:m] {
		if isNew {
			sel = append(sel, int32(j))
		}
	}
	s.sel = sel
	return acc.update(gids, arg, sel)
}

// EmitChanged returns the current values of the groups changed since the
// last EmitChanged (update output mode), as records of schema n.Cols, and
// clears the changed marks. Windows come in order of start, then end;
// within a window, groups in order of first appearance. The caller
// releases the records.
func (s *StreamAgg) EmitChanged(ctx context.Context) ([]arrow.Record, error) {
	if s.closed {
		return nil, internalf("stream aggregate used after Close")
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	slices.SortFunc(s.dirty, func(a, b *aggState) int { return compareWinKeys(a.key, b.key) })
	var out []arrow.Record
	for _, st := range s.dirty {
		slices.Sort(st.chIDs)
		recs, err := s.emit(st, st.chIDs)
		if err != nil {
			releaseRecords(out)
			return nil, err
		}
		out = append(out, recs...)
	}
	for _, st := range s.dirty {
		for _, g := range st.chIDs {
			st.changed[g] = false
		}
		st.chIDs = st.chIDs[:0]
		st.dirty = false
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return out, nil
}

// Finalize removes every group whose window end is <= watermarkMicros
// (microseconds since the epoch) and, when emit is true, returns their
// final values (append output mode), windows in order of start. Only
// valid when the aggregate has a window. The removed groups leave the
// changed set too: with emit false (update mode) the caller has called
// EmitChanged for this batch already. Rows that arrive later for a
// finalised window are dropped (LateRows).
func (s *StreamAgg) Finalize(ctx context.Context, watermarkMicros int64, emit bool) ([]arrow.Record, error) {
	if s.closed {
		return nil, internalf("stream aggregate used after Close")
	}
	if s.win == nil {
		return nil, internalf("finalize of an aggregate without a window")
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if !s.wmarkSet || watermarkMicros > s.wmark {
		s.wmark, s.wmarkSet = watermarkMicros, true
	}
	var done []*aggState
	for k, st := range s.states {
		if k.nulls&2 == 0 && k.end <= watermarkMicros {
			done = append(done, st)
		}
	}
	if len(done) == 0 {
		return nil, nil
	}
	slices.SortFunc(done, func(a, b *aggState) int { return compareWinKeys(a.key, b.key) })
	var out []arrow.Record
	if emit {
		for _, st := range done {
			recs, err := s.emit(st, iota32(&s.iota, st.groups))
			if err != nil {
				releaseRecords(out)
				return nil, err
			}
			out = append(out, recs...)
		}
	}
	for _, st := range done {
		delete(s.states, st.key)
		s.groups -= int64(st.groups)
		if st.dirty {
			st.dirty = false
			s.dirty = slices.DeleteFunc(s.dirty, func(x *aggState) bool { return x == st })
		}
	}
	return out, nil
}

// emit builds the rows of groups gids of st, in records of at most
// maxBatchRows rows.
func (s *StreamAgg) emit(st *aggState, gids []int32) ([]arrow.Record, error) {
	var out []arrow.Record
	for lo := 0; lo < len(gids); lo += maxBatchRows {
		rec, err := s.buildRows(st, gids[lo:min(lo+maxBatchRows, len(gids))])
		if err != nil {
			releaseRecords(out)
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// buildRows builds the record of groups gids of st.
func (s *StreamAgg) buildRows(st *aggState, gids []int32) (arrow.Record, error) {
	m := len(gids)
	cols := make([]arrow.Array, s.schema.NumFields())
	h := 0
	for i := range s.groupBy {
		dt := s.schema.Field(i).Type
		var err error
		switch {
		case s.win != nil && i == s.win.StartKey:
			cols[i] = repeatInt64(s.mem, dt, st.key.start, st.key.nulls&1 != 0, m)
		case s.win != nil && i == s.win.EndKey:
			cols[i] = repeatInt64(s.mem, dt, st.key.end, st.key.nulls&2 != 0, m)
		default:
			cols[i], err = keyColSel(st.ht.cols[h], s.mem, dt, gids)
			h++
		}
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
	}
	for j, acc := range st.accs {
		i := len(s.groupBy) + j
		arr, err := acc.buildSel(s.mem, s.schema.Field(i).Type, gids)
		if err != nil {
			releaseArrays(cols)
			return nil, err
		}
		cols[i] = arr
	}
	return newRecordOwned(s.schema, cols, m)
}

// Close releases the state. It is safe to call twice; the StreamAgg is
// unusable afterwards.
func (s *StreamAgg) Close() {
	s.closed = true
	s.global, s.states, s.dirty, s.bidx = nil, nil, nil, nil
	s.groups = 0
}

// repeatInt64 returns an array of type dt (64-bit values) holding v n
// times, or n NULLs.
func repeatInt64(mem memory.Allocator, dt arrow.DataType, v int64, null bool, n int) arrow.Array {
	buf, dst := allocFixed[int64](mem, n)
	if null {
		clear(dst)
		vbuf, _ := allocBits(mem, n)
		return newArray(dt, n, vbuf, n, buf)
	}
	for i := range dst {
		dst[i] = v
	}
	return newArray(dt, n, nil, 0, buf)
}

// keyColSel builds an array of type dt of the stored keys gids of c, in
// that order.
func keyColSel(c keyCol, mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	switch k := c.(type) {
	case *keyColOf[int64]:
		return keySel(k, mem, dt, gids)
	case *keyColOf[float64]:
		return keySel(k, mem, dt, gids)
	case *keyColOf[string]:
		return keySel(k, mem, dt, gids)
	case *keyColOf[arrow.MonthDayNanoInterval]:
		return keySel(k, mem, dt, gids)
	}
	return nil, internalf("unknown key column %T", c)
}

func keySel[K any](k *keyColOf[K], mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	vals := make([]K, len(gids))
	valid := make([]bool, len(gids))
	for i, g := range gids {
		vals[i], valid[i] = k.keys[g], k.kvalid[g]
	}
	return k.c.build(mem, dt, vals, valid)
}
