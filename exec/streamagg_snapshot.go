package exec

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// This file holds the snapshots of a StreamAgg: Snapshot writes the
// state out as Arrow records of one schema, StateSchema, and Restore
// reads them back into a StreamAgg built from the same plan.Aggregate.
//
// # The state schema
//
// One row per group, sub-states in window order (start, then end, NULLs
// last) and, within a sub-state, groups in group id order (order of first
// appearance). The columns, all named by position so that renaming an
// output column does not change them:
//
//	key<i>          GROUP BY key i, of the key's type, nullable
//	window_start    the window keys, in their GROUP BY positions, in
//	window_end      place of key<i>: timestamps, nullable
//	agg<j>_<fn>...  aggregate j's partial state (fn is count_star, count,
//	                sum, avg, min or max; "_distinct" is appended for a
//	                DISTINCT aggregate):
//	                  count, count_star  <p>         int64 not null
//	                  sum over integers  <p>         int64, NULL: no value seen
//	                  sum over floats    <p>         float64, NULL: no value seen
//	                  avg over integers  <p>_isum    int64 not null (exact sum)
//	                                     <p>_fsum    float64 not null (overflowed part)
//	                                     <p>_count   int64 not null
//	                  avg over floats    <p>_fsum, <p>_count
//	                  min, max           <p>         the result type, NULL: no value seen
//	agg<j>_<fn>_distinct_values
//	                a DISTINCT aggregate's values seen in the group:
//	                list<argument type> not null of non-NULL values, in
//	                order of first appearance
//
// The schema's metadata holds "sluice.state", the format version. A
// snapshot's schema (the one Snapshot returns) adds "sluice.state.groups",
// the number of rows of all its records, so that a missing record is
// noticed, and, once Finalize has been called, "sluice.state.finalized",
// the highest watermark Finalize was given (µs since the epoch): rows of
// windows that end by it are late, also after a restore. (The keys are
// apart from the stream's own "sluice.watermark", which package stream
// adds to the same schema.) arrow.Schema.Equal ignores schema metadata,
// so the records and the snapshot schema compare equal to StateSchema;
// whoever stores a snapshot (as Arrow IPC, say) must store the schema
// Snapshot returns, not StateSchema, and keep its metadata keys.
//
// Not state: the changed flags (a restored state has nothing changed,
// not even the global group of an aggregate without GROUP BY), the
// LateRows counter (a progress counter of the StreamAgg, which Restore
// leaves alone) and the group ids of DISTINCT values in their hash
// tables, which are rebuilt.
//
// Restore inserts each sub-state's key columns, in row order, into a new
// hash table, which hands out the same dense group ids the groups had
// (so emitting and later snapshots come in the same order as without the
// restore), loads the accumulators' slices from their columns and inserts
// the DISTINCT values with their group ids.

const (
	// stateFormatKey holds the format of a state snapshot in the metadata
	// of its schema; a different format is refused.
	stateFormatKey    = "sluice.state"
	stateFormat       = "stream aggregate 1"
	stateGroupsKey    = "sluice.state.groups"
	stateWatermarkKey = "sluice.state.finalized"
	// snapshotRows bounds the rows of a snapshot record.
	snapshotRows = maxBatchRows
)

// buildStateSchema returns the state schema of s, whose accumulators are
// those of st, and sets s.aggs[j].nstate.
func (s *StreamAgg) buildStateSchema(st *aggState) *arrow.Schema {
	var fields []arrow.Field
	for i := range s.groupBy {
		name := fmt.Sprintf("key%d", i)
		switch {
		case s.win != nil && i == s.win.StartKey:
			name = "window_start"
		case s.win != nil && i == s.win.EndKey:
			name = "window_end"
		}
		fields = append(fields, arrow.Field{Name: name, Type: s.schema.Field(i).Type, Nullable: true})
	}
	for j := range s.aggs {
		c := &s.aggs[j]
		prefix := fmt.Sprintf("agg%d_%s", j, c.fn)
		if c.distinct {
			prefix += "_distinct"
		}
		fs := st.accs[j].stateFields(prefix, c.outDT)
		c.nstate = len(fs)
		fields = append(fields, fs...)
		if c.distinct {
			fields = append(fields, arrow.Field{Name: prefix + "_values", Type: arrow.ListOfNonNullable(c.argDT)})
		}
	}
	md := arrow.NewMetadata([]string{stateFormatKey}, []string{stateFormat})
	return arrow.NewSchema(fields, &md)
}

// StateSchema is the schema of the records of a snapshot, the same for
// every StreamAgg of an equal plan.Aggregate; see Snapshot.
func (s *StreamAgg) StateSchema() *arrow.Schema { return s.stateSchema }

// Snapshot returns the whole state as records of StateSchema, allocated
// from mem (nil: the StreamAgg's allocator), and the schema to store with
// them: StateSchema with metadata that Restore needs (the watermark; see
// streamagg_snapshot.go for the layout). The caller owns the records. A
// state without groups has no records. The changed marks are not state
// and are left as they are.
func (s *StreamAgg) Snapshot(ctx context.Context, mem memory.Allocator) (*arrow.Schema, []arrow.Record, error) {
	if s.closed {
		return nil, nil, internalf("stream aggregate used after Close")
	}
	if mem == nil {
		mem = s.mem
	}
	sts := s.sortedStates()
	total := 0
	for _, st := range sts {
		total += st.groups
	}
	keys, vals := []string{stateFormatKey, stateGroupsKey}, []string{stateFormat, strconv.Itoa(total)}
	if s.wmarkSet {
		keys, vals = append(keys, stateWatermarkKey), append(vals, strconv.FormatInt(s.wmark, 10))
	}
	md := arrow.NewMetadata(keys, vals)
	schema := arrow.NewSchema(s.stateSchema.Fields(), &md)

	var out []arrow.Record
	var parts []statePart
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		if err := ctxErr(ctx); err != nil {
			return err
		}
		rec, err := s.snapshotRecord(mem, schema, parts, rows)
		if err != nil {
			return err
		}
		out = append(out, rec)
		clear(parts)
		parts, rows = parts[:0], 0
		return nil
	}
	for _, st := range sts {
		dist, err := s.distinctOrders(st)
		if err != nil {
			releaseRecords(out)
			return nil, nil, err
		}
		for lo := 0; lo < st.groups; {
			hi := min(st.groups, lo+snapshotRows-rows)
			parts = append(parts, statePart{st: st, lo: lo, hi: hi, dist: dist})
			rows += hi - lo
			lo = hi
			if rows == snapshotRows {
				if err := flush(); err != nil {
					releaseRecords(out)
					return nil, nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		releaseRecords(out)
		return nil, nil, err
	}
	return schema, out, nil
}

// sortedStates returns the sub-states in window order.
func (s *StreamAgg) sortedStates() []*aggState {
	if s.win == nil {
		return []*aggState{s.global}
	}
	sts := make([]*aggState, 0, len(s.states))
	for _, st := range s.states {
		sts = append(sts, st)
	}
	slices.SortFunc(sts, func(a, b *aggState) int { return compareWinKeys(a.key, b.key) })
	return sts
}

// statePart is groups [lo, hi) of sub-state st, a piece of a snapshot
// record.
type statePart struct {
	st     *aggState
	lo, hi int
	dist   []*distinctOrder // per aggregate; nil unless DISTINCT
}

// distinctOrder lists the entries of a DISTINCT aggregate's hash table
// by group: the values of group g are entries order[off[g]:off[g+1]], in
// order of first appearance.
type distinctOrder struct {
	off   []int
	order []int32
}

// distinctOrders sorts the DISTINCT values of st by group (a counting
// sort), per aggregate; nil without DISTINCT aggregates.
func (s *StreamAgg) distinctOrders(st *aggState) ([]*distinctOrder, error) {
	var out []*distinctOrder
	for j, t := range st.dsets {
		if t == nil {
			continue
		}
		if out == nil {
			out = make([]*distinctOrder, len(st.dsets))
		}
		prefix := t.kprefix[:t.n]
		off := make([]int, st.groups+1)
		for _, g := range prefix {
			if g < 0 || int(g) >= st.groups {
				return nil, internalf("DISTINCT value of group %d in a state of %d groups", g, st.groups)
			}
			off[g+1]++
		}
		for g := range st.groups {
			off[g+1] += off[g]
		}
		pos := slices.Clone(off[:st.groups])
		order := make([]int32, len(prefix))
		for e, g := range prefix {
			order[pos[g]] = int32(e)
			pos[g]++
		}
		out[j] = &distinctOrder{off: off, order: order}
	}
	return out, nil
}

// snapshotRecord builds the record of the groups of parts, rows in all.
func (s *StreamAgg) snapshotRecord(mem memory.Allocator, schema *arrow.Schema, parts []statePart, rows int) (arrow.Record, error) {
	cols := make([]arrow.Array, 0, schema.NumFields())
	fail := func(err error) (arrow.Record, error) {
		releaseArrays(cols)
		return nil, err
	}
	h := 0
	for i := range s.groupBy {
		dt := s.schema.Field(i).Type
		switch {
		case s.win != nil && i == s.win.StartKey:
			cols = append(cols, windowBoundCol(mem, dt, parts, rows, false))
		case s.win != nil && i == s.win.EndKey:
			cols = append(cols, windowBoundCol(mem, dt, parts, rows, true))
		default:
			arr, err := snapshotKeyCol(mem, dt, parts, h)
			if err != nil {
				return fail(err)
			}
			cols = append(cols, arr)
			h++
		}
	}
	aparts := make([]accPart, len(parts))
	for j, c := range s.aggs {
		for p, part := range parts {
			aparts[p] = accPart{acc: part.st.accs[j], lo: part.lo, hi: part.hi}
		}
		arrs, err := parts[0].st.accs[j].saveState(mem, c.outDT, aparts)
		if err != nil {
			return fail(err)
		}
		cols = append(cols, arrs...)
		if c.distinct {
			lt, ok := schema.Field(len(cols)).Type.(*arrow.ListType)
			if !ok {
				return fail(internalf("DISTINCT state column is %s", schema.Field(len(cols)).Type))
			}
			arr, err := distinctCol(mem, lt, parts, j, rows)
			if err != nil {
				return fail(err)
			}
			cols = append(cols, arr)
		}
	}
	return newRecordOwned(schema, cols, rows)
}

// windowBoundCol builds the window start (or end) column of the groups of
// parts: each part's window bound, once per group.
func windowBoundCol(mem memory.Allocator, dt arrow.DataType, parts []statePart, rows int, end bool) arrow.Array {
	buf, vals := allocFixed[int64](mem, rows)
	var vbuf *memory.Buffer
	var bits []byte
	nulls, i := 0, 0
	for _, p := range parts {
		v, null := p.st.key.start, p.st.key.nulls&1 != 0
		if end {
			v, null = p.st.key.end, p.st.key.nulls&2 != 0
		}
		n := p.hi - p.lo
		switch {
		case null:
			if vbuf == nil {
				vbuf, bits = allocBits(mem, rows)
				bitutil.SetBitsTo(bits, 0, int64(i), true)
			}
			nulls += n
			v = 0
		case vbuf != nil:
			bitutil.SetBitsTo(bits, int64(i), int64(n), true)
		}
		for k := i; k < i+n; k++ {
			vals[k] = v
		}
		i += n
	}
	return newArray(dt, rows, vbuf, nulls, buf)
}

// snapshotKeyCol builds the column of hash-table key h of the groups of
// parts.
func snapshotKeyCol(mem memory.Allocator, dt arrow.DataType, parts []statePart, h int) (arrow.Array, error) {
	switch parts[0].st.ht.cols[h].(type) {
	case *keyColOf[int64]:
		return gatherKeys[int64](mem, dt, parts, h)
	case *keyColOf[float64]:
		return gatherKeys[float64](mem, dt, parts, h)
	case *keyColOf[string]:
		return gatherKeys[string](mem, dt, parts, h)
	case *keyColOf[arrow.MonthDayNanoInterval]:
		return gatherKeys[arrow.MonthDayNanoInterval](mem, dt, parts, h)
	}
	return nil, internalf("unknown key column %T", parts[0].st.ht.cols[h])
}

func gatherKeys[K any](mem memory.Allocator, dt arrow.DataType, parts []statePart, h int) (arrow.Array, error) {
	var vals []K
	var valid []bool
	var c codec[K]
	for _, p := range parts {
		k, ok := p.st.ht.cols[h].(*keyColOf[K])
		if !ok {
			return nil, internalf("key column %T in a snapshot of %T", p.st.ht.cols[h], k)
		}
		c = k.c
		if len(parts) == 1 {
			vals, valid = k.keys[p.lo:p.hi], k.kvalid[p.lo:p.hi]
			break
		}
		vals = append(vals, k.keys[p.lo:p.hi]...)
		valid = append(valid, k.kvalid[p.lo:p.hi]...)
	}
	return c.build(mem, dt, vals, valid)
}

// distinctCol builds the list column of the DISTINCT values of aggregate
// j of the groups of parts.
func distinctCol(mem memory.Allocator, lt *arrow.ListType, parts []statePart, j, rows int) (arrow.Array, error) {
	obuf, offs := allocFixed[int32](mem, rows+1)
	offs[0] = 0
	entries, r := 0, 0
	for _, p := range parts {
		d := p.dist[j]
		for g := p.lo; g < p.hi; g++ {
			entries += d.off[g+1] - d.off[g]
			r++
			offs[r] = int32(entries)
		}
		if entries > math.MaxInt32 {
			obuf.Release()
			return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "state snapshot of more than %d DISTINCT values in %d groups", math.MaxInt32, rows)
		}
	}
	var child arrow.Array
	var err error
	switch parts[0].st.dsets[j].cols[0].(type) {
	case *keyColOf[int64]:
		child, err = gatherDistinct[int64](mem, lt.Elem(), parts, j, entries)
	case *keyColOf[float64]:
		child, err = gatherDistinct[float64](mem, lt.Elem(), parts, j, entries)
	case *keyColOf[string]:
		child, err = gatherDistinct[string](mem, lt.Elem(), parts, j, entries)
	case *keyColOf[arrow.MonthDayNanoInterval]:
		child, err = gatherDistinct[arrow.MonthDayNanoInterval](mem, lt.Elem(), parts, j, entries)
	default:
		err = internalf("unknown key column %T", parts[0].st.dsets[j].cols[0])
	}
	if err != nil {
		obuf.Release()
		return nil, err
	}
	data := array.NewData(lt, rows, []*memory.Buffer{nil, obuf}, []arrow.ArrayData{child.Data()}, 0, 0)
	arr := array.MakeFromData(data)
	data.Release()
	obuf.Release()
	child.Release()
	return arr, nil
}

func gatherDistinct[K any](mem memory.Allocator, dt arrow.DataType, parts []statePart, j, n int) (arrow.Array, error) {
	vals := make([]K, 0, n)
	var c codec[K]
	for _, p := range parts {
		k, ok := p.st.dsets[j].cols[0].(*keyColOf[K])
		if !ok {
			return nil, internalf("DISTINCT column %T in a snapshot of %T", p.st.dsets[j].cols[0], k)
		}
		c = k.c
		d := p.dist[j]
		for _, e := range d.order[d.off[p.lo]:d.off[p.hi]] {
			vals = append(vals, k.keys[e])
		}
	}
	return c.build(mem, dt, vals, nil)
}

// Restore replaces the state with a snapshot's: schema is the schema
// Snapshot returned (its fields must equal StateSchema's, else 55000
// naming the first difference: the snapshot is of another query) and
// recs its records, which are not kept. After Restore the StreamAgg folds
// and emits exactly as the one snapshotted would have; nothing is marked
// changed. On error the state is left as it was. A snapshot that
// contradicts itself (a group twice, a record missing) is XX001.
func (s *StreamAgg) Restore(ctx context.Context, schema *arrow.Schema, recs []arrow.Record) error {
	if s.closed {
		return internalf("stream aggregate used after Close")
	}
	if schema == nil {
		return internalf("restore without a schema")
	}
	if err := s.checkStateSchema("", schema); err != nil {
		return err
	}
	md := schema.Metadata()
	var wmark, groups int64
	wmarkSet, groupsSet := false, false
	if i := md.FindKey(stateWatermarkKey); i >= 0 {
		v, err := strconv.ParseInt(md.Values()[i], 10, 64)
		if err != nil {
			return sqlerr.New(sqlerr.DataCorrupted, "state snapshot watermark %q: %w", md.Values()[i], err)
		}
		wmark, wmarkSet = v, true
	}
	if i := md.FindKey(stateGroupsKey); i >= 0 {
		v, err := strconv.ParseInt(md.Values()[i], 10, 64)
		if err != nil {
			return sqlerr.New(sqlerr.DataCorrupted, "state snapshot group count %q: %w", md.Values()[i], err)
		}
		groups, groupsSet = v, true
	}

	r := &restoring{single: make(map[*aggState]bool)}
	if s.win == nil {
		st, err := s.newState(winKey{})
		if err != nil {
			return err
		}
		if st.ht != nil {
			// Size the accumulators once for all the groups rather than
			// record by record.
			var n int64
			for _, rec := range recs {
				n += rec.NumRows()
			}
			for _, acc := range st.accs {
				acc.resize(int(n))
			}
			st.changed = growTo(st.changed, int(n))
		}
		r.global = st
	} else {
		r.states = make(map[winKey]*aggState)
	}
	var rows int64
	for i, rec := range recs {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		if err := s.checkStateSchema(fmt.Sprintf("record %d: ", i), rec.Schema()); err != nil {
			return err
		}
		if err := s.restoreRecord(r, rec); err != nil {
			return err
		}
		rows += rec.NumRows()
	}
	if groupsSet && rows != groups {
		return sqlerr.New(sqlerr.DataCorrupted, "state snapshot has %d groups in its records, %d in its schema: records are missing", rows, groups)
	}

	// Commit.
	s.global, s.states = r.global, r.states
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	s.wmark, s.wmarkSet = wmark, wmarkSet
	if s.win == nil {
		s.groups = int64(s.global.groups)
	} else {
		s.groups = 0
		for _, st := range s.states {
			s.groups += int64(st.groups)
		}
	}
	return nil
}

// restoring is the state Restore builds.
type restoring struct {
	global *aggState
	states map[winKey]*aggState
	single map[*aggState]bool // sub-states of one group restored
}

// checkStateSchema returns a 55000 error naming the first difference
// between got and StateSchema, or nil when they agree (in fields and
// format); where prefixes the message.
func (s *StreamAgg) checkStateSchema(where string, got *arrow.Schema) error {
	want := s.stateSchema
	wrong := func(format string, args ...any) error {
		return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "state snapshot is of another query: %s%s", where, fmt.Sprintf(format, args...))
	}
	md := got.Metadata()
	if i := md.FindKey(stateFormatKey); i < 0 {
		return wrong("no %s in its schema: not a stream aggregate's state", stateFormatKey)
	} else if f := md.Values()[i]; f != stateFormat {
		return wrong("state format %q, want %q", f, stateFormat)
	}
	for i := range min(want.NumFields(), got.NumFields()) {
		if w, g := want.Field(i), got.Field(i); !w.Equal(g) {
			return wrong("state column %d is %s, this query's is %s", i, fmtStateField(g), fmtStateField(w))
		}
	}
	switch n, m := want.NumFields(), got.NumFields(); {
	case m > n:
		return wrong("it has %d state columns, this query %d: the first extra one is %s", m, n, fmtStateField(got.Field(n)))
	case m < n:
		return wrong("it has %d state columns, this query %d: the first missing one is %s", m, n, fmtStateField(want.Field(m)))
	}
	return nil
}

// fmtStateField prints a field of a state schema: name, type, nullability.
func fmtStateField(f arrow.Field) string {
	if f.Nullable {
		return fmt.Sprintf("%s %s", f.Name, f.Type)
	}
	return fmt.Sprintf("%s %s not null", f.Name, f.Type)
}

// restoreRun is rows [lo, hi) of a snapshot record, groups of st.
type restoreRun struct {
	st     *aggState
	lo, hi int
}

// restoreRecord adds the groups of rec (of StateSchema) to r.
func (s *StreamAgg) restoreRecord(r *restoring, rec arrow.Record) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	cols := rec.Columns()
	runs, err := s.restoreRuns(r, cols, n)
	if err != nil {
		return err
	}
	s.gids = growTo(s.gids, n)
	gids := s.gids[:n]
	hk := make([]arrow.Array, len(s.hkeys))
	for _, rn := range runs {
		st, m := rn.st, rn.hi-rn.lo
		if st.ht == nil {
			if m != 1 || r.single[st] {
				return sqlerr.New(sqlerr.DataCorrupted, "state snapshot holds the group of %s twice", s.fmtWindow(st.key))
			}
			r.single[st] = true
			gids[rn.lo] = 0
			continue
		}
		for i, k := range s.hkeys {
			hk[i] = array.NewSlice(cols[k], int64(rn.lo), int64(rn.hi))
		}
		err := st.ht.bind(hk, nil, m)
		if err == nil {
			s.dnew = growTo(s.dnew, m)
			ins := s.dnew[:m]
			st.ht.findOrInsertAll(gids[rn.lo:rn.hi], ins, false)
			if slices.Contains(ins, false) {
				err = sqlerr.New(sqlerr.DataCorrupted, "state snapshot holds a group of %s twice", s.fmtWindow(st.key))
			}
		}
		releaseArrays(hk)
		clear(hk)
		if err != nil {
			return err
		}
		st.groups = int(st.ht.n)
		st.resize()
	}

	col := len(s.groupBy)
	aruns := make([]accRun, len(runs))
	for j, c := range s.aggs {
		for i, rn := range runs {
			aruns[i] = accRun{acc: rn.st.accs[j], lo: rn.lo, gids: gids[rn.lo:rn.hi]}
		}
		if err := runs[0].st.accs[j].loadState(cols[col:col+c.nstate], aruns); err != nil {
			return err
		}
		col += c.nstate
		if c.distinct {
			if err := s.restoreDistinct(cols[col], runs, gids, j); err != nil {
				return err
			}
			col++
		}
	}
	return nil
}

// restoreRuns cuts the n rows of a snapshot record into runs of one
// sub-state each, making the sub-states new windows need.
func (s *StreamAgg) restoreRuns(r *restoring, cols []arrow.Array, n int) ([]restoreRun, error) {
	if s.win == nil {
		return []restoreRun{{st: r.global, lo: 0, hi: n}}, nil
	}
	startArr, endArr := cols[s.win.StartKey], cols[s.win.EndKey]
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
	var runs []restoreRun
	for lo := 0; lo < n; {
		k := keyAt(lo)
		hi := lo + 1
		for hi < n && keyAt(hi) == k {
			hi++
		}
		st := r.states[k]
		if st == nil {
			var err error
			if st, err = s.newState(k); err != nil {
				return nil, err
			}
			r.states[k] = st
		}
		runs = append(runs, restoreRun{st: st, lo: lo, hi: hi})
		lo = hi
	}
	return runs, nil
}

// restoreDistinct inserts the DISTINCT values of aggregate j (the list
// column col) into the value sets of the runs' groups.
func (s *StreamAgg) restoreDistinct(col arrow.Array, runs []restoreRun, gids []int32, j int) error {
	list, ok := col.(*array.List)
	if !ok {
		return internalf("DISTINCT state column is %s", col.DataType())
	}
	values := list.ListValues()
	var prefix []int32
	for _, rn := range runs {
		start, _ := list.ValueOffsets(rn.lo)
		_, end := list.ValueOffsets(rn.hi - 1)
		m := int(end - start)
		if m == 0 {
			continue
		}
		prefix = prefix[:0]
		for i := rn.lo; i < rn.hi; i++ {
			a, b := list.ValueOffsets(i)
			for range b - a {
				prefix = append(prefix, gids[i])
			}
		}
		if len(prefix) != m {
			return sqlerr.New(sqlerr.DataCorrupted, "state snapshot has DISTINCT value offsets out of order")
		}
		vals := array.NewSlice(values, start, end)
		dset := rn.st.dsets[j]
		err := dset.bind([]arrow.Array{vals}, prefix, m)
		if err == nil {
			s.dents = growTo(s.dents, m)
			s.dnew = growTo(s.dnew, m)
			ins := s.dnew[:m]
			dset.findOrInsertAll(s.dents[:m], ins, true)
			if slices.Contains(ins, false) {
				err = sqlerr.New(sqlerr.DataCorrupted, "state snapshot holds a DISTINCT value twice or NULL in a group of %s", s.fmtWindow(rn.st.key))
			}
		}
		vals.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// fmtWindow names a sub-state in an error message.
func (s *StreamAgg) fmtWindow(k winKey) string {
	if s.win == nil {
		return "the aggregate"
	}
	b := func(v int64, null bool) string {
		if null {
			return "NULL"
		}
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprintf("window [%s, %s)", b(k.start, k.nulls&1 != 0), b(k.end, k.nulls&2 != 0))
}
