package exec

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/planner/plan"
)

// hashAggOp groups its input by the GROUP BY values and computes the
// aggregates per group.
//
// State is columnar. Each input record's group-by arrays are hashed into
// a hashTable that assigns every distinct key a dense group id (NULL keys
// form a group of their own); the result is one group id per row. Each
// aggregate owns typed accumulator slices indexed by group id (a count
// per group, a sum and a seen flag per group, ...) and folds a whole
// record in one loop over (group id, value) pairs. A DISTINCT aggregate
// first passes the rows through a second hashTable keyed by (group id,
// value) and folds only first occurrences.
//
// The operator is blocking: the first Next drains the input, then the
// result (group keys from the hash table, aggregates from the
// accumulators) is handed out in records of at most maxBatchRows rows.
// Without GROUP BY there is exactly one group, so the result is one row
// even over empty input.
type hashAggOp struct {
	input    Operator
	schema   *arrow.Schema
	groupBy  []*expr.Program
	keyTypes []arrow.DataType
	aggs     []*aggSpec
	ht       *hashTable // nil without GROUP BY
	mem      memory.Allocator
	eenv     *expr.Env

	groups int
	gids   []int32
	zeros  []int32 // all-zero group ids, without GROUP BY
	iota   []int32
	sel    []int32
	dents  []int32 // scratch of DISTINCT aggregates
	dnew   []bool

	result arrow.Record
	pos    int64
	closed bool
	out    outRecord
}

var _ Operator = (*hashAggOp)(nil)

// aggSpec is one aggregate call of a hashAggOp.
type aggSpec struct {
	call plan.AggCall
	arg  *expr.Program // nil for count(*)
	acc  accumulator
	dset *hashTable // DISTINCT: the (group id, value) pairs seen
}

func newHashAggOp(input Operator, n *plan.Aggregate, mem memory.Allocator, eenv *expr.Env) (*hashAggOp, error) {
	if len(n.Cols) != len(n.GroupBy)+len(n.Aggs) {
		return nil, internalf("aggregate has %d columns for %d keys and %d aggregates", len(n.Cols), len(n.GroupBy), len(n.Aggs))
	}
	a := &hashAggOp{input: input, schema: schemaOf(n.Cols), mem: mem, eenv: eenv}
	for _, g := range n.GroupBy {
		p, err := expr.Compile(g)
		if err != nil {
			return nil, err
		}
		a.groupBy = append(a.groupBy, p)
		a.keyTypes = append(a.keyTypes, p.Type().Arrow())
	}
	if len(a.groupBy) > 0 {
		ht, err := newHashTable(a.keyTypes, false)
		if err != nil {
			return nil, err
		}
		a.ht = ht
	} else {
		a.groups = 1
	}
	for i, call := range n.Aggs {
		s := &aggSpec{call: call}
		var argType arrow.DataType
		if call.Func != plan.AggCountStar {
			if call.Arg == nil {
				return nil, internalf("aggregate %s has no argument", call.Func)
			}
			p, err := expr.Compile(call.Arg)
			if err != nil {
				return nil, err
			}
			s.arg = p
			argType = p.Type().Arrow()
			if call.Distinct {
				if s.dset, err = newHashTable([]arrow.DataType{argType}, true); err != nil {
					return nil, err
				}
			}
		}
		out := a.schema.Field(len(n.GroupBy) + i).Type
		acc, err := newAccumulator(call.Func, argType, out)
		if err != nil {
			return nil, err
		}
		acc.resize(a.groups)
		s.acc = acc
		a.aggs = append(a.aggs, s)
	}
	return a, nil
}

// Schema implements Operator.
func (a *hashAggOp) Schema() *arrow.Schema { return a.schema }

// Next implements Operator.
func (a *hashAggOp) Next(ctx context.Context) (arrow.Record, error) {
	a.out.release()
	if a.closed {
		return nil, nil
	}
	if a.result == nil {
		if err := a.consume(ctx); err != nil {
			a.closed = true
			return nil, err
		}
	}
	n := a.result.NumRows()
	if a.pos >= n {
		return nil, nil
	}
	end := min(n, a.pos+maxBatchRows)
	var rec arrow.Record
	if a.pos == 0 && end == n {
		a.result.Retain()
		rec = a.result
	} else {
		rec = a.result.NewSlice(a.pos, end)
	}
	a.pos = end
	return a.out.set(rec), nil
}

// consume drains the input into the accumulators and builds the result.
func (a *hashAggOp) consume(ctx context.Context) error {
	for {
		rec, err := a.input.Next(ctx)
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		if err := a.fold(ctx, rec); err != nil {
			return err
		}
	}
	cols := make([]arrow.Array, 0, a.schema.NumFields())
	if a.ht != nil {
		dts := make([]arrow.DataType, len(a.groupBy))
		for i := range dts {
			dts[i] = a.schema.Field(i).Type
		}
		keys, err := a.ht.keyArrays(a.mem, dts)
		if err != nil {
			return err
		}
		cols = append(cols, keys...)
	}
	for i, s := range a.aggs {
		arr, err := s.acc.build(a.mem, a.schema.Field(len(a.groupBy)+i).Type, a.groups)
		if err != nil {
			releaseArrays(cols)
			return err
		}
		cols = append(cols, arr)
	}
	rec, err := newRecordOwned(a.schema, cols, a.groups)
	if err != nil {
		return err
	}
	a.result = rec
	return nil
}

// fold adds one input record to the groups.
func (a *hashAggOp) fold(ctx context.Context, rec arrow.Record) error {
	n := int(rec.NumRows())
	gids, err := a.groupIDs(ctx, rec, n)
	if err != nil {
		return err
	}
	for _, s := range a.aggs {
		s.acc.resize(a.groups)
		if err := a.foldAgg(ctx, s, rec, gids, n); err != nil {
			return err
		}
	}
	return nil
}

// groupIDs returns the group id of every row of rec, adding new groups.
func (a *hashAggOp) groupIDs(ctx context.Context, rec arrow.Record, n int) ([]int32, error) {
	if a.ht == nil {
		if len(a.zeros) < n {
			a.zeros = make([]int32, n)
		}
		return a.zeros[:n], nil
	}
	keys := make([]arrow.Array, len(a.groupBy))
	defer releaseArrays(keys)
	for i, g := range a.groupBy {
		arr, err := g.Eval(ctx, a.eenv, rec)
		if err != nil {
			return nil, err
		}
		keys[i] = arr
	}
	if err := a.ht.bind(keys, nil, n); err != nil {
		return nil, err
	}
	if cap(a.gids) < n {
		a.gids = make([]int32, n)
	}
	gids := a.gids[:n]
	a.ht.findOrInsertAll(gids, nil, false)
	a.groups = int(a.ht.n)
	return gids, nil
}

// foldAgg folds one aggregate over one record.
func (a *hashAggOp) foldAgg(ctx context.Context, s *aggSpec, rec arrow.Record, gids []int32, n int) error {
	rows := iota32(&a.iota, n)
	if s.arg == nil {
		return s.acc.update(gids, nil, rows)
	}
	arg, err := s.arg.Eval(ctx, a.eenv, rec)
	if err != nil {
		return err
	}
	defer arg.Release()
	if s.dset != nil {
		if err := s.dset.bind([]arrow.Array{arg}, gids, n); err != nil {
			return err
		}
		a.dents = growTo(a.dents[:0], n)
		a.dnew = growTo(a.dnew[:0], n)
		s.dset.findOrInsertAll(a.dents, a.dnew, true)
		a.sel = a.sel[:0]
		for i, isNew := range a.dnew {
			if isNew {
				a.sel = append(a.sel, int32(i))
			}
		}
		rows = a.sel
	}
	return s.acc.update(gids, arg, rows)
}

// Close implements Operator.
func (a *hashAggOp) Close() error {
	a.out.release()
	if a.result != nil {
		a.result.Release()
		a.result = nil
	}
	a.closed = true
	return a.input.Close()
}

// accumulator is the per-group state of one aggregate, in typed slices
// indexed by group id.
type accumulator interface {
	// resize makes room for groups [0, groups).
	resize(groups int)
	// update folds rows (indexes into arg and gids) of arg into their
	// groups; arg is nil for count(*).
	update(gids []int32, arg arrow.Array, rows []int32) error
	// build makes the result array of type dt for groups [0, groups).
	build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error)
	// buildSel makes the result array of type dt for the groups gids, in
	// that order (a stream emitting only the groups a batch changed).
	buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error)

	// stateFields describes the partial state of one group as columns
	// whose names start with prefix; out is the result type.
	stateFields(prefix string, out arrow.DataType) []arrow.Field
	// saveState builds the state columns (stateFields) of the groups of
	// parts, one row per group, parts in order; every part's acc has the
	// receiver's type and result type out.
	saveState(mem memory.Allocator, out arrow.DataType, parts []accPart) ([]arrow.Array, error)
	// loadState sets the state of the groups of runs (already sized by
	// resize) from the rows of cols, which are of the types of
	// stateFields; every run's acc has the receiver's type.
	loadState(cols []arrow.Array, runs []accRun) error
}

// The state of every accumulator is plain typed slices indexed by group
// id (no pointers into Arrow memory: strings are owned), so that a
// snapshot writes each slice out as an Arrow column (saveState) and a
// restore reads it back (loadState); see StreamAgg.Snapshot. A flag
// "seen" (the group has a non-NULL value) is written as the validity of
// the value's column: the value of an unseen group is always the zero
// value, so nothing is lost.

// accPart is the groups [lo, hi) of one accumulator, a piece of a
// snapshot record.
type accPart struct {
	acc    accumulator
	lo, hi int
}

// accRun is rows [lo, lo+len(gids)) of a snapshot record, the state of
// groups gids of one accumulator.
type accRun struct {
	acc  accumulator
	lo   int
	gids []int32
}

// saveSums is the state of a sum accumulator: one nullable column of the
// sums, NULL where a group has seen no value. get returns an
// accumulator's sums and seen flags.
func saveSums[A accumulator, T int64 | float64](mem memory.Allocator, dt arrow.DataType, parts []accPart, get func(A) ([]T, []bool)) ([]arrow.Array, error) {
	sums, err := gatherState(parts, func(a A) []T { s, _ := get(a); return s })
	if err != nil {
		return nil, err
	}
	seen, err := gatherState(parts, func(a A) []bool { _, v := get(a); return v })
	if err != nil {
		return nil, err
	}
	return []arrow.Array{fixedFrom(mem, dt, sums, seen)}, nil
}

// loadSums restores what saveSums saved into the groups of runs.
func loadSums[A accumulator, T int64 | float64](col arrow.Array, runs []accRun, vscratch *[]bool, get func(A) ([]T, []bool)) error {
	vals := valuesOf[T](col)
	valid := validityOf(col, vscratch)
	for _, r := range runs {
		a, ok := r.acc.(A)
		if !ok {
			return internalf("accumulator %T in a restore of %T", r.acc, a)
		}
		sums, seen := get(a)
		for i, g := range r.gids {
			if row := r.lo + i; valid == nil || valid[row] {
				sums[g], seen[g] = vals[row], true
			} else {
				sums[g], seen[g] = 0, false
			}
		}
	}
	return nil
}

// gatherState returns the concatenation of f(acc)[lo:hi] over parts,
// whose accumulators are all of type A; with one part, a view of the
// accumulator's slice.
func gatherState[A accumulator, T any](parts []accPart, f func(A) []T) ([]T, error) {
	if len(parts) == 1 {
		p := parts[0]
		a, ok := p.acc.(A)
		if !ok {
			return nil, internalf("accumulator %T in a snapshot of %T", p.acc, a)
		}
		return f(a)[p.lo:p.hi], nil
	}
	n := 0
	for _, p := range parts {
		n += p.hi - p.lo
	}
	out := make([]T, 0, n)
	for _, p := range parts {
		a, ok := p.acc.(A)
		if !ok {
			return nil, internalf("accumulator %T in a snapshot of %T", p.acc, a)
		}
		out = append(out, f(a)[p.lo:p.hi]...)
	}
	return out, nil
}

// checkStateCols checks that cols are one column of each field's type.
func checkStateCols(cols []arrow.Array, fields []arrow.Field) error {
	if len(cols) != len(fields) {
		return internalf("accumulator state of %d columns, got %d", len(fields), len(cols))
	}
	for i, f := range fields {
		if !arrow.TypeEqual(cols[i].DataType(), f.Type) {
			return internalf("accumulator state column %s is %s, want %s", f.Name, cols[i].DataType(), f.Type)
		}
	}
	return nil
}

// newAccumulator returns the accumulator of fn over arguments of type arg
// (nil for count(*)) producing out.
func newAccumulator(fn plan.AggFunc, arg, out arrow.DataType) (accumulator, error) {
	want := arrow.DataType(nil) // the output type fn must have, when fixed
	switch fn {
	case plan.AggCountStar, plan.AggCount:
		want = arrow.PrimitiveTypes.Int64
	case plan.AggAvg:
		want = arrow.PrimitiveTypes.Float64
	case plan.AggSum:
		want = arrow.PrimitiveTypes.Int64
		if arg != nil && (arg.ID() == arrow.FLOAT32 || arg.ID() == arrow.FLOAT64) {
			want = arrow.PrimitiveTypes.Float64
		}
	}
	if want != nil && !arrow.TypeEqual(want, out) {
		return nil, internalf("%s produces %s, not %s", fn, want, out)
	}
	if fn == plan.AggCountStar {
		return &countAcc{star: true}, nil
	}
	cls, err := classOf(arg)
	if err != nil {
		return nil, err
	}
	switch fn {
	case plan.AggCount:
		return &countAcc{}, nil
	case plan.AggSum:
		switch cls {
		case classInt:
			if arg.ID() == arrow.BOOL || arg.ID() == arrow.DATE32 || arg.ID() == arrow.TIMESTAMP {
				break
			}
			return &sumIntAcc{c: intCodec()}, nil
		case classFloat:
			return &sumFloatAcc{c: floatCodec()}, nil
		}
	case plan.AggAvg:
		switch cls {
		case classInt:
			if arg.ID() == arrow.BOOL || arg.ID() == arrow.DATE32 || arg.ID() == arrow.TIMESTAMP {
				break
			}
			return &avgAcc{ints: true, ic: intCodec()}, nil
		case classFloat:
			return &avgAcc{fc: floatCodec()}, nil
		}
	case plan.AggMin, plan.AggMax:
		if !arrow.TypeEqual(arg, out) {
			return nil, internalf("%s of %s cannot produce %s", fn, arg, out)
		}
		isMax := fn == plan.AggMax
		switch cls {
		case classInt:
			return &minMaxAcc[int64]{c: intCodec(), max: isMax}, nil
		case classFloat:
			return &minMaxAcc[float64]{c: floatCodec(), max: isMax}, nil
		case classString:
			return &minMaxAcc[string]{c: stringCodec(), max: isMax}, nil
		case classInterval:
			return &minMaxAcc[arrow.MonthDayNanoInterval]{c: intervalCodec(), max: isMax}, nil
		}
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "aggregate %s is not supported", fn)
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", fn, arg)
}

// growTo extends s with zero values to length n.
func growTo[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	return append(s, make([]T, n-len(s))...)
}

// countAcc is count(*) (star) or count(x).
type countAcc struct {
	star   bool
	counts []int64
}

func (c *countAcc) resize(groups int) { c.counts = growTo(c.counts, groups) }

func (c *countAcc) update(gids []int32, arg arrow.Array, rows []int32) error {
	counts := c.counts
	if c.star || arg.NullN() == 0 {
		for _, r := range rows {
			counts[gids[r]]++
		}
		return nil
	}
	for _, r := range rows {
		if arg.IsValid(int(r)) {
			counts[gids[r]]++
		}
	}
	return nil
}

func (c *countAcc) build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error) {
	if dt.ID() != arrow.INT64 {
		return nil, internalf("count produces bigint, not %s", dt)
	}
	return fixedFrom(mem, dt, c.counts[:groups], nil), nil
}

func (c *countAcc) buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	if dt.ID() != arrow.INT64 {
		return nil, internalf("count produces bigint, not %s", dt)
	}
	return fixedSel(mem, dt, c.counts, nil, gids), nil
}

func (c *countAcc) stateFields(prefix string, _ arrow.DataType) []arrow.Field {
	return []arrow.Field{{Name: prefix, Type: arrow.PrimitiveTypes.Int64}}
}

func (c *countAcc) saveState(mem memory.Allocator, _ arrow.DataType, parts []accPart) ([]arrow.Array, error) {
	counts, err := gatherState(parts, func(a *countAcc) []int64 { return a.counts })
	if err != nil {
		return nil, err
	}
	return []arrow.Array{fixedFrom(mem, arrow.PrimitiveTypes.Int64, counts, nil)}, nil
}

func (c *countAcc) loadState(cols []arrow.Array, runs []accRun) error {
	if err := checkStateCols(cols, c.stateFields("count", nil)); err != nil {
		return err
	}
	counts := valuesOf[int64](cols[0])
	for _, r := range runs {
		a, ok := r.acc.(*countAcc)
		if !ok {
			return internalf("accumulator %T in a restore of %T", r.acc, c)
		}
		for i, g := range r.gids {
			a.counts[g] = counts[r.lo+i]
		}
	}
	return nil
}

// sumIntAcc is sum over SMALLINT, INTEGER or BIGINT, in int64; overflow
// is 22003.
type sumIntAcc struct {
	c        codec[int64]
	sums     []int64
	seen     []bool
	scratch  []int64
	vscratch []bool
}

func (s *sumIntAcc) resize(groups int) {
	s.sums = growTo(s.sums, groups)
	s.seen = growTo(s.seen, groups)
}

func (s *sumIntAcc) update(gids []int32, arg arrow.Array, rows []int32) error {
	vals, err := s.c.load(arg, &s.scratch)
	if err != nil {
		return err
	}
	valid := validityOf(arg, &s.vscratch)
	sums, seen := s.sums, s.seen
	for _, r := range rows {
		if valid != nil && !valid[r] {
			continue
		}
		g := gids[r]
		v := vals[r]
		old := sums[g]
		sum := old + v
		if (old^sum)&(v^sum) < 0 {
			return sqlerr.New(sqlerr.NumericValueOutOfRange, "bigint out of range")
		}
		sums[g] = sum
		seen[g] = true
	}
	return nil
}

func (s *sumIntAcc) build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error) {
	if dt.ID() != arrow.INT64 {
		return nil, internalf("integer sum produces bigint, not %s", dt)
	}
	return fixedFrom(mem, dt, s.sums[:groups], s.seen[:groups]), nil
}

func (s *sumIntAcc) buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	if dt.ID() != arrow.INT64 {
		return nil, internalf("integer sum produces bigint, not %s", dt)
	}
	return fixedSel(mem, dt, s.sums, s.seen, gids), nil
}

func (s *sumIntAcc) stateFields(prefix string, _ arrow.DataType) []arrow.Field {
	return []arrow.Field{{Name: prefix, Type: arrow.PrimitiveTypes.Int64, Nullable: true}}
}

func (s *sumIntAcc) saveState(mem memory.Allocator, _ arrow.DataType, parts []accPart) ([]arrow.Array, error) {
	return saveSums(mem, arrow.PrimitiveTypes.Int64, parts, func(a *sumIntAcc) ([]int64, []bool) { return a.sums, a.seen })
}

func (s *sumIntAcc) loadState(cols []arrow.Array, runs []accRun) error {
	if err := checkStateCols(cols, s.stateFields("sum", nil)); err != nil {
		return err
	}
	return loadSums(cols[0], runs, &s.vscratch, func(a *sumIntAcc) ([]int64, []bool) { return a.sums, a.seen })
}

// sumFloatAcc is sum over REAL or DOUBLE PRECISION, in float64.
type sumFloatAcc struct {
	c        codec[float64]
	sums     []float64
	seen     []bool
	scratch  []float64
	vscratch []bool
}

func (s *sumFloatAcc) resize(groups int) {
	s.sums = growTo(s.sums, groups)
	s.seen = growTo(s.seen, groups)
}

func (s *sumFloatAcc) update(gids []int32, arg arrow.Array, rows []int32) error {
	vals, err := s.c.load(arg, &s.scratch)
	if err != nil {
		return err
	}
	valid := validityOf(arg, &s.vscratch)
	sums, seen := s.sums, s.seen
	for _, r := range rows {
		if valid != nil && !valid[r] {
			continue
		}
		g := gids[r]
		sums[g] += vals[r]
		seen[g] = true
	}
	return nil
}

func (s *sumFloatAcc) build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error) {
	if dt.ID() != arrow.FLOAT64 {
		return nil, internalf("float sum produces double precision, not %s", dt)
	}
	return fixedFrom(mem, dt, s.sums[:groups], s.seen[:groups]), nil
}

func (s *sumFloatAcc) buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	if dt.ID() != arrow.FLOAT64 {
		return nil, internalf("float sum produces double precision, not %s", dt)
	}
	return fixedSel(mem, dt, s.sums, s.seen, gids), nil
}

func (s *sumFloatAcc) stateFields(prefix string, _ arrow.DataType) []arrow.Field {
	return []arrow.Field{{Name: prefix, Type: arrow.PrimitiveTypes.Float64, Nullable: true}}
}

func (s *sumFloatAcc) saveState(mem memory.Allocator, _ arrow.DataType, parts []accPart) ([]arrow.Array, error) {
	return saveSums(mem, arrow.PrimitiveTypes.Float64, parts, func(a *sumFloatAcc) ([]float64, []bool) { return a.sums, a.seen })
}

func (s *sumFloatAcc) loadState(cols []arrow.Array, runs []accRun) error {
	if err := checkStateCols(cols, s.stateFields("sum", nil)); err != nil {
		return err
	}
	return loadSums(cols[0], runs, &s.vscratch, func(a *sumFloatAcc) ([]float64, []bool) { return a.sums, a.seen })
}

// avgAcc is avg, in float64. Integer inputs are summed exactly in int64
// while they fit; a group whose integer sum would overflow moves it into
// its float64 sum and goes on.
type avgAcc struct {
	ints     bool
	ic       codec[int64]
	fc       codec[float64]
	isum     []int64
	fsum     []float64
	counts   []int64
	iscratch []int64
	fscratch []float64
	vscratch []bool
}

func (s *avgAcc) resize(groups int) {
	s.isum = growTo(s.isum, groups)
	s.fsum = growTo(s.fsum, groups)
	s.counts = growTo(s.counts, groups)
}

func (s *avgAcc) update(gids []int32, arg arrow.Array, rows []int32) error {
	valid := validityOf(arg, &s.vscratch)
	if s.ints {
		vals, err := s.ic.load(arg, &s.iscratch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if valid != nil && !valid[r] {
				continue
			}
			g := gids[r]
			v := vals[r]
			old := s.isum[g]
			sum := old + v
			if (old^sum)&(v^sum) < 0 {
				s.fsum[g] += float64(old)
				sum = v
			}
			s.isum[g] = sum
			s.counts[g]++
		}
		return nil
	}
	vals, err := s.fc.load(arg, &s.fscratch)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if valid != nil && !valid[r] {
			continue
		}
		g := gids[r]
		s.fsum[g] += vals[r]
		s.counts[g]++
	}
	return nil
}

func (s *avgAcc) build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error) {
	if dt.ID() != arrow.FLOAT64 {
		return nil, internalf("avg produces double precision, not %s", dt)
	}
	vals := make([]float64, groups)
	valid := make([]bool, groups)
	for g := range vals {
		if c := s.counts[g]; c > 0 {
			vals[g] = (s.fsum[g] + float64(s.isum[g])) / float64(c)
			valid[g] = true
		}
	}
	return fixedFrom(mem, dt, vals, valid), nil
}

func (s *avgAcc) buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	if dt.ID() != arrow.FLOAT64 {
		return nil, internalf("avg produces double precision, not %s", dt)
	}
	vals := make([]float64, len(gids))
	valid := make([]bool, len(gids))
	for i, g := range gids {
		if c := s.counts[g]; c > 0 {
			vals[i] = (s.fsum[g] + float64(s.isum[g])) / float64(c)
			valid[i] = true
		}
	}
	return fixedFrom(mem, dt, vals, valid), nil
}

// stateFields of avg: over integers the exact int64 sum, the float64 sum
// it overflowed into and the count; over floats the sum and the count.
func (s *avgAcc) stateFields(prefix string, _ arrow.DataType) []arrow.Field {
	var fs []arrow.Field
	if s.ints {
		fs = append(fs, arrow.Field{Name: prefix + "_isum", Type: arrow.PrimitiveTypes.Int64})
	}
	return append(fs,
		arrow.Field{Name: prefix + "_fsum", Type: arrow.PrimitiveTypes.Float64},
		arrow.Field{Name: prefix + "_count", Type: arrow.PrimitiveTypes.Int64})
}

func (s *avgAcc) saveState(mem memory.Allocator, _ arrow.DataType, parts []accPart) ([]arrow.Array, error) {
	var out []arrow.Array
	if s.ints {
		isum, err := gatherState(parts, func(a *avgAcc) []int64 { return a.isum })
		if err != nil {
			return nil, err
		}
		out = append(out, fixedFrom(mem, arrow.PrimitiveTypes.Int64, isum, nil))
	}
	fsum, err := gatherState(parts, func(a *avgAcc) []float64 { return a.fsum })
	if err != nil {
		releaseArrays(out)
		return nil, err
	}
	counts, err := gatherState(parts, func(a *avgAcc) []int64 { return a.counts })
	if err != nil {
		releaseArrays(out)
		return nil, err
	}
	return append(out,
		fixedFrom(mem, arrow.PrimitiveTypes.Float64, fsum, nil),
		fixedFrom(mem, arrow.PrimitiveTypes.Int64, counts, nil)), nil
}

func (s *avgAcc) loadState(cols []arrow.Array, runs []accRun) error {
	if err := checkStateCols(cols, s.stateFields("avg", nil)); err != nil {
		return err
	}
	var isum []int64
	if s.ints {
		isum, cols = valuesOf[int64](cols[0]), cols[1:]
	}
	fsum, counts := valuesOf[float64](cols[0]), valuesOf[int64](cols[1])
	for _, r := range runs {
		a, ok := r.acc.(*avgAcc)
		if !ok || a.ints != s.ints {
			return internalf("accumulator %T in a restore of %T", r.acc, s)
		}
		for i, g := range r.gids {
			row := r.lo + i
			if isum != nil {
				a.isum[g] = isum[row]
			}
			a.fsum[g], a.counts[g] = fsum[row], counts[row]
		}
	}
	return nil
}

// minMaxAcc is min or max over any comparable type.
type minMaxAcc[K any] struct {
	c        codec[K]
	max      bool
	vals     []K
	seen     []bool
	scratch  []K
	vscratch []bool
}

func (m *minMaxAcc[K]) resize(groups int) {
	m.vals = growTo(m.vals, groups)
	m.seen = growTo(m.seen, groups)
}

func (m *minMaxAcc[K]) update(gids []int32, arg arrow.Array, rows []int32) error {
	vals, err := m.c.load(arg, &m.scratch)
	if err != nil {
		return err
	}
	valid := validityOf(arg, &m.vscratch)
	want := -1
	if m.max {
		want = 1
	}
	for _, r := range rows {
		if valid != nil && !valid[r] {
			continue
		}
		g := gids[r]
		v := vals[r]
		if m.seen[g] && m.c.cmp(v, m.vals[g])*want <= 0 {
			continue
		}
		if m.c.own != nil {
			v = m.c.own(v)
		}
		m.vals[g] = v
		m.seen[g] = true
	}
	return nil
}

func (m *minMaxAcc[K]) build(mem memory.Allocator, dt arrow.DataType, groups int) (arrow.Array, error) {
	return m.c.build(mem, dt, m.vals[:groups], m.seen[:groups])
}

func (m *minMaxAcc[K]) buildSel(mem memory.Allocator, dt arrow.DataType, gids []int32) (arrow.Array, error) {
	vals := make([]K, len(gids))
	seen := make([]bool, len(gids))
	for i, g := range gids {
		vals[i], seen[i] = m.vals[g], m.seen[g]
	}
	return m.c.build(mem, dt, vals, seen)
}

// stateFields of min and max: the value so far, of the result type, NULL
// while no value was seen.
func (m *minMaxAcc[K]) stateFields(prefix string, out arrow.DataType) []arrow.Field {
	return []arrow.Field{{Name: prefix, Type: out, Nullable: true}}
}

func (m *minMaxAcc[K]) saveState(mem memory.Allocator, out arrow.DataType, parts []accPart) ([]arrow.Array, error) {
	vals, err := gatherState(parts, func(a *minMaxAcc[K]) []K { return a.vals })
	if err != nil {
		return nil, err
	}
	seen, err := gatherState(parts, func(a *minMaxAcc[K]) []bool { return a.seen })
	if err != nil {
		return nil, err
	}
	arr, err := m.c.build(mem, out, vals, seen)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{arr}, nil
}

func (m *minMaxAcc[K]) loadState(cols []arrow.Array, runs []accRun) error {
	if len(cols) != 1 {
		return internalf("min/max state of 1 column, got %d", len(cols))
	}
	vals, err := m.c.load(cols[0], &m.scratch)
	if err != nil {
		return err
	}
	valid := validityOf(cols[0], &m.vscratch)
	for _, r := range runs {
		a, ok := r.acc.(*minMaxAcc[K])
		if !ok {
			return internalf("accumulator %T in a restore of %T", r.acc, m)
		}
		for i, g := range r.gids {
			var v K
			row := r.lo + i
			seen := valid == nil || valid[row]
			if seen {
				v = vals[row]
				if m.c.own != nil {
					v = m.c.own(v)
				}
			}
			a.vals[g], a.seen[g] = v, seen
		}
	}
	return nil
}

// fixedSel builds a fixed-width array of type dt holding vals[g] for each
// g of gids, NULL where valid[g] is false (valid nil: never NULL).
func fixedSel[T fixedT](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool, gids []int32) arrow.Array {
	buf, dst := allocFixed[T](mem, len(gids))
	for i, g := range gids {
		dst[i] = vals[g]
	}
	var vbuf *memory.Buffer
	nulls := 0
	if valid != nil {
		for _, g := range gids {
			if !valid[g] {
				nulls++
			}
		}
		if nulls > 0 {
			var bits []byte
			vbuf, bits = allocBits(mem, len(gids))
			for i, g := range gids {
				if valid[g] {
					bitutil.SetBit(bits, i)
				}
			}
		}
	}
	return newArray(dt, len(gids), vbuf, nulls, buf)
}
