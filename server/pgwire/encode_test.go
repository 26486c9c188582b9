package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// column builds a one-column record of t holding vals (nil is NULL).
func column(t *testing.T, alloc memory.Allocator, typ sqltypes.Type, vals ...any) arrow.Record {
	t.Helper()
	b := array.NewBuilder(alloc, typ.Arrow())
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		case *array.Int16Builder:
			bb.Append(int16(v.(int)))
		case *array.Int32Builder:
			bb.Append(int32(v.(int)))
		case *array.Int64Builder:
			bb.Append(v.(int64))
		case *array.Float32Builder:
			bb.Append(v.(float32))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
		case *array.Date32Builder:
			bb.Append(arrow.Date32FromTime(v.(time.Time)))
		case *array.MonthDayNanoIntervalBuilder:
			bb.Append(v.(arrow.MonthDayNanoInterval))
		default:
			t.Fatalf("no builder for %T", b)
		}
	}
	arr := b.NewArray()
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "c", Type: typ.Arrow(), Nullable: true}}, nil)
	return array.NewRecord(schema, []arrow.Array{arr}, int64(arr.Len()))
}

// encodeValues encodes a record's single column and returns each row's
// value: hex for binary, text for text, NULL for null.
func encodeValues(t *testing.T, rec arrow.Record, typ sqltypes.Type, format int16) []string {
	t.Helper()
	var e rowEncoder
	fields := []Field{{Name: "c", Type: typ}}
	if err := e.encode(rec, 0, int(rec.NumRows()), fields, []int16{format}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := e.writeRows(w, int(rec.NumRows())); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	// Read the messages back with pgproto3.
	fe := pgproto3.NewFrontend(&buf, nil)
	var out []string
	for range rec.NumRows() {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		v := msg.(*pgproto3.DataRow).Values[0]
		switch {
		case v == nil:
			out = append(out, "NULL")
		case format == formatBinary:
			out = append(out, fmt.Sprintf("%x", v))
		default:
			out = append(out, string(v))
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("%d bytes left after the rows", buf.Len())
	}
	return out
}

func TestEncodeColumns(t *testing.T) {
	ts := time.Date(2000, 1, 1, 0, 0, 1, 500000000, time.UTC)
	tests := []struct {
		name         string
		typ          sqltypes.Type
		vals         []any
		text, binary string
	}{
		{"booleans", sqltypes.Bool, []any{true, false, nil}, "t f NULL", "01 00 NULL"},
		{"smallints", sqltypes.Int16, []any{-2, 32767}, "-2 32767", "fffe 7fff"},
		{"integers", sqltypes.Int32, []any{nil, 1}, "NULL 1", "NULL 00000001"},
		{"bigints", sqltypes.Int64, []any{int64(math.MinInt64)}, "-9223372036854775808", "8000000000000000"},
		{"reals print float4 digits", sqltypes.Float32, []any{float32(0.1), float32(1e6)}, "0.1 1e+06", "3dcccccd 49742400"},
		{"doubles", sqltypes.Float64, []any{0.1, math.Inf(-1)}, "0.1 -Infinity", "3fb999999999999a fff0000000000000"},
		{"text is the same bytes in both formats", sqltypes.Text, []any{"héllo", ""}, "héllo ", "68c3a96c6c6f "},
		{"varchar is text", sqltypes.Varchar(3), []any{"abc"}, "abc", "616263"},
		{"timestamps count microseconds from 2000", sqltypes.Timestamp, []any{ts, time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)}, "2000-01-01_00:00:01.5 1999-12-31_23:59:59", "000000000016e360 fffffffffff0bdc0"},
		{"dates count days from 2000", sqltypes.Date, []any{time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)}, "2000-01-02 1970-01-01", "00000001 ffffd533"},
		{"intervals are microseconds, days, months", sqltypes.IntervalT, []any{arrow.MonthDayNanoInterval{Months: 1, Days: -2, Nanoseconds: 3000}}, "1_mon_-2_days_+00:00:00.000003", "0000000000000003fffffffe00000001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer alloc.AssertSize(t, 0)
			rec := column(t, alloc, tc.typ, tc.vals...)
			defer rec.Release()
			for _, f := range []struct {
				format int16
				want   string
			}{{formatText, tc.text}, {formatBinary, tc.binary}} {
				got := encodeValues(t, rec, tc.typ, f.format)
				for i := range got {
					got[i] = strings.ReplaceAll(got[i], " ", "_")
				}
				if g := strings.Join(got, " "); g != f.want {
					t.Errorf("format %d: got %q, want %q", f.format, g, f.want)
				}
			}
		})
	}
}

func TestEncodeRefusesAColumnOfTheWrongArrowType(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	rec := column(t, alloc, sqltypes.Int32, 1)
	defer rec.Release()
	var e rowEncoder
	err := e.encode(rec, 0, 1, []Field{{Name: "c", Type: sqltypes.Int64}}, []int16{0})
	if err == nil || !strings.Contains(err.Error(), "does not hold bigint") {
		t.Fatalf("error %v", err)
	}
	err = e.encode(rec, 0, 1, []Field{{Name: "a", Type: sqltypes.Int32}, {Name: "b", Type: sqltypes.Int32}}, []int16{0, 0})
	if err == nil {
		t.Fatal("encoded a record with too few columns")
	}
}

func TestEncodeARangeOfRows(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer alloc.AssertSize(t, 0)
	rec := column(t, alloc, sqltypes.Text, "a", nil, "c", "d")
	defer rec.Release()
	var e rowEncoder
	if err := e.encode(rec, 1, 3, []Field{{Name: "c", Type: sqltypes.Text}}, []int16{0}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := e.writeRows(w, 2); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	want := []byte{'D', 0, 0, 0, 10, 0, 1, 0xff, 0xff, 0xff, 0xff, 'D', 0, 0, 0, 11, 0, 1, 0, 0, 0, 1, 'c'}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("got %x, want %x", buf.Bytes(), want)
	}
}

func TestDecodeParam(t *testing.T) {
	be32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	be64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	tests := []struct {
		name     string
		typ      sqltypes.Type
		declared uint32
		format   int16
		in       []byte
		want     any
		wantCode string
	}{
		{"NULL is nil", sqltypes.Int32, 0, formatBinary, nil, nil, ""},
		{"text integers", sqltypes.Int16, 0, formatText, []byte(" 12 "), int64(12), ""},
		{"bad text integers", sqltypes.Int32, 0, formatText, []byte("x"), nil, sqlerr.InvalidTextRepresentation},
		{"binary bool", sqltypes.Bool, 16, formatBinary, []byte{2}, true, ""},
		{"binary int4", sqltypes.Int32, 0, formatBinary, be32(0xfffffffe), int64(-2), ""},
		{"binary int8 of the wrong length", sqltypes.Int64, 0, formatBinary, be32(1), nil, "22P03"},
		{"binary float4", sqltypes.Float32, 0, formatBinary, be32(math.Float32bits(0.1)), float64(float32(0.1)), ""},
		{"binary float8", sqltypes.Float64, 0, formatBinary, be64(math.Float64bits(-2.5)), -2.5, ""},
		{"binary text", sqltypes.Text, 25, formatBinary, []byte("é"), "é", ""},
		{"text with a NUL byte", sqltypes.Text, 0, formatText, []byte("a\x00"), nil, "22021"},
		{"binary timestamp", sqltypes.Timestamp, 0, formatBinary, be64(1_500_000), time.Date(2000, 1, 1, 0, 0, 1, 500000000, time.UTC), ""},
		{"binary timestamp before 2000", sqltypes.Timestamp, 0, formatBinary, be64(math.MaxUint64 - 999_999), time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"binary infinite timestamp", sqltypes.Timestamp, 0, formatBinary, be64(math.MaxInt64), nil, sqlerr.FeatureNotSupported},
		{"binary timestamp past PostgreSQL's range", sqltypes.Timestamp, 0, formatBinary, be64(math.MaxInt64 - 1), nil, sqlerr.DatetimeFieldOverflow},
		{"binary date", sqltypes.Date, 0, formatBinary, be32(366), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"binary interval", sqltypes.IntervalT, 0, formatBinary, append(be64(1), 0, 0, 0, 2, 0, 0, 0, 3), sqltypes.Interval{Months: 3, Days: 2, Micros: 1}, ""},
		{"text timestamptz applies the offset", sqltypes.Timestamp, sqltypes.OIDTimestampTZ, formatText, []byte("2020-01-01 01:00:00+01"), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"text timestamp ignores the offset", sqltypes.Timestamp, 0, formatText, []byte("2020-01-01 01:00:00+01"), time.Date(2020, 1, 1, 1, 0, 0, 0, time.UTC), ""},
		{"binary numeric is refused", sqltypes.Float64, sqltypes.OIDNumeric, formatBinary, be64(0), nil, sqlerr.FeatureNotSupported},
		{"binary of an unknown OID is refused", sqltypes.Text, 2950, formatBinary, make([]byte, 16), nil, sqlerr.FeatureNotSupported},
		{"text of an unknown OID is text", sqltypes.Text, 2950, formatText, []byte("uuid-ish"), "uuid-ish", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeParam(1, tc.typ, tc.declared, tc.format, tc.in)
			if tc.wantCode != "" {
				if code := sqlerr.Code(err); err == nil || code != tc.wantCode {
					t.Fatalf("got %v, %v (%s); want SQLSTATE %s", got, err, code, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if gt, ok := got.(time.Time); ok {
				if !gt.Equal(tc.want.(time.Time)) {
					t.Errorf("got %v, want %v", gt, tc.want)
				}
				return
			}
			if got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestFormatCodes(t *testing.T) {
	tests := []struct {
		name     string
		codes    []int16
		n        int
		want     string
		wantCode string
	}{
		{"none means all text", nil, 3, "[0 0 0]", ""},
		{"one applies to all", []int16{1}, 2, "[1 1]", ""},
		{"one each", []int16{1, 0}, 2, "[1 0]", ""},
		{"a count that fits neither is a protocol violation", []int16{1, 0}, 3, "", sqlerr.ProtocolViolation},
		{"codes other than 0 and 1 are refused", []int16{7}, 1, "", sqlerr.InvalidParameterValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := formatCodes(tc.codes, tc.n, "parameters")
			if tc.wantCode != "" {
				if sqlerr.Code(err) != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tc.want {
				t.Errorf("got %v, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func BenchmarkEncodeRows(b *testing.B) {
	alloc := memory.NewGoAllocator()
	const rows = 4096
	ib := array.NewInt64Builder(alloc)
	fb := array.NewFloat64Builder(alloc)
	sb := array.NewStringBuilder(alloc)
	tb := array.NewTimestampBuilder(alloc, &arrow.TimestampType{Unit: arrow.Microsecond})
	for i := range rows {
		ib.Append(int64(i) * 7919)
		fb.Append(float64(i) / 3)
		sb.Append("some text value")
		tb.Append(arrow.Timestamp(1_600_000_000_000_000 + int64(i)*1_000_123))
	}
	cols := []arrow.Array{ib.NewArray(), fb.NewArray(), sb.NewArray(), tb.NewArray()}
	fields := []Field{{Name: "i", Type: sqltypes.Int64}, {Name: "f", Type: sqltypes.Float64}, {Name: "s", Type: sqltypes.Text}, {Name: "t", Type: sqltypes.Timestamp}}
	af := make([]arrow.Field, len(fields))
	for i, f := range fields {
		af[i] = arrow.Field{Name: f.Name, Type: f.Type.Arrow()}
	}
	rec := array.NewRecord(arrow.NewSchema(af, nil), cols, rows)
	defer rec.Release()
	for _, format := range []int16{formatText, formatBinary} {
		b.Run(fmt.Sprintf("format %d", format), func(b *testing.B) {
			var e rowEncoder
			w := bufio.NewWriterSize(discard{}, 32<<10)
			formats := []int16{format, format, format, format}
			b.ReportAllocs()
			for b.Loop() {
				if err := e.encode(rec, 0, rows, fields, formats); err != nil {
					b.Fatal(err)
				}
				if err := e.writeRows(w, rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestAppendCopyText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is as is", "héllo, 'world' 1.5", "héllo, 'world' 1.5"},
		{"empty stays empty", "", ""},
		{"a backslash is doubled", `a\b`, `a\\b`},
		{"a backslash N is not NULL", `\N`, `\\N`},
		{"tab, newline and carriage return become letters", "a\tb\nc\rd", `a\tb\nc\rd`},
		{"backspace, form feed and vertical tab become letters", "\b\f\v", `\b\f\v`},
		{"other control characters are as is, as in PostgreSQL", "\x01\a\x1b\x7f", "\x01\a\x1b\x7f"},
		{"escapes at both ends", "\\mid\n", `\\mid\n`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendCopyText([]byte("prefix|"), []byte(tc.in)))
			if want := "prefix|" + tc.want; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}
