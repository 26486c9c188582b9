package expr

import (
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// inNode is "a IN (v1, v2, ...)" over a list of constants (literals and
// parameters): a hash set of the list, built once per program for
// literals and once per call for parameters. SQL semantics: true if a
// equals some v, else NULL if a or any v is NULL, else false. A list with
// other expressions is compiled as an OR of equalities instead.
type inNode struct {
	arg  node
	list []node
	t    sqltypes.Type
	lit  *inSet // the set when the list holds only literals
}

var _ node = (*inNode)(nil)

func (n *inNode) fallible() bool { return n.arg.fallible() }

// inSet is a set of non-NULL values keyed by their physical form.
type inSet struct {
	hasNull bool
	ints    map[int64]struct{}
	floats  map[uint64]struct{}
	strs    map[string]struct{}
	bools   [2]bool
	ivs     map[[2]uint64]struct{}
}

// newInSet builds the set of normalized Go values of type t.
func newInSet(t sqltypes.Type, vals []any) *inSet {
	s := &inSet{}
	for _, v := range vals {
		if v == nil {
			s.hasNull = true
			continue
		}
		s.add(t, physValue(t, v))
	}
	return s
}

func (s *inSet) add(t sqltypes.Type, p any) {
	switch x := p.(type) {
	case bool:
		s.bools[b2u8(x)] = true
	case int16:
		s.addInt(int64(x))
	case int32:
		s.addInt(int64(x))
	case int64:
		s.addInt(x)
	case float32:
		s.addFloat(float64(x))
	case float64:
		s.addFloat(x)
	case string:
		if s.strs == nil {
			s.strs = map[string]struct{}{}
		}
		s.strs[x] = struct{}{}
	case arrow.MonthDayNanoInterval:
		if s.ivs == nil {
			s.ivs = map[[2]uint64]struct{}{}
		}
		s.ivs[ivKey(x)] = struct{}{}
	}
}

func (s *inSet) addInt(x int64) {
	if s.ints == nil {
		s.ints = map[int64]struct{}{}
	}
	s.ints[x] = struct{}{}
}

func (s *inSet) addFloat(x float64) {
	if s.floats == nil {
		s.floats = map[uint64]struct{}{}
	}
	s.floats[floatKey(x)] = struct{}{}
}

// floatKey makes equal floats (PostgreSQL's equality: NaN = NaN, -0 = 0)
// equal keys.
func floatKey(x float64) uint64 {
	switch {
	case x != x:
		return math.Float64bits(math.NaN())
	case x == 0:
		return 0
	}
	return math.Float64bits(x)
}

// ivKey makes intervals of equal span ('1 mon' = '30 days') equal keys.
func ivKey(v arrow.MonthDayNanoInterval) [2]uint64 {
	hi, lo := intervalSpan(v)
	return [2]uint64{uint64(hi), lo}
}

// member returns a function reporting whether row i of arr is in the set.
func (s *inSet) member(t sqltypes.Type, arr arrow.Array) func(i int) bool {
	switch t.Kind {
	case sqltypes.KindBool:
		bits := boolValues(arr)
		return func(i int) bool { return s.bools[b2u8(bits.get(i))] }
	case sqltypes.KindInt16:
		v := values[int16](arr)
		return func(i int) bool { _, ok := s.ints[int64(v[i])]; return ok }
	case sqltypes.KindInt32, sqltypes.KindDate:
		v := values[int32](arr)
		return func(i int) bool { _, ok := s.ints[int64(v[i])]; return ok }
	case sqltypes.KindInt64, sqltypes.KindTimestamp:
		v := values[int64](arr)
		return func(i int) bool { _, ok := s.ints[v[i]]; return ok }
	case sqltypes.KindFloat32:
		v := values[float32](arr)
		return func(i int) bool { _, ok := s.floats[floatKey(float64(v[i]))]; return ok }
	case sqltypes.KindFloat64:
		v := values[float64](arr)
		return func(i int) bool { _, ok := s.floats[floatKey(v[i])]; return ok }
	case sqltypes.KindInterval:
		v := values[arrow.MonthDayNanoInterval](arr)
		return func(i int) bool { _, ok := s.ivs[ivKey(v[i])]; return ok }
	}
	a := arr.(*array.String)
	return func(i int) bool { _, ok := s.strs[a.Value(i)]; return ok }
}

func (n *inNode) eval(st *state, b *batch) (vec, error) {
	set := n.lit
	if set == nil {
		vals := make([]any, len(n.list))
		for i, e := range n.list {
			v, err := e.eval(st, b)
			if err != nil {
				return vec{}, err
			}
			vals[i] = v.c // list nodes are constants
		}
		set = newInSet(n.t, vals)
	}
	a, err := n.arg.eval(st, b)
	if err != nil {
		return vec{}, err
	}
	defer a.release()
	rows := b.n
	arr := a.arr
	if arr == nil {
		if a.c == nil {
			return constVec(nil), nil
		}
		one, err := ScalarToArray(st.mem, n.t, a.c, 1)
		if err != nil {
			return vec{}, err
		}
		defer one.Release()
		arr, rows = one, 1
	}
	member := set.member(n.t, arr)
	valid := validityOf(arr)
	val := make([]byte, boolBytes(rows))
	var ok []byte
	if valid.b != nil || set.hasNull {
		ok = make([]byte, len(val))
	}
	for i := 0; i < rows; i++ {
		if !valid.get(i) {
			continue
		}
		in := member(i)
		val[i>>3] |= b2u8(in) << (i & 7)
		if ok != nil {
			ok[i>>3] |= b2u8(in || !set.hasNull) << (i & 7)
		}
	}
	res := boolArray(st, rows, val, ok)
	if a.arr == nil {
		defer res.Release()
		return constVec(ValueAt(res, 0)), nil
	}
	return vec{arr: res}, nil
}
