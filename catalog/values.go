package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// This file is the one place that knows how a Go value of a SQL type
// (see package sqltypes) is checked, normalised, encoded into the
// write-ahead log and into primary-key strings, appended to an Arrow
// builder, and read back from an Arrow array.

const (
	microsPerDay = 86400 * 1_000_000
	secsPerDay   = 86400
)

// normalize checks that v is a Go value of column c's type that the column
// accepts and returns it in canonical form: REAL rounded to float32
// precision, TIMESTAMP truncated to microseconds in UTC, DATE at midnight
// UTC. table names the relation in error messages.
func normalize(table string, c *ColumnDef, v any) (any, error) {
	if v == nil {
		if c.NotNull {
			return nil, sqlerr.New(sqlerr.NotNullViolation,
				"null value in column \"%s\" of relation \"%s\" violates not-null constraint", c.Name, table)
		}
		return nil, nil
	}
	mismatch := func() error {
		return sqlerr.New(sqlerr.DatatypeMismatch,
			"column \"%s\" is of type %s but value is of Go type %T", c.Name, c.Type, v)
	}
	switch c.Type.Kind {
	case sqltypes.KindBool:
		if _, ok := v.(bool); !ok {
			return nil, mismatch()
		}
		return v, nil
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		n, ok := v.(int64)
		if !ok {
			return nil, mismatch()
		}
		switch {
		case c.Type.Kind == sqltypes.KindInt16 && (n < math.MinInt16 || n > math.MaxInt16):
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "smallint out of range")
		case c.Type.Kind == sqltypes.KindInt32 && (n < math.MinInt32 || n > math.MaxInt32):
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "integer out of range")
		}
		return n, nil
	case sqltypes.KindFloat32:
		f, ok := v.(float64)
		if !ok {
			return nil, mismatch()
		}
		r := float32(f)
		if math.IsInf(float64(r), 0) && !math.IsInf(f, 0) {
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
		}
		if r == 0 && f != 0 {
			return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
		}
		return float64(r), nil
	case sqltypes.KindFloat64:
		if _, ok := v.(float64); !ok {
			return nil, mismatch()
		}
		return v, nil
	case sqltypes.KindText:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, sqlerr.New(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
		}
		if c.Type.Width > 0 && utf8.RuneCountInString(s) > c.Type.Width {
			return nil, sqlerr.New(sqlerr.StringDataRightTruncation,
				"value too long for type character varying(%d)", c.Type.Width)
		}
		return s, nil
	case sqltypes.KindTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch()
		}
		us, ok := unixMicros(t)
		if !ok {
			return nil, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
		}
		return time.UnixMicro(us).UTC(), nil
	case sqltypes.KindDate:
		t, ok := v.(time.Time)
		if !ok {
			return nil, mismatch()
		}
		days := floorDiv(t.Unix(), secsPerDay)
		if days < math.MinInt32 || days > math.MaxInt32 {
			return nil, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
		}
		return time.Unix(days*secsPerDay, 0).UTC(), nil
	case sqltypes.KindInterval:
		iv, ok := v.(sqltypes.Interval)
		if !ok {
			return nil, mismatch()
		}
		if iv.Micros > math.MaxInt64/1000 || iv.Micros < math.MinInt64/1000 {
			return nil, sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
		}
		return iv, nil
	}
	return nil, sqlerr.New(sqlerr.InternalError, "column \"%s\" has unsupported type %s", c.Name, c.Type)
}

// unixMicros returns t as microseconds since the Unix epoch, truncating
// nanoseconds; ok is false when that does not fit an int64.
func unixMicros(t time.Time) (int64, bool) {
	sec := t.Unix()
	if sec > math.MaxInt64/1_000_000-1 || sec < math.MinInt64/1_000_000+1 {
		return 0, false
	}
	return sec*1_000_000 + int64(t.Nanosecond())/1000, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// appendValue appends the log encoding of a non-nil normalised value of
// type t. Floats keep their exact bits.
func appendValue(b []byte, t sqltypes.Type, v any) []byte {
	switch t.Kind {
	case sqltypes.KindBool:
		if v.(bool) {
			return append(b, 1)
		}
		return append(b, 0)
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		return binary.AppendVarint(b, v.(int64))
	case sqltypes.KindFloat32, sqltypes.KindFloat64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.(float64)))
	case sqltypes.KindText:
		s := v.(string)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	case sqltypes.KindTimestamp:
		us, _ := unixMicros(v.(time.Time))
		return binary.AppendVarint(b, us)
	case sqltypes.KindDate:
		return binary.AppendVarint(b, floorDiv(v.(time.Time).Unix(), secsPerDay))
	case sqltypes.KindInterval:
		iv := v.(sqltypes.Interval)
		b = binary.AppendVarint(b, int64(iv.Months))
		b = binary.AppendVarint(b, int64(iv.Days))
		return binary.AppendVarint(b, iv.Micros)
	}
	panic(fmt.Sprintf("catalog: appendValue of unsupported type %s", t)) // unreachable: defs are validated
}

var errShortValue = errors.New("truncated value")

// decodeValue decodes one value written by appendValue.
func decodeValue(b []byte, t sqltypes.Type) (any, []byte, error) {
	varint := func() (int64, error) {
		n, k := binary.Varint(b)
		if k <= 0 {
			return 0, errShortValue
		}
		b = b[k:]
		return n, nil
	}
	switch t.Kind {
	case sqltypes.KindBool:
		if len(b) < 1 || b[0] > 1 {
			return nil, nil, errShortValue
		}
		return b[0] == 1, b[1:], nil
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		n, err := varint()
		return n, b, err
	case sqltypes.KindFloat32, sqltypes.KindFloat64:
		if len(b) < 8 {
			return nil, nil, errShortValue
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:], nil
	case sqltypes.KindText:
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return nil, nil, errShortValue
		}
		return string(b[k : k+int(n)]), b[k+int(n):], nil
	case sqltypes.KindTimestamp:
		us, err := varint()
		return time.UnixMicro(us).UTC(), b, err
	case sqltypes.KindDate:
		d, err := varint()
		return time.Unix(d*secsPerDay, 0).UTC(), b, err
	case sqltypes.KindInterval:
		var f [3]int64
		for i := range f {
			n, err := varint()
			if err != nil {
				return nil, nil, err
			}
			f[i] = n
		}
		return sqltypes.Interval{Months: int32(f[0]), Days: int32(f[1]), Micros: f[2]}, b, nil
	}
	return nil, nil, fmt.Errorf("unsupported type %s", t)
}

// appendKeyValue appends the primary-key encoding of a non-nil normalised
// value: the log encoding, except that floats compare as SQL does (-0 equals
// 0, all NaNs are one value). Every value is self-delimiting, so the
// concatenation over the key columns is unambiguous.
func appendKeyValue(b []byte, t sqltypes.Type, v any) []byte {
	if t.IsFloat() {
		f := v.(float64)
		switch {
		case f == 0:
			f = 0
		case math.IsNaN(f):
			f = math.NaN()
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	return appendValue(b, t, v)
}

// newBuilder returns an Arrow builder for values of t.
func newBuilder(mem memory.Allocator, t sqltypes.Type) array.Builder {
	return array.NewBuilder(mem, t.Arrow())
}

// appendToBuilder appends a normalised value (or nil) of type t.
func appendToBuilder(b array.Builder, t sqltypes.Type, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch t.Kind {
	case sqltypes.KindBool:
		b.(*array.BooleanBuilder).Append(v.(bool))
	case sqltypes.KindInt16:
		b.(*array.Int16Builder).Append(int16(v.(int64)))
	case sqltypes.KindInt32:
		b.(*array.Int32Builder).Append(int32(v.(int64)))
	case sqltypes.KindInt64:
		b.(*array.Int64Builder).Append(v.(int64))
	case sqltypes.KindFloat32:
		b.(*array.Float32Builder).Append(float32(v.(float64)))
	case sqltypes.KindFloat64:
		b.(*array.Float64Builder).Append(v.(float64))
	case sqltypes.KindText:
		b.(*array.StringBuilder).Append(v.(string))
	case sqltypes.KindTimestamp:
		us, _ := unixMicros(v.(time.Time))
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(us))
	case sqltypes.KindDate:
		b.(*array.Date32Builder).Append(arrow.Date32(floorDiv(v.(time.Time).Unix(), secsPerDay)))
	case sqltypes.KindInterval:
		iv := v.(sqltypes.Interval)
		b.(*array.MonthDayNanoIntervalBuilder).Append(arrow.MonthDayNanoInterval{
			Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000,
		})
	default:
		panic(fmt.Sprintf("catalog: appendToBuilder of unsupported type %s", t)) // unreachable: defs are validated
	}
}

// valueAt returns the Go value at row i of arr, which holds values of t.
func valueAt(arr arrow.Array, t sqltypes.Type, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch t.Kind {
	case sqltypes.KindBool:
		return arr.(*array.Boolean).Value(i)
	case sqltypes.KindInt16:
		return int64(arr.(*array.Int16).Value(i))
	case sqltypes.KindInt32:
		return int64(arr.(*array.Int32).Value(i))
	case sqltypes.KindInt64:
		return arr.(*array.Int64).Value(i)
	case sqltypes.KindFloat32:
		return float64(arr.(*array.Float32).Value(i))
	case sqltypes.KindFloat64:
		return arr.(*array.Float64).Value(i)
	case sqltypes.KindText:
		return arr.(*array.String).Value(i)
	case sqltypes.KindTimestamp:
		return time.UnixMicro(int64(arr.(*array.Timestamp).Value(i))).UTC()
	case sqltypes.KindDate:
		return time.Unix(int64(arr.(*array.Date32).Value(i))*secsPerDay, 0).UTC()
	case sqltypes.KindInterval:
		v := arr.(*array.MonthDayNanoInterval).Value(i)
		return sqltypes.Interval{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}
	}
	panic(fmt.Sprintf("catalog: valueAt of unsupported type %s", t)) // unreachable: defs are validated
}

// sameValue reports whether two normalised values of one column are
// stored identically (floats bit for bit).
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case float64:
		b, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(b)
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	return a == b
}

// formatValue renders a value for error details, roughly as PostgreSQL
// prints it.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case time.Time:
		return v.Format("2006-01-02 15:04:05.999999")
	case sqltypes.Interval:
		return fmt.Sprintf("%d mons %d days %d us", v.Months, v.Days, v.Micros)
	}
	return fmt.Sprint(v)
}
