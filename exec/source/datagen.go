package source

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// UnlimitedStep is how far Latest of a datagen source without a rate
// (rows_per_second = 0) moves on every call.
const UnlimitedStep = 1 << 20

// DatagenEpoch is where default timestamp and date sequences start.
var datagenEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const microsPerDay = 86_400_000_000

// GenKind is how a datagen column makes its values.
type GenKind uint8

// The generator kinds. GenDefault picks the kind the other FieldOptions
// imply, else the column type's default: random for numbers, text,
// booleans and intervals; sequence for timestamps and dates.
const (
	GenDefault  GenKind = iota
	GenSequence         // start + offset*step
	GenRandom           // uniform in [min, max] (text: random characters)
	GenChoices          // uniform over a list of values
)

func (k GenKind) String() string {
	switch k {
	case GenSequence:
		return "sequence"
	case GenRandom:
		return "random"
	case GenChoices:
		return "choices"
	}
	return "default"
}

// FieldOptions configures one column's generator. Values are Go values of
// the column's type (package sqltypes: int64 for every integer type,
// float64 for both float types), within its range, except: the step of a
// timestamp, date or interval sequence is a sqltypes.Interval; start and
// step of a text sequence are int64 (the value is the decimal text of
// start+offset*step, cut to a VARCHAR's width). A Kind of GenDefault
// takes the kind the fields set imply (Start or Step: sequence; Min, Max
// or Length: random; Choices: choices), else the type's default. Integer
// and interval sequences wrap at the type's range. Min and Max apply to
// numbers, timestamps, dates and intervals; Length to random text.
// Booleans are random or choices. Unset (nil, 0) fields take the defaults:
//
//	integers   random 0..1000; sequence from 0 by 1 (wrapping at the type's range)
//	floats     random 0..1; sequence from 0 by 1
//	text       random, 8 characters (at most the VARCHAR width) of [0-9A-Za-z]
//	boolean    random
//	timestamp  sequence from 2024-01-01 00:00:00 by 1 millisecond; random over that day
//	date       sequence from 2024-01-01 by 1 day; random over 2024
//	interval   random 0..1 hour; sequence from 0 by 1 second
type FieldOptions struct {
	Kind     GenKind
	Start    any
	Step     any
	Min, Max any
	Choices  []any
	Length   int // random text length
}

// DatagenOptions configures a Datagen source.
type DatagenOptions struct {
	// Name names the source in error messages. Default: "datagen".
	Name string
	// Seed makes the random columns; the same seed gives the same rows.
	Seed uint64
	// RowsPerSecond is the rate at which rows become due. 0 means
	// unlimited: each Latest call moves UnlimitedStep rows further.
	RowsPerSecond int64
	// MaxRows, when positive, bounds the source: Latest never passes it.
	MaxRows int64
	// Fields holds one entry per column, in column order; missing
	// entries take the defaults.
	Fields []FieldOptions
}

// Datagen is the datagen source: rows as a pure function of (seed,
// offset), one partition (0). Any range can be generated again, in any
// order or split, with the same result.
type Datagen struct {
	name   string
	cols   []Column
	schema *arrow.Schema
	opts   DatagenOptions
	gens   []genFn
	now    func() time.Time
	start  time.Time

	mu     sync.Mutex
	latest int64
	// base is the offset the rate counts from (ResumeFrom), at start.
	base int64
}

var _ Source = (*Datagen)(nil)

// genFn appends the values of offsets [from, from+n) to b.
type genFn func(b array.Builder, from int64, n int)

// NewDatagen returns a datagen source over cols. Its rate clock starts at
// now() (time.Now when now is nil).
func NewDatagen(cols []Column, opts DatagenOptions, now func() time.Time) (*Datagen, error) {
	schema, err := schemaOf(cols)
	if err != nil {
		return nil, err
	}
	if err := opts.Validate(cols); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	d := &Datagen{name: opts.Name, cols: append([]Column(nil), cols...), schema: schema, opts: opts, now: now}
	if d.name == "" {
		d.name = "datagen"
	}
	for i, c := range cols {
		g, err := compileGen(c, i, opts.Seed, opts.field(i))
		if err != nil {
			return nil, err
		}
		d.gens = append(d.gens, g)
	}
	d.start = now()
	return d, nil
}

func (o DatagenOptions) field(i int) FieldOptions {
	if i < len(o.Fields) {
		return o.Fields[i]
	}
	return FieldOptions{}
}

// Validate checks the options against cols; errors (22023) name the
// option key as ParseDatagenOptions reads it.
func (o DatagenOptions) Validate(cols []Column) error {
	switch {
	case o.RowsPerSecond < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %d for option rows_per_second: must not be negative", o.RowsPerSecond)
	case o.MaxRows < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %d for option max_rows: must not be negative", o.MaxRows)
	case len(o.Fields) > len(cols):
		return sqlerr.New(sqlerr.InvalidParameterValue, "datagen options for %d fields, but the source has %d columns", len(o.Fields), len(cols))
	}
	for i, c := range cols {
		if _, err := compileGen(c, i, o.Seed, o.field(i)); err != nil {
			return err
		}
	}
	return nil
}

// Schema implements Source.
func (d *Datagen) Schema() *arrow.Schema { return d.schema }

// Earliest implements Source: always offset 0.
func (d *Datagen) Earliest(ctx context.Context) (Offsets, error) { return Offsets{0: 0}, nil }

// Latest implements Source. With a rate, it is the number of rows due
// since the source was created: floor(elapsed * RowsPerSecond), never
// decreasing even if the clock does. Without one, every call adds
// UnlimitedStep. Both stop at MaxRows when set.
func (d *Datagen) Latest(ctx context.Context) (Offsets, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := d.latest
	if d.opts.RowsPerSecond > 0 {
		next = max(next, d.base+dueSince(d.now().Sub(d.start), d.opts.RowsPerSecond, math.MaxInt64-d.base))
	} else if next <= math.MaxInt64-UnlimitedStep {
		next += UnlimitedStep
	} else {
		next = math.MaxInt64
	}
	if d.opts.MaxRows > 0 {
		next = min(next, d.opts.MaxRows)
	}
	d.latest = max(d.latest, next)
	return Offsets{0: d.latest}, nil
}

// ResumeFrom implements Resumer: with a rate, rows past offs[0] become
// due at the rate from now on (when fewer are due now).
func (d *Datagen) ResumeFrom(offs Offsets) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if o, ok := offs[0]; ok && d.opts.RowsPerSecond > 0 && o > d.latest {
		d.base, d.start, d.latest = o, d.now(), o
		if d.opts.MaxRows > 0 {
			d.latest = min(d.latest, d.opts.MaxRows)
		}
	}
}

// dueSince is how many rows are due el after the start at perSecond rows
// a second, at most limit: floor(el * perSecond), without overflow.
func dueSince(el time.Duration, perSecond, limit int64) int64 {
	if el <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(el), uint64(perSecond))
	if hi >= uint64(time.Second) {
		return limit
	}
	q, _ := bits.Div64(hi, lo, uint64(time.Second))
	return int64(min(q, uint64(limit)))
}

// Read implements Source. It generates column at a time straight into
// Arrow builders.
func (d *Datagen) Read(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, error) {
	d.mu.Lock()
	latest := d.latest
	d.mu.Unlock()
	s, e, ok, err := singleRange(d.name, start, end, maxRows, 0, latest)
	if err != nil || !ok {
		return nil, err
	}
	var out []arrow.Record
	bld := array.NewRecordBuilder(mem, d.schema)
	defer bld.Release()
	for from := s; from < e; {
		if err := ctx.Err(); err != nil {
			for _, r := range out {
				r.Release()
			}
			return nil, err
		}
		n := int(min(int64(maxRows), e-from))
		for i, g := range d.gens {
			g(bld.Field(i), from, n)
		}
		out = append(out, bld.NewRecord())
		from += int64(n)
	}
	return out, nil
}

// Close implements Source.
func (d *Datagen) Close() error { return nil }

// splitmix64's finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

const golden = 0x9e3779b97f4a7c15

// hasher returns the random stream of column col: a splitmix64 sequence
// indexed by offset.
func hasher(seed uint64, col int) func(off int64) uint64 {
	key := mix64(seed + golden*uint64(col+1))
	return func(off int64) uint64 { return mix64(key + golden*uint64(off)) }
}

// uniform maps h to [0, span); span 0 means 2^64.
func uniform(h, span uint64) uint64 {
	if span == 0 {
		return h
	}
	hi, _ := bits.Mul64(h, span)
	return hi
}

func optErr(col Column, prop, format string, args ...any) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, "invalid option fields.%s.%s: %s", col.Name, prop, fmt.Sprintf(format, args...))
}

// impliedKind is the kind of a column whose options give none: the one
// the fields set imply (start, step: sequence; min, max, length: random;
// choices: choices), else the type's default (sequence for timestamps and
// dates, random otherwise).
func impliedKind(t sqltypes.Type, fo FieldOptions) GenKind {
	switch {
	case fo.Start != nil || fo.Step != nil:
		return GenSequence
	case fo.Min != nil || fo.Max != nil || fo.Length != 0:
		return GenRandom
	case fo.Choices != nil:
		return GenChoices
	case t.Kind == sqltypes.KindTimestamp || t.Kind == sqltypes.KindDate:
		return GenSequence
	}
	return GenRandom
}

// supportsKind reports whether datagen can generate a column of type t
// with kind (GenChoices works for every type).
func supportsKind(t sqltypes.Type, kind GenKind) bool {
	switch kind {
	case GenChoices, GenRandom:
		return true
	case GenSequence:
		return t.Kind != sqltypes.KindBool
	}
	return false
}

// hasRange reports whether random values of type t take min and max
// (random text and booleans do not).
func hasRange(t sqltypes.Type) bool {
	return t.Kind != sqltypes.KindBool && t.Kind != sqltypes.KindText
}

// compileGen checks a column's options and returns its generator.
func compileGen(col Column, idx int, seed uint64, fo FieldOptions) (genFn, error) {
	kind := fo.Kind
	if kind == GenDefault {
		kind = impliedKind(col.Type, fo)
	}
	props := []struct {
		prop string
		set  bool
		ok   bool
	}{
		{"start", fo.Start != nil, kind == GenSequence},
		{"step", fo.Step != nil, kind == GenSequence},
		{"min", fo.Min != nil, kind == GenRandom && hasRange(col.Type)},
		{"max", fo.Max != nil, kind == GenRandom && hasRange(col.Type)},
		{"length", fo.Length != 0, kind == GenRandom && col.Type.Kind == sqltypes.KindText},
		{"choices", fo.Choices != nil, kind == GenChoices},
	}
	if !supportsKind(col.Type, kind) {
		// Name the key that asked for the kind: the kind itself, or the
		// first property that implied it.
		prop := "kind"
		if fo.Kind == GenDefault {
			for _, x := range props {
				if x.set {
					prop = x.prop
					break
				}
			}
		}
		return nil, optErr(col, prop, "kind %s is not supported for a %s column", kind, col.Type)
	}
	for _, x := range props {
		if x.set && !x.ok {
			return nil, optErr(col, x.prop, "does not apply to kind %s of a %s column", kind, col.Type)
		}
	}
	h := hasher(seed, idx)
	if kind == GenChoices {
		if len(fo.Choices) == 0 {
			return nil, optErr(col, "choices", "the list is empty")
		}
		return choicesGen(col, h, fo.Choices)
	}
	switch col.Type.Kind {
	case sqltypes.KindInt16, sqltypes.KindInt32, sqltypes.KindInt64:
		f, err := intGen(col, kind, h, fo, 0, 1, 0, 1000)
		if err != nil {
			return nil, err
		}
		return intAppender(col.Type, f), nil
	case sqltypes.KindFloat32, sqltypes.KindFloat64:
		f, err := floatGen(col, kind, h, fo)
		if err != nil {
			return nil, err
		}
		if col.Type.Kind == sqltypes.KindFloat32 {
			return func(b array.Builder, from int64, n int) {
				fb := b.(*array.Float32Builder)
				fb.Reserve(n)
				for i := range n {
					fb.UnsafeAppend(float32(f(from + int64(i))))
				}
			}, nil
		}
		return func(b array.Builder, from int64, n int) {
			fb := b.(*array.Float64Builder)
			fb.Reserve(n)
			for i := range n {
				fb.UnsafeAppend(f(from + int64(i)))
			}
		}, nil
	case sqltypes.KindBool:
		return func(b array.Builder, from int64, n int) {
			bb := b.(*array.BooleanBuilder)
			bb.Reserve(n)
			for i := range n {
				bb.UnsafeAppend(h(from+int64(i))&1 == 1)
			}
		}, nil
	case sqltypes.KindText:
		return textGen(col, kind, h, fo)
	case sqltypes.KindTimestamp:
		return timeGen(col, kind, h, fo, false)
	case sqltypes.KindDate:
		return timeGen(col, kind, h, fo, true)
	case sqltypes.KindInterval:
		return intervalGen(col, kind, h, fo)
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "datagen cannot generate column %s of type %s", col.Name, col.Type)
}

// intGen returns an int64-valued generator for integer-like values.
func intGen(col Column, kind GenKind, h func(int64) uint64, fo FieldOptions, start, step, lo, hi int64) (func(int64) int64, error) {
	// Values must fit the column's type; a sequence's step need not, as
	// the sequence wraps anyway.
	tmin, tmax := int64(math.MinInt64), int64(math.MaxInt64)
	switch col.Type.Kind {
	case sqltypes.KindInt16:
		tmin, tmax = math.MinInt16, math.MaxInt16
	case sqltypes.KindInt32:
		tmin, tmax = math.MinInt32, math.MaxInt32
	}
	get := func(prop string, v any, def int64, checkRange bool) (int64, error) {
		if v == nil {
			return def, nil
		}
		x, ok := v.(int64)
		if !ok {
			return 0, optErr(col, prop, "want an integer, got %T", v)
		}
		if checkRange && (x < tmin || x > tmax) {
			return 0, optErr(col, prop, "%d is out of range for type %s", x, col.Type)
		}
		return x, nil
	}
	var err error
	if kind == GenSequence {
		if start, err = get("start", fo.Start, start, true); err != nil {
			return nil, err
		}
		if step, err = get("step", fo.Step, step, false); err != nil {
			return nil, err
		}
		return func(off int64) int64 { return start + off*step }, nil
	}
	if lo, err = get("min", fo.Min, lo, true); err != nil {
		return nil, err
	}
	if hi, err = get("max", fo.Max, hi, true); err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, optErr(col, "min", "min %d is greater than max %d", lo, hi)
	}
	span := uint64(hi) - uint64(lo) + 1
	return func(off int64) int64 { return lo + int64(uniform(h(off), span)) }, nil
}

func intAppender(t sqltypes.Type, f func(int64) int64) genFn {
	switch t.Kind {
	case sqltypes.KindInt16:
		return func(b array.Builder, from int64, n int) {
			ib := b.(*array.Int16Builder)
			ib.Reserve(n)
			for i := range n {
				ib.UnsafeAppend(int16(f(from + int64(i))))
			}
		}
	case sqltypes.KindInt32:
		return func(b array.Builder, from int64, n int) {
			ib := b.(*array.Int32Builder)
			ib.Reserve(n)
			for i := range n {
				ib.UnsafeAppend(int32(f(from + int64(i))))
			}
		}
	}
	return func(b array.Builder, from int64, n int) {
		ib := b.(*array.Int64Builder)
		ib.Reserve(n)
		for i := range n {
			ib.UnsafeAppend(f(from + int64(i)))
		}
	}
}

func floatGen(col Column, kind GenKind, h func(int64) uint64, fo FieldOptions) (func(int64) float64, error) {
	get := func(prop string, v any, def float64) (float64, error) {
		if v == nil {
			return def, nil
		}
		x, ok := v.(float64)
		if !ok {
			return 0, optErr(col, prop, "want a number, got %T", v)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, optErr(col, prop, "want a finite number, got %v", x)
		}
		if col.Type.Kind == sqltypes.KindFloat32 && math.Abs(x) > math.MaxFloat32 {
			return 0, optErr(col, prop, "%v is out of range for type %s", x, col.Type)
		}
		return x, nil
	}
	if kind == GenSequence {
		start, err := get("start", fo.Start, 0)
		if err != nil {
			return nil, err
		}
		step, err := get("step", fo.Step, 1)
		if err != nil {
			return nil, err
		}
		return func(off int64) float64 { return start + float64(off)*step }, nil
	}
	lo, err := get("min", fo.Min, 0)
	if err != nil {
		return nil, err
	}
	hi, err := get("max", fo.Max, 1)
	if err != nil {
		return nil, err
	}
	if lo > hi {
		return nil, optErr(col, "min", "min %v is greater than max %v", lo, hi)
	}
	if math.IsInf(hi-lo, 0) {
		// The width overflows: interpolate without it.
		return func(off int64) float64 {
			u := float64(h(off)>>11) * (1.0 / (1 << 53))
			return lo*(1-u) + hi*u
		}, nil
	}
	return func(off int64) float64 {
		return lo + float64(h(off)>>11)*(1.0/(1<<53))*(hi-lo)
	}, nil
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func textGen(col Column, kind GenKind, h func(int64) uint64, fo FieldOptions) (genFn, error) {
	if kind == GenSequence {
		f, err := intGen(col, kind, h, fo, 0, 1, 0, 0)
		if err != nil {
			return nil, err
		}
		// Digits beyond a VARCHAR's width are cut off, as a cast to
		// VARCHAR(n) does.
		width := col.Type.Width
		return func(b array.Builder, from int64, n int) {
			sb := b.(*array.StringBuilder)
			sb.Reserve(n)
			var buf []byte
			for i := range n {
				buf = strconv.AppendInt(buf[:0], f(from+int64(i)), 10)
				if width > 0 && len(buf) > width {
					buf = buf[:width]
				}
				sb.BinaryBuilder.Append(buf)
			}
		}, nil
	}
	length := fo.Length
	if length < 0 {
		return nil, optErr(col, "length", "must be positive, got %d", length)
	}
	if length == 0 {
		length = 8
		if col.Type.Width > 0 {
			length = min(length, col.Type.Width)
		}
	}
	if col.Type.Width > 0 && length > col.Type.Width {
		return nil, optErr(col, "length", "%d is longer than the column's type %s", length, col.Type)
	}
	return func(b array.Builder, from int64, n int) {
		sb := b.(*array.StringBuilder)
		sb.Reserve(n)
		sb.ReserveData(n * length)
		buf := make([]byte, length)
		for i := range n {
			x := h(from + int64(i))
			for j := range buf {
				if j > 0 && j%10 == 0 {
					x = mix64(x + golden)
				}
				buf[j] = alphabet[x%62]
				x /= 62
			}
			sb.BinaryBuilder.Append(buf)
		}
	}, nil
}

// timeGen generates timestamps (microseconds) or dates (days).
func timeGen(col Column, kind GenKind, h func(int64) uint64, fo FieldOptions, date bool) (genFn, error) {
	getTime := func(prop string, v any, def time.Time) (time.Time, error) {
		if v == nil {
			return def, nil
		}
		t, ok := v.(time.Time)
		if !ok {
			return time.Time{}, optErr(col, prop, "want a %s, got %T", col.Type, v)
		}
		return t.UTC(), nil
	}
	var f func(off int64) int64 // micros or days
	unit := int64(1)
	if date {
		unit = microsPerDay
	}
	if kind == GenSequence {
		start, err := getTime("start", fo.Start, datagenEpoch)
		if err != nil {
			return nil, err
		}
		step := sqltypes.Interval{Micros: 1000}
		if date {
			step = sqltypes.Interval{Days: 1}
		}
		if fo.Step != nil {
			iv, ok := fo.Step.(sqltypes.Interval)
			if !ok {
				return nil, optErr(col, "step", "want an interval, got %T", fo.Step)
			}
			step = iv
		}
		if date && step.Micros%microsPerDay != 0 {
			return nil, optErr(col, "step", "a date sequence steps by whole days")
		}
		if step.Months == 0 {
			s0 := start.UnixMicro()
			st := int64(step.Days)*microsPerDay + step.Micros
			f = func(off int64) int64 { return floorDiv(s0+off*st, unit) }
		} else {
			f = func(off int64) int64 {
				t := start.AddDate(0, int(int64(step.Months)*off), int(int64(step.Days)*off))
				return floorDiv(t.UnixMicro()+step.Micros*off, unit)
			}
		}
	} else {
		defHi := datagenEpoch.Add(24*time.Hour - time.Microsecond)
		if date {
			defHi = datagenEpoch.AddDate(0, 0, 365)
		}
		lo, err := getTime("min", fo.Min, datagenEpoch)
		if err != nil {
			return nil, err
		}
		hi, err := getTime("max", fo.Max, defHi)
		if err != nil {
			return nil, err
		}
		if lo.After(hi) {
			return nil, optErr(col, "min", "min is after max")
		}
		l, u := floorDiv(lo.UnixMicro(), unit), floorDiv(hi.UnixMicro(), unit)
		span := uint64(u) - uint64(l) + 1
		f = func(off int64) int64 { return l + int64(uniform(h(off), span)) }
	}
	if date {
		return func(b array.Builder, from int64, n int) {
			db := b.(*array.Date32Builder)
			db.Reserve(n)
			for i := range n {
				db.UnsafeAppend(arrow.Date32(f(from + int64(i))))
			}
		}, nil
	}
	return func(b array.Builder, from int64, n int) {
		tb := b.(*array.TimestampBuilder)
		tb.Reserve(n)
		for i := range n {
			tb.UnsafeAppend(arrow.Timestamp(f(from + int64(i))))
		}
	}, nil
}

func intervalGen(col Column, kind GenKind, h func(int64) uint64, fo FieldOptions) (genFn, error) {
	get := func(prop string, v any, def sqltypes.Interval) (sqltypes.Interval, error) {
		if v == nil {
			return def, nil
		}
		iv, ok := v.(sqltypes.Interval)
		if !ok {
			return def, optErr(col, prop, "want an interval, got %T", v)
		}
		return iv, nil
	}
	var f func(off int64) arrow.MonthDayNanoInterval
	if kind == GenSequence {
		start, err := get("start", fo.Start, sqltypes.Interval{})
		if err != nil {
			return nil, err
		}
		step, err := get("step", fo.Step, sqltypes.Interval{Micros: 1_000_000})
		if err != nil {
			return nil, err
		}
		f = func(off int64) arrow.MonthDayNanoInterval {
			return arrow.MonthDayNanoInterval{
				Months:      start.Months + int32(int64(step.Months)*off),
				Days:        start.Days + int32(int64(step.Days)*off),
				Nanoseconds: (start.Micros + step.Micros*off) * 1000,
			}
		}
	} else {
		lo, err := get("min", fo.Min, sqltypes.Interval{})
		if err != nil {
			return nil, err
		}
		hi, err := get("max", fo.Max, sqltypes.Interval{Micros: 3_600_000_000})
		if err != nil {
			return nil, err
		}
		if lo.Months != 0 {
			return nil, optErr(col, "min", "a random interval range cannot use months or years")
		}
		if hi.Months != 0 {
			return nil, optErr(col, "max", "a random interval range cannot use months or years")
		}
		l := int64(lo.Days)*microsPerDay + lo.Micros
		u := int64(hi.Days)*microsPerDay + hi.Micros
		if l > u {
			return nil, optErr(col, "min", "min is greater than max")
		}
		span := uint64(u) - uint64(l) + 1
		f = func(off int64) arrow.MonthDayNanoInterval {
			return arrow.MonthDayNanoInterval{Nanoseconds: (l + int64(uniform(h(off), span))) * 1000}
		}
	}
	return func(b array.Builder, from int64, n int) {
		ib := b.(*array.MonthDayNanoIntervalBuilder)
		ib.Reserve(n)
		for i := range n {
			ib.UnsafeAppend(f(from + int64(i)))
		}
	}, nil
}

// choicesGen picks uniformly from a list of values. The values are
// converted once, through a scratch builder of the column's type, into
// their Arrow form, which the generator appends with the typed builder.
func choicesGen(col Column, h func(int64) uint64, choices []any) (genFn, error) {
	b := array.NewBuilder(memory.NewGoAllocator(), col.Type.Arrow())
	defer b.Release()
	for _, v := range choices {
		if s, ok := v.(string); ok && col.Type.Width > 0 && utf8.RuneCountInString(s) > col.Type.Width {
			return nil, optErr(col, "choices", "%q is longer than the column's type %s", s, col.Type)
		}
		if err := appendValue(b, v); err != nil {
			return nil, optErr(col, "choices", "%v", err)
		}
	}
	arr := b.NewArray()
	defer arr.Release()
	switch a := arr.(type) {
	case *array.Boolean:
		return pick[bool, *array.BooleanBuilder](a, a.Value, h), nil
	case *array.Int16:
		return pick[int16, *array.Int16Builder](a, a.Value, h), nil
	case *array.Int32:
		return pick[int32, *array.Int32Builder](a, a.Value, h), nil
	case *array.Int64:
		return pick[int64, *array.Int64Builder](a, a.Value, h), nil
	case *array.Float32:
		return pick[float32, *array.Float32Builder](a, a.Value, h), nil
	case *array.Float64:
		return pick[float64, *array.Float64Builder](a, a.Value, h), nil
	case *array.String:
		// Value aliases the array's buffer, released on return: copy.
		return pick[string, *array.StringBuilder](a, func(i int) string { return strings.Clone(a.Value(i)) }, h), nil
	case *array.Timestamp:
		return pick[arrow.Timestamp, *array.TimestampBuilder](a, a.Value, h), nil
	case *array.Date32:
		return pick[arrow.Date32, *array.Date32Builder](a, a.Value, h), nil
	case *array.MonthDayNanoInterval:
		return pick[arrow.MonthDayNanoInterval, *array.MonthDayNanoIntervalBuilder](a, a.Value, h), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "datagen cannot generate choices for column %s of type %s", col.Name, col.Type)
}

// pick returns a generator that appends a uniformly chosen element of
// arr (value gives element i) to a builder of type B.
func pick[T any, B interface {
	array.Builder
	Append(T)
}](arr arrow.Array, value func(int) T, h func(int64) uint64) genFn {
	vals := make([]T, arr.Len())
	valid := make([]bool, arr.Len())
	for i := range vals {
		if valid[i] = arr.IsValid(i); valid[i] {
			vals[i] = value(i)
		}
	}
	span := uint64(len(vals))
	return func(b array.Builder, from int64, n int) {
		bb := b.(B)
		bb.Reserve(n)
		for i := range n {
			if k := uniform(h(from+int64(i)), span); valid[k] {
				bb.Append(vals[k])
			} else {
				bb.AppendNull()
			}
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ParseDatagenOptions parses the WITH options of a datagen source over
// cols (Flink's keys):
//
//	seed                  integer (default 0)
//	rows_per_second       integer >= 0 (default 0: unlimited)
//	max_rows              integer > 0 (default: unbounded)
//	fields.<col>.kind     sequence | random (or range) | choices
//	fields.<col>.start    sequence start   (text: an integer)
//	fields.<col>.step     sequence step    (timestamp, date, interval: an interval such as '1 second')
//	fields.<col>.min      random minimum
//	fields.<col>.max      random maximum
//	fields.<col>.length   random text length
//	fields.<col>.choices  comma-separated values, 'a,b,c' (blanks around each are trimmed)
//
// Values are read in PostgreSQL's text form for the column's type. Without
// a kind, the keys given choose it (start/step: sequence; min/max/length:
// random; choices: choices). Common source options (IsCommonOption) are
// skipped. An unknown key is a 42601 error naming it; a bad value is a
// 22023 error naming key and value.
func ParseDatagenOptions(cols []Column, opts map[string]string) (DatagenOptions, error) {
	o := DatagenOptions{Fields: make([]FieldOptions, len(cols))}
	implied := make([]GenKind, len(cols)) // to reject keys of two kinds
	for _, key := range sortedKeys(opts) {
		val := opts[key]
		if IsCommonOption(key) {
			continue
		}
		lk := strings.ToLower(key)
		switch lk {
		case "seed":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
				if uerr != nil {
					return DatagenOptions{}, badValue(key, val, "an integer", err)
				}
				n = int64(u)
			}
			o.Seed = uint64(n)
			continue
		case "rows_per_second":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 0 {
				return DatagenOptions{}, badValue(key, val, "an integer >= 0", err)
			}
			o.RowsPerSecond = n
			continue
		case "max_rows":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n <= 0 {
				return DatagenOptions{}, badValue(key, val, "a positive integer", err)
			}
			o.MaxRows = n
			continue
		}
		rest, ok := strings.CutPrefix(lk, "fields.")
		dot := strings.LastIndexByte(rest, '.')
		if !ok || dot <= 0 {
			return DatagenOptions{}, unknownOption("datagen", key)
		}
		colName, prop := rest[:dot], rest[dot+1:]
		ci := -1
		for i, c := range cols {
			if strings.EqualFold(c.Name, colName) {
				ci = i
			}
		}
		if ci < 0 {
			return DatagenOptions{}, sqlerr.New(sqlerr.SyntaxError, "unknown option %q for connector 'datagen': there is no column %q", key, colName)
		}
		col, fo := cols[ci], &o.Fields[ci]
		imply := func(k GenKind) error {
			if implied[ci] != GenDefault && implied[ci] != k {
				return sqlerr.New(sqlerr.InvalidParameterValue, "invalid option %s: column %s already has options of kind %s", key, col.Name, implied[ci])
			}
			implied[ci] = k
			return nil
		}
		var err error
		switch prop {
		case "kind":
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "sequence":
				fo.Kind = GenSequence
			case "random", "range":
				fo.Kind = GenRandom
			case "choices":
				fo.Kind = GenChoices
			default:
				return DatagenOptions{}, badValue(key, val, "sequence, random (or range) or choices", nil)
			}
		case "start", "step":
			if err = imply(GenSequence); err != nil {
				return DatagenOptions{}, err
			}
			var v any
			switch {
			case col.Type.Kind == sqltypes.KindText:
				v, err = strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			case prop == "step" && (col.Type.Kind == sqltypes.KindTimestamp || col.Type.Kind == sqltypes.KindDate):
				v, err = sqltypes.ParseText(sqltypes.IntervalT, val)
			default:
				v, err = parseValue(col.Type, val)
			}
			if err != nil {
				return DatagenOptions{}, badValue(key, val, "a value of the column's type", err)
			}
			if prop == "start" {
				fo.Start = v
			} else {
				fo.Step = v
			}
		case "min", "max":
			if err = imply(GenRandom); err != nil {
				return DatagenOptions{}, err
			}
			v, err := parseValue(col.Type, val)
			if err != nil {
				return DatagenOptions{}, badValue(key, val, "a value of type "+col.Type.String(), err)
			}
			if prop == "min" {
				fo.Min = v
			} else {
				fo.Max = v
			}
		case "length":
			if err = imply(GenRandom); err != nil {
				return DatagenOptions{}, err
			}
			n, err := strconv.Atoi(strings.TrimSpace(val))
			if err != nil || n <= 0 {
				return DatagenOptions{}, badValue(key, val, "a positive integer", err)
			}
			fo.Length = n
		case "choices":
			if err = imply(GenChoices); err != nil {
				return DatagenOptions{}, err
			}
			fo.Choices = []any{}
			for _, part := range strings.Split(val, ",") {
				v, err := parseValue(col.Type, strings.TrimSpace(part))
				if err != nil {
					return DatagenOptions{}, badValue(key, val, "values of type "+col.Type.String(), err)
				}
				fo.Choices = append(fo.Choices, v)
			}
		default:
			return DatagenOptions{}, unknownOption("datagen", key)
		}
	}
	if err := o.Validate(cols); err != nil {
		return DatagenOptions{}, err
	}
	return o, nil
}

// parseValue parses the text form of a value of type t into its Go value,
// normalised as package sqltypes lists (int64 for every integer, float64
// for both floats).
func parseValue(t sqltypes.Type, s string) (any, error) {
	v, err := sqltypes.ParseText(t, s)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	}
	return v, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
