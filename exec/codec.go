package exec

import (
	"cmp"
	"hash/maphash"
	"math"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// A codec is how one class of SQL values is read out of Arrow arrays into
// a Go slice, compared, hashed, and written back into an array. The hash
// tables (group keys, DISTINCT, join keys), the min/max accumulators and
// the sort comparators are generic over the codec's value type K, so each
// is written once and runs over a typed slice without per-row interface
// calls.
//
// The classes and their value types:
//
//	classInt      int64    BOOLEAN (0/1), SMALLINT, INTEGER, BIGINT, DATE (days), TIMESTAMP (µs)
//	classFloat    float64  REAL, DOUBLE PRECISION
//	classString   string   TEXT, VARCHAR (bytewise order, C collation)
//	classInterval arrow.MonthDayNanoInterval  INTERVAL (PostgreSQL order: 1 month = 30 days)
//
// Equality is SQL equality for grouping: floats treat -0 = 0 and NaN =
// NaN; NaN sorts above every other float, as in PostgreSQL. NULLs are
// handled by the users of a codec, never by the codec.
type codec[K any] struct {
	// load returns the values of a (NULL slots hold arbitrary values),
	// either a view of a's buffer or a conversion into *scratch.
	load func(a arrow.Array, scratch *[]K) ([]K, error)
	eq   func(a, b K) bool
	hash func(v K) uint64
	cmp  func(a, b K) int
	// own copies a value that may point into an Arrow buffer so that it
	// can be kept after the array is released; nil when values are plain.
	own func(v K) K
	// build makes an array of type dt from values and validity (nil: all
	// valid).
	build func(mem memory.Allocator, dt arrow.DataType, vals []K, valid []bool) (arrow.Array, error)
}

type valueClass uint8

const (
	classInt valueClass = iota + 1
	classFloat
	classString
	classInterval
)

// classOf returns the codec class of an Arrow type.
func classOf(dt arrow.DataType) (valueClass, error) {
	switch dt.ID() {
	case arrow.BOOL, arrow.INT16, arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIMESTAMP:
		return classInt, nil
	case arrow.FLOAT32, arrow.FLOAT64:
		return classFloat, nil
	case arrow.STRING:
		return classString, nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return classInterval, nil
	}
	return 0, sqlerr.New(sqlerr.FeatureNotSupported, "values of arrow type %s cannot be compared", dt)
}

// nullHash is the hash of a NULL key value.
const nullHash uint64 = 0x6a09e667f3bcc909

// mix64 is the splitmix64 finaliser: a cheap, well-mixed hash of 64 bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashInt is the hash of an integer-class value.
func hashInt(v int64) uint64 { return mix64(uint64(v)) }

// combineHash folds the hash of one more key column into h.
func combineHash(h, v uint64) uint64 { return h*0x9e3779b97f4a7c15 ^ v }

// widen converts narrow integers into *scratch.
func widen[S int16 | int32](src []S, scratch *[]int64) []int64 {
	if cap(*scratch) < len(src) {
		*scratch = make([]int64, len(src))
	}
	dst := (*scratch)[:len(src)]
	for i, v := range src {
		dst[i] = int64(v)
	}
	return dst
}

// intCodec is the codec of classInt.
func intCodec() codec[int64] {
	return codec[int64]{
		load: func(a arrow.Array, scratch *[]int64) ([]int64, error) {
			switch a.DataType().ID() {
			case arrow.INT64, arrow.TIMESTAMP:
				return valuesOf[int64](a), nil
			case arrow.INT32, arrow.DATE32:
				return widen(valuesOf[int32](a), scratch), nil
			case arrow.INT16:
				return widen(valuesOf[int16](a), scratch), nil
			case arrow.BOOL:
				n := a.Len()
				if cap(*scratch) < n {
					*scratch = make([]int64, n)
				}
				dst := (*scratch)[:n]
				d := a.Data()
				var bits []byte
				if b := d.Buffers()[1]; b != nil {
					bits = b.Bytes()
				}
				for i := range dst {
					dst[i] = 0
					if bitutil.BitIsSet(bits, d.Offset()+i) {
						dst[i] = 1
					}
				}
				return dst, nil
			}
			return nil, internalf("integer codec cannot read %s", a.DataType())
		},
		eq:   func(a, b int64) bool { return a == b },
		hash: hashInt,
		cmp:  cmp.Compare[int64],
		build: func(mem memory.Allocator, dt arrow.DataType, vals []int64, valid []bool) (arrow.Array, error) {
			switch dt.ID() {
			case arrow.INT64, arrow.TIMESTAMP:
				return fixedFrom(mem, dt, vals, valid), nil
			case arrow.INT32, arrow.DATE32:
				return convertFrom[int32](mem, dt, vals, valid), nil
			case arrow.INT16:
				return convertFrom[int16](mem, dt, vals, valid), nil
			case arrow.BOOL:
				vbuf, nulls := validityBuf(mem, valid)
				buf, bits := allocBits(mem, len(vals))
				for i, v := range vals {
					if v != 0 {
						bitutil.SetBit(bits, i)
					}
				}
				return newArray(dt, len(vals), vbuf, nulls, buf), nil
			}
			return nil, internalf("integer codec cannot build %s", dt)
		},
	}
}

// floatKey returns the bits of f with -0 folded into 0 and every NaN into
// one NaN, so that equal floats (for grouping) have equal keys.
func floatKey(f float64) uint64 {
	if f == 0 {
		return 0
	}
	if f != f {
		return 0x7ff8000000000001
	}
	return math.Float64bits(f)
}

// cmpFloat orders floats as PostgreSQL does: NaN above everything, NaN
// equal to NaN, -0 equal to 0.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	default:
		return -1
	}
}

// floatCodec is the codec of classFloat.
func floatCodec() codec[float64] {
	return codec[float64]{
		load: func(a arrow.Array, scratch *[]float64) ([]float64, error) {
			switch a.DataType().ID() {
			case arrow.FLOAT64:
				return valuesOf[float64](a), nil
			case arrow.FLOAT32:
				src := valuesOf[float32](a)
				if cap(*scratch) < len(src) {
					*scratch = make([]float64, len(src))
				}
				dst := (*scratch)[:len(src)]
				for i, v := range src {
					dst[i] = float64(v)
				}
				return dst, nil
			}
			return nil, internalf("float codec cannot read %s", a.DataType())
		},
		eq:   func(a, b float64) bool { return a == b || (a != a && b != b) },
		hash: func(v float64) uint64 { return mix64(floatKey(v)) },
		cmp:  cmpFloat,
		build: func(mem memory.Allocator, dt arrow.DataType, vals []float64, valid []bool) (arrow.Array, error) {
			switch dt.ID() {
			case arrow.FLOAT64:
				return fixedFrom(mem, dt, vals, valid), nil
			case arrow.FLOAT32:
				return convertFrom[float32](mem, dt, vals, valid), nil
			}
			return nil, internalf("float codec cannot build %s", dt)
		},
	}
}

// stringCodec is the codec of classString. Loaded strings point into the
// array's buffer; own copies them.
func stringCodec() codec[string] {
	seed := maphash.MakeSeed()
	return codec[string]{
		load: func(a arrow.Array, scratch *[]string) ([]string, error) {
			s, ok := a.(*array.String)
			if !ok {
				return nil, internalf("string codec cannot read %s", a.DataType())
			}
			n := s.Len()
			if cap(*scratch) < n {
				*scratch = make([]string, n)
			}
			dst := (*scratch)[:n]
			for i := range dst {
				dst[i] = s.Value(i)
			}
			return dst, nil
		},
		eq:   func(a, b string) bool { return a == b },
		hash: func(v string) uint64 { return maphash.String(seed, v) },
		cmp:  strings.Compare,
		own:  strings.Clone,
		build: func(mem memory.Allocator, dt arrow.DataType, vals []string, valid []bool) (arrow.Array, error) {
			if dt.ID() != arrow.STRING {
				return nil, internalf("string codec cannot build %s", dt)
			}
			return stringsFrom(mem, dt, vals, valid), nil
		},
	}
}

// stringsFrom builds a string array from Go strings.
func stringsFrom(mem memory.Allocator, dt arrow.DataType, vals []string, valid []bool) arrow.Array {
	vbuf, nulls := validityBuf(mem, valid)
	total := 0
	for i, v := range vals {
		if valid == nil || valid[i] {
			total += len(v)
		}
	}
	obuf, offs := allocFixed[int32](mem, len(vals)+1)
	dbuf := memory.NewResizableBuffer(mem)
	dbuf.Resize(total)
	data := dbuf.Bytes()
	pos := 0
	offs[0] = 0
	for i, v := range vals {
		if valid == nil || valid[i] {
			pos += copy(data[pos:], v)
		}
		offs[i+1] = int32(pos)
	}
	return newArray(dt, len(vals), vbuf, nulls, obuf, dbuf)
}

const nanosPerDay = 86400 * 1_000_000_000

// intervalKey is the PostgreSQL comparison value of an interval (months
// count 30 days) as whole days and the nanoseconds left over, so that
// equal spans written differently ('1 month', '30 days') compare equal.
func intervalKey(v arrow.MonthDayNanoInterval) (days, nanos int64) {
	q, r := v.Nanoseconds/nanosPerDay, v.Nanoseconds%nanosPerDay
	if r < 0 {
		q--
		r += nanosPerDay
	}
	return int64(v.Months)*30 + int64(v.Days) + q, r
}

// intervalCodec is the codec of classInterval.
func intervalCodec() codec[arrow.MonthDayNanoInterval] {
	return codec[arrow.MonthDayNanoInterval]{
		load: func(a arrow.Array, _ *[]arrow.MonthDayNanoInterval) ([]arrow.MonthDayNanoInterval, error) {
			if a.DataType().ID() != arrow.INTERVAL_MONTH_DAY_NANO {
				return nil, internalf("interval codec cannot read %s", a.DataType())
			}
			return valuesOf[arrow.MonthDayNanoInterval](a), nil
		},
		eq: func(a, b arrow.MonthDayNanoInterval) bool {
			ad, an := intervalKey(a)
			bd, bn := intervalKey(b)
			return ad == bd && an == bn
		},
		hash: func(v arrow.MonthDayNanoInterval) uint64 {
			d, n := intervalKey(v)
			return combineHash(mix64(uint64(d)), mix64(uint64(n)))
		},
		cmp: func(a, b arrow.MonthDayNanoInterval) int {
			ad, an := intervalKey(a)
			bd, bn := intervalKey(b)
			if c := cmp.Compare(ad, bd); c != 0 {
				return c
			}
			return cmp.Compare(an, bn)
		},
		build: func(mem memory.Allocator, dt arrow.DataType, vals []arrow.MonthDayNanoInterval, valid []bool) (arrow.Array, error) {
			if dt.ID() != arrow.INTERVAL_MONTH_DAY_NANO {
				return nil, internalf("interval codec cannot build %s", dt)
			}
			return fixedFrom(mem, dt, vals, valid), nil
		},
	}
}
