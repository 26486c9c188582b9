package exec

import (
	"cmp"
	"context"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/exec/expr"
)

// sortOp orders its input by its keys. It is blocking: the first Next
// drains the input and concatenates it into one record, evaluates the
// key expressions over it, and sorts a permutation of row numbers with a
// comparator that walks the keys (typed slices, no per-row boxing) and
// breaks ties by row number, which makes the sort stable. The output is
// gathered from the permutation in records of at most maxBatchRows rows.
type sortOp struct {
	input Operator
	keys  []sortKey
	mem   memory.Allocator
	eenv  *expr.Env

	sorted arrow.Record // all input rows, in input order
	perm   []int32
	pos    int
	closed bool
	out    outRecord
}

var _ Operator = (*sortOp)(nil)

// sortKey is one ORDER BY key.
type sortKey struct {
	prog       *expr.Program
	desc       bool
	nullsFirst bool
}

// Schema implements Operator.
func (s *sortOp) Schema() *arrow.Schema { return s.input.Schema() }

// Next implements Operator.
func (s *sortOp) Next(ctx context.Context) (arrow.Record, error) {
	s.out.release()
	if s.closed {
		return nil, nil
	}
	if s.sorted == nil {
		if err := s.sort(ctx); err != nil {
			s.closed = true
			return nil, err
		}
	}
	if s.pos >= len(s.perm) {
		return nil, nil
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	end := min(len(s.perm), s.pos+maxBatchRows)
	rec, err := takeRecord(s.mem, s.Schema(), s.sorted, s.perm[s.pos:end])
	if err != nil {
		return nil, err
	}
	s.pos = end
	return s.out.set(rec), nil
}

// sort drains the input and computes the permutation.
func (s *sortOp) sort(ctx context.Context) error {
	var recs []arrow.Record
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for {
		rec, err := s.input.Next(ctx)
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	all, err := concatRecords(s.mem, s.Schema(), recs)
	if err != nil {
		return err
	}
	s.sorted = all
	n := int(all.NumRows())
	s.perm = make([]int32, n)
	for i := range s.perm {
		s.perm[i] = int32(i)
	}
	if n < 2 || len(s.keys) == 0 {
		return nil
	}
	arrs := make([]arrow.Array, len(s.keys))
	defer releaseArrays(arrs)
	cols := make([]sortCol, len(s.keys))
	for i, k := range s.keys {
		a, err := k.prog.Eval(ctx, s.eenv, all)
		if err != nil {
			return err
		}
		arrs[i] = a
		if cols[i], err = newSortCol(a, k.desc, k.nullsFirst); err != nil {
			return err
		}
	}
	slices.SortFunc(s.perm, func(a, b int32) int {
		for _, c := range cols {
			if r := c.compare(a, b); r != 0 {
				return r
			}
		}
		return cmp.Compare(a, b)
	})
	return ctxErr(ctx)
}

// Close implements Operator.
func (s *sortOp) Close() error {
	s.out.release()
	if s.sorted != nil {
		s.sorted.Release()
		s.sorted = nil
	}
	s.perm = nil
	s.closed = true
	return s.input.Close()
}

// sortCol compares two rows by one key.
type sortCol interface {
	compare(a, b int32) int
}

// newSortCol returns the comparator of one evaluated key. The array must
// outlive the comparator.
func newSortCol(a arrow.Array, desc, nullsFirst bool) (sortCol, error) {
	cls, err := classOf(a.DataType())
	if err != nil {
		return nil, err
	}
	switch cls {
	case classInt:
		return makeSortCol(intCodec(), a, desc, nullsFirst)
	case classFloat:
		return makeSortCol(floatCodec(), a, desc, nullsFirst)
	case classString:
		return makeSortCol(stringCodec(), a, desc, nullsFirst)
	default:
		return makeSortCol(intervalCodec(), a, desc, nullsFirst)
	}
}

func makeSortCol[K any](c codec[K], a arrow.Array, desc, nullsFirst bool) (sortCol, error) {
	var scratch []K
	vals, err := c.load(a, &scratch)
	if err != nil {
		return nil, err
	}
	var vscratch []bool
	col := &sortColOf[K]{vals: vals, valid: validityOf(a, &vscratch), cmp: c.cmp, dir: 1, nulls: 1}
	if desc {
		col.dir = -1
	}
	if nullsFirst {
		col.nulls = -1
	}
	return col, nil
}

// sortColOf compares rows of one key of codec type K. dir is 1 for ASC
// and -1 for DESC; nulls is -1 when NULLs come first, 1 when last
// (independent of dir, as the plan states it).
type sortColOf[K any] struct {
	vals  []K
	valid []bool
	cmp   func(a, b K) int
	dir   int
	nulls int
}

func (c *sortColOf[K]) compare(a, b int32) int {
	if c.valid != nil {
		na, nb := !c.valid[a], !c.valid[b]
		switch {
		case na && nb:
			return 0
		case na:
			return c.nulls
		case nb:
			return -c.nulls
		}
	}
	return c.dir * c.cmp(c.vals[a], c.vals[b])
}
