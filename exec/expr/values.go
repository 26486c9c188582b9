package expr

import (
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// This file converts between Go values of SQL values (see package
// sqltypes) and Arrow arrays.

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
)

// Timestamps Sluice accepts: PostgreSQL's lower bound (4714-11-24 BC) up
// to the largest microsecond count since 1970 an int64 holds (PostgreSQL
// goes a little further, to 294276 AD).
const (
	minTimestamp = -210866803200000000
	maxTimestamp = math.MaxInt64
)

// ScalarToArray returns an array of n copies of v, the Go value of a value
// of type t (nil for NULL). The caller releases it.
func ScalarToArray(mem memory.Allocator, t sqltypes.Type, v any, n int) (arrow.Array, error) {
	v, err := normalize(t, v)
	if err != nil {
		return nil, err
	}
	dt := t.Arrow()
	if v == nil {
		return nullArray(mem, dt, n), nil
	}
	switch x := physValue(t, v).(type) {
	case bool:
		buf, b := allocBits(mem, n)
		if x {
			for i := range b {
				b[i] = 0xff
			}
		}
		return newArray(dt, n, nil, 0, buf), nil
	case int16:
		return repeatFixed(mem, dt, x, n), nil
	case int32:
		return repeatFixed(mem, dt, x, n), nil
	case int64:
		return repeatFixed(mem, dt, x, n), nil
	case float32:
		return repeatFixed(mem, dt, x, n), nil
	case float64:
		return repeatFixed(mem, dt, x, n), nil
	case arrow.MonthDayNanoInterval:
		return repeatFixed(mem, dt, x, n), nil
	case string:
		if int64(len(x))*int64(n) > math.MaxInt32 {
			return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "text column of %d values of %d bytes exceeds the 2 GB limit of an array", n, len(x))
		}
		obuf, offs := allocFixed[int32](mem, n+1)
		dbuf := allocBuf(mem, n*len(x))
		data := dbuf.Bytes()
		for i := 0; i < n; i++ {
			offs[i] = int32(i * len(x))
			copy(data[i*len(x):], x)
		}
		offs[n] = int32(n * len(x))
		return newArray(dt, n, nil, 0, obuf, dbuf), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "type %s has no array form", t)
}

func repeatFixed[T fixedT](mem memory.Allocator, dt arrow.DataType, x T, n int) arrow.Array {
	buf, out := allocFixed[T](mem, n)
	for i := range out {
		out[i] = x
	}
	return newArray(dt, n, nil, 0, buf)
}

// nullArray returns n NULLs of Arrow type dt (one of the types of
// sqltypes.Type.Arrow).
func nullArray(mem memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	if dt.ID() == arrow.NULL {
		return array.NewNull(n)
	}
	vbuf, _ := allocBits(mem, n)
	switch dt.ID() {
	case arrow.BOOL:
		buf, _ := allocBits(mem, n)
		return newArray(dt, n, vbuf, n, buf)
	case arrow.STRING:
		buf, offs := allocFixed[int32](mem, n+1)
		clear(offs)
		return newArray(dt, n, vbuf, n, buf, allocBuf(mem, 0))
	}
	width := dt.(arrow.FixedWidthDataType).Bytes()
	buf := allocBuf(mem, n*width)
	clear(buf.Bytes())
	return newArray(dt, n, vbuf, n, buf)
}

// ValueAt returns the Go value of element i of arr (nil when it is NULL),
// as listed in package sqltypes. Strings are copied: the value outlives
// the array. Arrays of types Sluice does not use give nil.
func ValueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return strings.Clone(a.Value(i))
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC()
	case *array.Date32:
		return dateFromDays(int32(a.Value(i)))
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		return sqltypes.Interval{Months: v.Months, Days: v.Days, Micros: v.Nanoseconds / 1000}
	}
	return nil
}

// AppendValue appends v, a Go value as listed in package sqltypes (nil for
// NULL), to a builder of the matching Arrow type. A value that does not fit
// the builder's type is an error (22003 for numbers out of range).
func AppendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		if x, ok := v.(bool); ok {
			b.Append(x)
			return nil
		}
	case *array.Int16Builder:
		if x, ok := toInt64(v); ok {
			if x < math.MinInt16 || x > math.MaxInt16 {
				return errOutOfRange(sqltypes.Int16)
			}
			b.Append(int16(x))
			return nil
		}
	case *array.Int32Builder:
		if x, ok := toInt64(v); ok {
			if x < math.MinInt32 || x > math.MaxInt32 {
				return errOutOfRange(sqltypes.Int32)
			}
			b.Append(int32(x))
			return nil
		}
	case *array.Int64Builder:
		if x, ok := toInt64(v); ok {
			b.Append(x)
			return nil
		}
	case *array.Float32Builder:
		if x, ok := toFloat64(v); ok {
			f, err := float64To32(x)
			if err != nil {
				return err
			}
			b.Append(f)
			return nil
		}
	case *array.Float64Builder:
		if x, ok := toFloat64(v); ok {
			b.Append(x)
			return nil
		}
	case *array.StringBuilder:
		if x, ok := v.(string); ok {
			b.Append(x)
			return nil
		}
	case *array.TimestampBuilder:
		if x, ok := v.(time.Time); ok {
			us, err := timestampMicros(x)
			if err != nil {
				return err
			}
			ts, err := arrow.TimestampFromTime(time.UnixMicro(us), b.Type().(*arrow.TimestampType).Unit)
			if err != nil {
				return sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
			}
			b.Append(ts)
			return nil
		}
	case *array.Date32Builder:
		if x, ok := v.(time.Time); ok {
			d, err := dateDays(x)
			if err != nil {
				return err
			}
			b.Append(arrow.Date32(d))
			return nil
		}
	case *array.MonthDayNanoIntervalBuilder:
		if x, ok := v.(sqltypes.Interval); ok {
			iv, err := intervalToArrow(x)
			if err != nil {
				return err
			}
			b.Append(iv)
			return nil
		}
	}
	return sqlerr.New(sqlerr.DatatypeMismatch, "cannot append a value of Go type %T to an array of type %s", v, b.Type())
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if i, ok := toInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// normalize checks that v is a Go value of type t and returns its
// canonical form: int64 for every integer type, float64 for both float
// types (rounded to float32 for REAL), string for text, time.Time in UTC
// at microsecond precision, dates at midnight. A string for a non-text type
// is parsed from its text form.
func normalize(t sqltypes.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && t.Kind != sqltypes.KindText && t.Kind != sqltypes.KindUnknown {
		return parseText(t, s)
	}
	switch t.Kind {
	case sqltypes.KindBool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		if x, ok := toInt64(v); ok {
			if err := checkIntRange(t, x); err != nil {
				return nil, err
			}
			return x, nil
		}
	case sqltypes.KindFloat32:
		if x, ok := toFloat64(v); ok {
			f, err := float64To32(x)
			return float64(f), err
		}
	case sqltypes.KindFloat64:
		if x, ok := toFloat64(v); ok {
			return x, nil
		}
	case sqltypes.KindText, sqltypes.KindUnknown:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case sqltypes.KindTimestamp:
		if x, ok := v.(time.Time); ok {
			us, err := timestampMicros(x)
			if err != nil {
				return nil, err
			}
			return time.UnixMicro(us).UTC(), nil
		}
	case sqltypes.KindDate:
		if x, ok := v.(time.Time); ok {
			d, err := dateDays(x)
			if err != nil {
				return nil, err
			}
			return dateFromDays(d), nil
		}
	case sqltypes.KindInterval:
		switch x := v.(type) {
		case sqltypes.Interval:
			if _, err := intervalToArrow(x); err != nil {
				return nil, err
			}
			return x, nil
		case *sqltypes.Interval:
			if x != nil {
				return normalize(t, *x)
			}
		}
	}
	return nil, sqlerr.New(sqlerr.DatatypeMismatch, "a value of Go type %T is not a value of type %s", v, t)
}

// physValue returns the value an Arrow array of type t stores for the
// normalized, non-NULL Go value v: bool, int16, int32, int64 (also
// timestamps, in microseconds), float32, float64, string, int32 days for
// dates, arrow.MonthDayNanoInterval.
func physValue(t sqltypes.Type, v any) any {
	switch t.Kind {
	case sqltypes.KindInt16:
		return int16(v.(int64))
	case sqltypes.KindInt32:
		return int32(v.(int64))
	case sqltypes.KindFloat32:
		return float32(v.(float64))
	case sqltypes.KindTimestamp:
		return v.(time.Time).UnixMicro()
	case sqltypes.KindDate:
		d, _ := dateDays(v.(time.Time))
		return d
	case sqltypes.KindInterval:
		iv, _ := intervalToArrow(v.(sqltypes.Interval))
		return iv
	}
	return v
}

func checkIntRange(t sqltypes.Type, x int64) error {
	switch t.Kind {
	case sqltypes.KindInt16:
		if x < math.MinInt16 || x > math.MaxInt16 {
			return errOutOfRange(t)
		}
	case sqltypes.KindInt32:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return errOutOfRange(t)
		}
	}
	return nil
}

// errOutOfRange is PostgreSQL's error for an integer result that does not
// fit its type: "integer out of range".
func errOutOfRange(t sqltypes.Type) error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", t)
}

func float64To32(x float64) (float32, error) {
	f := float32(x)
	if math.IsInf(float64(f), 0) && !math.IsInf(x, 0) {
		return 0, errFloatOverflow()
	}
	if f == 0 && x != 0 {
		return 0, errFloatUnderflow()
	}
	return f, nil
}

func errFloatOverflow() error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
}

func errFloatUnderflow() error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
}

func errTimestampRange() error {
	return sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
}

func errIntervalRange() error {
	return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
}

// timestampMicros returns t as microseconds since 1970 (truncating
// nanoseconds), 22008 when out of range.
func timestampMicros(t time.Time) (int64, error) {
	if s := t.Unix(); s < minTimestamp/microsPerSecond || s >= maxTimestamp/microsPerSecond {
		return 0, errTimestampRange()
	}
	return t.UnixMicro(), nil
}

// dateDays returns the day of t (taken in UTC) as days since 1970-01-01.
func dateDays(t time.Time) (int32, error) {
	d := floorDiv(t.Unix(), 86400)
	if d < math.MinInt32 || d > math.MaxInt32 {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
	}
	return int32(d), nil
}

func dateFromDays(d int32) time.Time {
	return time.Unix(int64(d)*86400, 0).UTC()
}

func intervalToArrow(iv sqltypes.Interval) (arrow.MonthDayNanoInterval, error) {
	if iv.Micros > math.MaxInt64/1000 || iv.Micros < math.MinInt64/1000 {
		return arrow.MonthDayNanoInterval{}, errIntervalRange()
	}
	return arrow.MonthDayNanoInterval{Months: iv.Months, Days: iv.Days, Nanoseconds: iv.Micros * 1000}, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
