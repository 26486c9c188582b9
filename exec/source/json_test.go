package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
)

// jsonFields returns the Arrow fields of "name type" pairs.
func jsonFields(t testing.TB, cols ...Column) []arrow.Field {
	t.Helper()
	s, err := schemaOf(cols)
	if err != nil {
		t.Fatal(err)
	}
	return s.Fields()
}

// clicksCols is the schema of the design's clicks source.
var clicksCols = []Column{
	{"ts", sqltypes.Timestamp},
	{"user_id", sqltypes.Int64},
	{"page", sqltypes.Varchar(64)},
	{"latency_ms", sqltypes.Int32},
}

// allTypesCols has a column of every type the codec supports.
var allTypesCols = []Column{
	{"b", sqltypes.Bool},
	{"i16", sqltypes.Int16},
	{"i32", sqltypes.Int32},
	{"i64", sqltypes.Int64},
	{"f32", sqltypes.Float32},
	{"f64", sqltypes.Float64},
	{"s", sqltypes.Text},
	{"ts", sqltypes.Timestamp},
	{"d", sqltypes.Date},
	{"iv", sqltypes.IntervalT},
}

// decodeRows decodes msgs with a fresh decoder and returns the rows of the
// messages that decoded and the errors of those that did not (nil for
// the ones that did). It checks the all-or-nothing rule after every
// message: every builder grew by one row, or none did.
func decodeRows(t *testing.T, mem memory.Allocator, cols []Column, msgs ...string) ([][]any, []error) {
	t.Helper()
	fields := jsonFields(t, cols...)
	d, err := NewJSONDecoder(fields)
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	errs := make([]error, len(msgs))
	n := 0
	for i, m := range msgs {
		errs[i] = d.Decode([]byte(m), rb.Fields())
		if errs[i] == nil {
			n++
		}
		for c, b := range rb.Fields() {
			if b.Len() != n {
				t.Fatalf("after message %d (%q, error %v): builder %d has %d rows, want %d", i, m, errs[i], c, b.Len(), n)
			}
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	return rows([]arrow.Record{rec}), errs
}

// decodeOne decodes one message that must decode.
func decodeOne(t *testing.T, cols []Column, msg string) []any {
	t.Helper()
	got, errs := decodeRows(t, checkedAlloc(t), cols, msg)
	if errs[0] != nil {
		t.Fatalf("Decode(%s): %v", msg, errs[0])
	}
	return got[0]
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestJSONDecodeValues(t *testing.T) {
	i64 := []Column{{"n", sqltypes.Int64}}
	i16 := []Column{{"n", sqltypes.Int16}}
	f64 := []Column{{"x", sqltypes.Float64}}
	f32 := []Column{{"x", sqltypes.Float32}}
	text := []Column{{"s", sqltypes.Text}}
	tsc := []Column{{"ts", sqltypes.Timestamp}}
	dc := []Column{{"d", sqltypes.Date}}
	ivc := []Column{{"iv", sqltypes.IntervalT}}
	bc := []Column{{"b", sqltypes.Bool}}
	for _, tc := range []struct {
		name string
		cols []Column
		msg  string
		want []any
	}{
		{"A clicks message decodes", clicksCols,
			`{"ts":"2026-11-21T10:00:00.123Z","user_id":42,"page":"/home","latency_ms":345}`,
			[]any{ts("2026-11-21T10:00:00.123Z"), int64(42), "/home", int64(345)}},
		{"Keys may come in any order", clicksCols,
			`{"latency_ms":345,"page":"/home","user_id":42,"ts":"2026-11-21T10:00:00Z"}`,
			[]any{ts("2026-11-21T10:00:00Z"), int64(42), "/home", int64(345)}},
		{"White space is allowed around and inside the object", clicksCols,
			" \t\r\n{ \"user_id\" :\n42 , \"page\"\t:\"/a\" }\n ",
			[]any{nil, int64(42), "/a", nil}},
		{"An absent key and null give NULL", clicksCols,
			`{"user_id":null,"page":"/x"}`,
			[]any{nil, nil, "/x", nil}},
		{"An empty object gives a row of NULLs", clicksCols, `{}`, []any{nil, nil, nil, nil}},
		{"A key matches a column whose name differs in case", clicksCols,
			`{"USER_ID":7,"Page":"/p"}`, []any{nil, int64(7), "/p", nil}},
		{"An exact key wins over a case-insensitive one that comes after it", text,
			`{"s":"exact","S":"folded"}`, []any{"exact"}},
		{"An exact key wins over a case-insensitive one that comes before it", text,
			`{"S":"folded","s":"exact"}`, []any{"exact"}},
		{"The last of duplicate keys wins", text, `{"s":"first","s":"second"}`, []any{"second"}},
		{"The last of duplicate case-insensitive keys wins", text, `{"S":"first","S":"second"}`, []any{"second"}},
		{"An escaped key matches its column", text, `{"\u0073":"yes"}`, []any{"yes"}},
		{"Unknown keys are skipped with nested values holding braces and escapes", clicksCols,
			`{"meta":{"a":[1,{"b":"}]\"{["},[],{}],"c":"\\\""},"user_id":1,"tags":["x","]"],"z":null,"t":true,"n":-1.5e3}`,
			[]any{nil, int64(1), nil, nil}},
		{"A column name that is not ASCII matches case-insensitively", []Column{{"Größe", sqltypes.Int64}},
			`{"GRÖSSE":1,"größe":2}`, []any{int64(2)}},

		{"Bigint takes its limits", []Column{{"a", sqltypes.Int64}, {"b", sqltypes.Int64}},
			`{"a":9223372036854775807,"b":-9223372036854775808}`, []any{int64(math.MaxInt64), int64(math.MinInt64)}},
		{"Smallint takes its limits", []Column{{"a", sqltypes.Int16}, {"b", sqltypes.Int16}},
			`{"a":32767,"b":-32768}`, []any{int64(32767), int64(-32768)}},
		{"An integer column takes 3.0", i64, `{"n":3.0}`, []any{int64(3)}},
		{"An integer column takes 1e3", i64, `{"n":1e3}`, []any{int64(1000)}},
		{"An integer column takes 1.5E+1", i64, `{"n":1.5E+1}`, []any{int64(15)}},
		{"An integer column takes 2500e-2", i64, `{"n":2500e-2}`, []any{int64(25)}},
		{"An integer column takes 0.0012e4", i64, `{"n":0.0012e4}`, []any{int64(12)}},
		{"An integer column takes -0", i64, `{"n":-0}`, []any{int64(0)}},
		{"An integer column takes 0e999999999999", i64, `{"n":0e999999999999}`, []any{int64(0)}},
		{"An integer column takes -9.223372036854775808e18", i64, `{"n":-9.223372036854775808e18}`, []any{int64(math.MinInt64)}},
		{"Smallint takes 3.2767e4", i16, `{"n":3.2767e4}`, []any{int64(32767)}},

		{"A float column takes an integer", f64, `{"x":42}`, []any{float64(42)}},
		{"A float column takes a fraction and exponent", f64, `{"x":-1.25e-3}`, []any{-1.25e-3}},
		{"A float column takes the largest double", f64, `{"x":1.7976931348623157e308}`, []any{math.MaxFloat64}},
		{"A float column takes an underflow as zero", f64, `{"x":1e-400}`, []any{float64(0)}},
		{"A float column takes \"Infinity\"", f64, `{"x":"Infinity"}`, []any{math.Inf(1)}},
		{"A float column takes \"-infinity\"", f64, `{"x":"-infinity"}`, []any{math.Inf(-1)}},
		{"A float column takes \"-Inf\"", f64, `{"x":"-Inf"}`, []any{math.Inf(-1)}},
		{"A real column rounds to float32", f32, `{"x":0.1}`, []any{float64(float32(0.1))}},

		{"Text decodes every escape", text, `{"s":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC"}`, []any{"a\"b\\c/d\b\f\n\r\t\u00e9€"}},
		{"Text decodes a surrogate pair", text, `{"s":"\ud83d\ude00!"}`, []any{"😀!"}},
		{"Text decodes a lone surrogate as U+FFFD", text, `{"s":"a\ud83db\udc00"}`, []any{"a\ufffdb\ufffd"}},
		{"Text decodes a high surrogate before a non-surrogate escape as two characters", text, `{"s":"\ud83d\u0041"}`, []any{"\ufffdA"}},
		{"Text keeps UTF-8 as it is", text, `{"s":"日本語 ünïcode"}`, []any{"日本語 ünïcode"}},
		{"Text takes a number as its JSON text", text, `{"s":1.50e2}`, []any{"1.50e2"}},
		{"Text takes true as its JSON text", text, `{"s":true}`, []any{"true"}},
		{"Text takes false as its JSON text", text, `{"s":false}`, []any{"false"}},
		{"Text takes an object as its raw JSON text", text, `{"s":{"a": [1, "}"]} }`, []any{`{"a": [1, "}"]}`}},
		{"Text takes an array as its raw JSON text", text, `{"s":[ ]}`, []any{`[ ]`}},
		{"Text takes an empty string", text, `{"s":""}`, []any{""}},

		{"Boolean takes true", bc, `{"b":true}`, []any{true}},
		{"Boolean takes false", bc, `{"b":false}`, []any{false}},

		{"A timestamp with Z", tsc, `{"ts":"2026-11-21T22:40:52.838Z"}`, []any{ts("2026-11-21T22:40:52.838Z")}},
		{"A timestamp with an offset is converted to UTC", tsc, `{"ts":"2026-11-21T05:30:00+05:30"}`, []any{ts("2026-11-21T00:00:00Z")}},
		{"A timestamp with a negative offset crosses midnight", tsc, `{"ts":"2026-12-31T23:00:00-01:00"}`, []any{ts("2027-01-01T00:00:00Z")}},
		{"A timestamp with an offset of hhmm", tsc, `{"ts":"2026-11-21T01:00:00+0100"}`, []any{ts("2026-11-21T00:00:00Z")}},
		{"A timestamp with an offset of hh", tsc, `{"ts":"2026-11-21T01:00:00+01"}`, []any{ts("2026-11-21T00:00:00Z")}},
		{"A timestamp in lower case", tsc, `{"ts":"2026-11-21t10:00:00z"}`, []any{ts("2026-11-21T10:00:00Z")}},
		{"A timestamp without a zone is UTC", tsc, `{"ts":"2026-11-21T10:00:00.5"}`, []any{ts("2026-11-21T10:00:00.5Z")}},
		{"A timestamp with a space and no zone is UTC", tsc, `{"ts":"2026-11-21 10:00:00.123456"}`, []any{ts("2026-11-21T10:00:00.123456Z")}},
		{"A timestamp rounds nanoseconds half up", tsc, `{"ts":"2026-11-21T10:00:00.1234565Z"}`, []any{ts("2026-11-21T10:00:00.123457Z")}},
		{"A timestamp drops nanoseconds below half", tsc, `{"ts":"2026-11-21T10:00:00.1234564999Z"}`, []any{ts("2026-11-21T10:00:00.123456Z")}},
		{"A timestamp rounds up into the next second", tsc, `{"ts":"2026-11-21T10:00:00.9999999Z"}`, []any{ts("2026-11-21T10:00:01Z")}},
		{"A leap second runs into the next minute", tsc, `{"ts":"2016-12-31T23:59:60Z"}`, []any{ts("2017-01-01T00:00:00Z")}},
		{"A timestamp of a date alone is midnight", tsc, `{"ts":"2026-11-21"}`, []any{ts("2026-11-21T00:00:00Z")}},
		{"A timestamp takes milliseconds since 1970", tsc, `{"ts":1795298452838}`, []any{time.UnixMilli(1795298452838).UTC()}},
		{"A timestamp takes negative milliseconds", tsc, `{"ts":-1}`, []any{time.UnixMilli(-1).UTC()}},
		{"A timestamp takes milliseconds written 1.5e3", tsc, `{"ts":1.5e3}`, []any{time.UnixMilli(1500).UTC()}},
		{"A timestamp takes an expanded year", tsc, `{"ts":"+010000-01-01T00:00:00Z"}`, []any{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"A timestamp takes a negative year", tsc, `{"ts":"-000001-03-01T00:00:00Z"}`, []any{time.Date(-1, 3, 1, 0, 0, 0, 0, time.UTC)}},
		{"A timestamp takes the first of 4714 BC's last week", tsc, `{"ts":"-4713-11-24T00:00:00Z"}`, []any{time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC)}},
		{"A timestamp takes the last microsecond", tsc, `{"ts":"+294247-01-10T04:00:53.999999Z"}`, []any{time.UnixMicro(endTimestampMicros - 1).UTC()}},
		{"A timestamp with escapes is unescaped first", tsc, `{"ts":"2026-11-21T10:00:00\u005a"}`, []any{ts("2026-11-21T10:00:00Z")}},

		{"A date", dc, `{"d":"2026-11-21"}`, []any{date(2026, 11, 21)}},
		{"A date on a leap day", dc, `{"d":"2024-02-29"}`, []any{date(2024, 2, 29)}},
		{"A date of year 0", dc, `{"d":"0000-02-29"}`, []any{date(0, 2, 29)}},
		{"A date takes PostgreSQL's last day", dc, `{"d":"+5874897-12-31"}`, []any{date(5874897, 12, 31)}},

		{"An interval in PostgreSQL's form", ivc, `{"iv":"1 day 02:00:00"}`, []any{sqltypes.Interval{Days: 1, Micros: 2 * 3600 * 1e6}}},
		{"An interval in words", ivc, `{"iv":"5 minutes"}`, []any{sqltypes.Interval{Micros: 300 * 1e6}}},
		{"An interval in ISO 8601", ivc, `{"iv":"P1Y2M3DT4H"}`, []any{sqltypes.Interval{Months: 14, Days: 3, Micros: 4 * 3600 * 1e6}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeOne(t, tc.cols, tc.msg)
			if !equalRows([][]any{got}, [][]any{tc.want}) {
				t.Fatalf("Decode(%s):\n got %#v\nwant %#v", tc.msg, got, tc.want)
			}
		})
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	i64 := []Column{{"n", sqltypes.Int64}}
	for _, tc := range []struct {
		name string
		cols []Column
		msg  string
		code string
		want string // the whole message, or a prefix of it ending in "..."
	}{
		{"A string for an integer names the column", clicksCols, `{"latency_ms":"abc"}`,
			sqlerr.InvalidTextRepresentation, `column "latency_ms": "abc" is not an integer`},
		{"A fraction for an integer", i64, `{"n":3.5}`, sqlerr.InvalidTextRepresentation, `column "n": 3.5 is not an integer`},
		{"A small fraction for an integer", i64, `{"n":1e-3}`, sqlerr.InvalidTextRepresentation, `column "n": 1e-3 is not an integer`},
		{"A boolean for an integer", i64, `{"n":true}`, sqlerr.InvalidTextRepresentation, `column "n": true is not an integer`},
		{"An object for an integer is clipped", i64, `{"n":{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}`,
			sqlerr.InvalidTextRepresentation, `column "n": {"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is not an integer`},
		{"Bigint overflows by one", i64, `{"n":9223372036854775808}`, sqlerr.NumericValueOutOfRange,
			`column "n": 9223372036854775808 is out of range for type bigint`},
		{"Bigint underflows by one", i64, `{"n":-9223372036854775809}`, sqlerr.NumericValueOutOfRange,
			`column "n": -9223372036854775809 is out of range for type bigint`},
		{"Bigint overflows by an exponent", i64, `{"n":1e19}`, sqlerr.NumericValueOutOfRange,
			`column "n": 1e19 is out of range for type bigint`},
		{"Integer overflows", clicksCols, `{"latency_ms":2147483648}`, sqlerr.NumericValueOutOfRange,
			`column "latency_ms": 2147483648 is out of range for type integer`},
		{"Smallint overflows", []Column{{"n", sqltypes.Int16}}, `{"n":-32769}`, sqlerr.NumericValueOutOfRange,
			`column "n": -32769 is out of range for type smallint`},
		{"A double overflows", []Column{{"x", sqltypes.Float64}}, `{"x":1e309}`, sqlerr.NumericValueOutOfRange,
			`column "x": 1e309 is out of range for type double precision`},
		{"A real overflows", []Column{{"x", sqltypes.Float32}}, `{"x":3.5e38}`, sqlerr.NumericValueOutOfRange,
			`column "x": 3.5e38 is out of range for type real`},
		{"A numeric string for a float", []Column{{"x", sqltypes.Float64}}, `{"x":"1.5"}`, sqlerr.InvalidTextRepresentation,
			`column "x": "1.5" is not a number`},
		{"A number for a boolean", []Column{{"b", sqltypes.Bool}}, `{"b":1}`, sqlerr.InvalidTextRepresentation,
			`column "b": 1 is not a boolean`},
		{"A string for a boolean", []Column{{"b", sqltypes.Bool}}, `{"b":"true"}`, sqlerr.InvalidTextRepresentation,
			`column "b": "true" is not a boolean`},
		{"A timestamp in another format", clicksCols, `{"ts":"21/11/2026 10:00"}`, sqlerr.InvalidDatetimeFormat,
			`column "ts": "21/11/2026 10:00" is not a timestamp: want RFC 3339, such as 2006-01-02T15:04:05.999Z`},
		{"A timestamp in month 13", clicksCols, `{"ts":"2026-13-01T00:00:00Z"}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": "2026-13-01T00:00:00Z" is not a timestamp: month out of range`},
		{"A timestamp on February 29th of a common year", clicksCols, `{"ts":"2026-02-29T00:00:00Z"}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": "2026-02-29T00:00:00Z" is not a timestamp: day out of range`},
		{"A timestamp at 24:00", clicksCols, `{"ts":"2026-11-21T24:00:00Z"}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": "2026-11-21T24:00:00Z" is not a timestamp: time out of range`},
		{"A timestamp with a bad zone", clicksCols, `{"ts":"2026-11-21T10:00:00+25:00"}`, sqlerr.InvalidDatetimeFormat,
			`column "ts": "2026-11-21T10:00:00+25:00" is not a timestamp: want a zone Z, ±hh:mm, ±hhmm or ±hh`},
		{"A timestamp with a zone name", clicksCols, `{"ts":"2026-11-21T10:00:00 UTC"}`, sqlerr.InvalidDatetimeFormat,
			`column "ts": "2026-11-21T10:00:00 UTC" is not a timestamp: want RFC 3339...`},
		{"A timestamp without seconds", clicksCols, `{"ts":"2026-11-21T10:00Z"}`, sqlerr.InvalidDatetimeFormat,
			`column "ts": "2026-11-21T10:00Z" is not a timestamp: want RFC 3339...`},
		{"A timestamp with an empty fraction", clicksCols, `{"ts":"2026-11-21T10:00:00.Z"}`, sqlerr.InvalidDatetimeFormat,
			`column "ts": "2026-11-21T10:00:00.Z" is not a timestamp: want RFC 3339...`},
		{"A timestamp before 4714 BC", clicksCols, `{"ts":"-4713-11-23T23:59:59Z"}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": "-4713-11-23T23:59:59Z" is not a timestamp: out of range`},
		{"A timestamp after the last microsecond", clicksCols, `{"ts":"+294247-01-10T04:00:54Z"}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": "+294247-01-10T04:00:54Z" is not a timestamp: out of range`},
		{"A timestamp in milliseconds beyond the range", clicksCols, `{"ts":9223372036854776}`, sqlerr.DatetimeFieldOverflow,
			`column "ts": 9223372036854776 is not a timestamp: out of range`},
		{"A timestamp in fractional milliseconds", clicksCols, `{"ts":1.5}`, sqlerr.InvalidTextRepresentation,
			`column "ts": 1.5 is not a timestamp (want a string or whole milliseconds since 1970)`},
		{"A boolean for a timestamp", clicksCols, `{"ts":false}`, sqlerr.InvalidTextRepresentation,
			`column "ts": false is not a timestamp`},
		{"A timestamp for a date", []Column{{"d", sqltypes.Date}}, `{"d":"2026-11-21T00:00:00Z"}`, sqlerr.InvalidDatetimeFormat,
			`column "d": "2026-11-21T00:00:00Z" is not a date: want YYYY-MM-DD`},
		{"A number for a date", []Column{{"d", sqltypes.Date}}, `{"d":20261121}`, sqlerr.InvalidTextRepresentation,
			`column "d": 20261121 is not a date`},
		{"A date past PostgreSQL's last day", []Column{{"d", sqltypes.Date}}, `{"d":"+5874898-01-01"}`, sqlerr.DatetimeFieldOverflow,
			`column "d": "+5874898-01-01" is not a date: out of range`},
		{"A year of 5 digits without a sign", []Column{{"d", sqltypes.Date}}, `{"d":"10000-01-01"}`, sqlerr.InvalidDatetimeFormat,
			`column "d": "10000-01-01" is not a date: want YYYY-MM-DD`},
		{"A bad interval", []Column{{"iv", sqltypes.IntervalT}}, `{"iv":"5 fortnights"}`, sqlerr.InvalidDatetimeFormat,
			`column "iv": "5 fortnights" is not an interval: ...`},
		{"A number for an interval", []Column{{"iv", sqltypes.IntervalT}}, `{"iv":5}`, sqlerr.InvalidTextRepresentation,
			`column "iv": 5 is not an interval`},

		{"An empty message", clicksCols, ``, sqlerr.InvalidTextRepresentation, `malformed JSON: empty message`},
		{"A message of white space", clicksCols, " \n", sqlerr.InvalidTextRepresentation, `malformed JSON: empty message`},
		{"An array", clicksCols, `[1,2]`, sqlerr.InvalidTextRepresentation, `not a JSON object`},
		{"A number", clicksCols, ` 42 `, sqlerr.InvalidTextRepresentation, `not a JSON object`},
		{"A string", clicksCols, `"x"`, sqlerr.InvalidTextRepresentation, `not a JSON object`},
		{"JSON null", clicksCols, `null`, sqlerr.InvalidTextRepresentation, `not a JSON object`},
		{"Malformed JSON that is not an object", clicksCols, `[1,]`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 3: want a value, got ']'`},
		{"A missing closing brace", clicksCols, `{"user_id":1`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 12: want ',' or '}' after an object member, got the end of the message`},
		{"A trailing comma", clicksCols, `{"user_id":1,}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 13: want a string key, got '}'`},
		{"Trailing garbage", clicksCols, `{"user_id":1} x`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 14: want the end of the message after the object, got 'x'`},
		{"Two objects", clicksCols, `{}{}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 2: want the end of the message after the object, got '{'`},
		{"A single-quoted key", clicksCols, `{'page':1}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 1: want a string key, got '\''`},
		{"A missing colon", clicksCols, `{"page" 1}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 8: want ':' after an object key, got '1'`},
		{"A missing value", clicksCols, `{"page":}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 8: want a value, got '}'`},
		{"A bare word", clicksCols, `{"page":yes}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 8: want a value, got 'y'`},
		{"A truncated literal", clicksCols, `{"page":tru}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 8: want a value, got 't'`},
		{"A bare NaN", []Column{{"x", sqltypes.Float64}}, `{"x":NaN}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 5: want a value, got 'N'`},
		{"A number with a leading zero", i64, `{"n":01}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 6: want ',' or '}' after an object member, got '1'`},
		{"A number with a plus sign", i64, `{"n":+1}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 5: want a value, got '+'`},
		{"A number ending in a point", i64, `{"n":1.}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 7: want a digit after the decimal point, got '}'`},
		{"A number starting with a point", i64, `{"n":.5}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 5: want a value, got '.'`},
		{"A minus sign alone", i64, `{"n":-}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 6: want a digit, got '}'`},
		{"An exponent without digits", i64, `{"n":1e+}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 8: want a digit in the exponent, got '}'`},
		{"An unterminated string", clicksCols, `{"page":"/home}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 15: the string at byte 8 has no closing quote`},
		{"A bad escape", clicksCols, `{"page":"\x41"}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 10: want an escape character after '\', got 'x'`},
		{"A short \\u escape", clicksCols, `{"page":"\u12"}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 13: want 4 hexadecimal digits after '\u', got '"'`},
		{"A raw newline in a string", clicksCols, "{\"page\":\"a\nb\"}", sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 10: control character 0x0a in a string (it must be escaped)`},
		{"Invalid UTF-8 in a value", clicksCols, "{\"page\":\"a\xffb\"}", sqlerr.CharacterNotInRepertoire,
			`malformed JSON at byte 10: invalid UTF-8 in a string`},
		{"Invalid UTF-8 in a skipped value", clicksCols, "{\"other\":[\"\xc3\"]}", sqlerr.CharacterNotInRepertoire,
			`malformed JSON at byte 11: invalid UTF-8 in a string`},
		{"Invalid UTF-8 in a key", clicksCols, "{\"\xed\xa0\x80\":1}", sqlerr.CharacterNotInRepertoire,
			`malformed JSON at byte 2: invalid UTF-8 in a string`},
		{"Malformed JSON deep in a skipped value", clicksCols, `{"x":{"a":[1,2,{"b":}]},"page":"/"}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 20: want a value, got '}'`},
		{"A skipped array closed by a brace", clicksCols, `{"x":[1}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 7: want ',' or ']' after an array element, got '}'`},
		{"A skipped object closed by a bracket", clicksCols, `{"x":{"a":1]}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 11: want ',' or '}' after an object member, got ']'`},
		{"A skipped object with a non-string key", clicksCols, `{"x":{1:2}}`, sqlerr.InvalidTextRepresentation,
			`malformed JSON at byte 6: want a string key, got '1'`},
		{"Nesting too deep", clicksCols, `{"x":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`,
			sqlerr.InvalidTextRepresentation, fmt.Sprintf(`malformed JSON at byte %d: nested more than %d deep`, 5+maxJSONDepth, maxJSONDepth)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := decodeRows(t, checkedAlloc(t), tc.cols, tc.msg)
			err := errs[0]
			if err == nil {
				t.Fatalf("Decode(%q) succeeded, want error %s", tc.msg, tc.want)
			}
			if got := sqlerr.Code(err); got != tc.code {
				t.Errorf("Decode(%q): got SQLSTATE %s, want %s (%v)", tc.msg, got, tc.code, err)
			}
			got := err.Error()
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Fatalf("Decode(%q):\n got error %s\nwant one starting %s", tc.msg, got, prefix)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("Decode(%q):\n got error %s\nwant error %s", tc.msg, got, tc.want)
			}
		})
	}
}

func TestJSONDecodeAppendsNothingOnError(t *testing.T) {
	mem := checkedAlloc(t)
	msgs := []string{
		`{"ts":"2026-11-21T10:00:00Z","user_id":1,"page":"/a","latency_ms":10}`,
		// Each bad message has good columns before the bad one.
		`{"ts":"2026-11-21T10:00:01Z","user_id":2,"page":"/b","latency_ms":"slow"}`,
		`{"ts":"2026-11-21T10:00:02Z","user_id":3,"page":"/c","latency_ms":30} trailing`,
		`{"ts":"2026-11-21T10:00:03Z","user_id":4,"page":"/d\ud83d\ude00","latency_ms":40,`,
		`{"ts":"2026-11-21T10:00:04Z","user_id":5,"page":"/e","latency_ms":50}`,
		`{"ts":"2026-11-21T10:00:05Z","user_id":6,"page":"/f","latency_ms":1e10}`,
		`{"page":"/g","user_id":7}`,
	}
	got, errs := decodeRows(t, mem, clicksCols, msgs...)
	for i, want := range []bool{true, false, false, false, true, false, true} {
		if (errs[i] == nil) != want {
			t.Errorf("message %d: got error %v, want success %v", i, errs[i], want)
		}
	}
	assertRows(t, "rows", got, [][]any{
		{ts("2026-11-21T10:00:00Z"), int64(1), "/a", int64(10)},
		{ts("2026-11-21T10:00:04Z"), int64(5), "/e", int64(50)},
		{nil, int64(7), "/g", nil},
	})
}

func TestJSONDecodeMatchesKeysInWideSchemas(t *testing.T) {
	// More than mapColumns columns: keys are looked up in maps (and,
	// with a name that is not ASCII, case-insensitively in a loop).
	for _, unicode := range []bool{false, true} {
		t.Run(fmt.Sprintf("unicode=%v", unicode), func(t *testing.T) {
			var cols []Column
			var msg strings.Builder
			msg.WriteString(`{"junk":{"COL_3":1},`)
			for i := range 12 {
				cols = append(cols, Column{fmt.Sprintf("col_%d", i), sqltypes.Int64})
			}
			last := "col_last"
			if unicode {
				last = "Ünï"
			}
			cols = append(cols, Column{last, sqltypes.Int64})
			// Reverse order, upper case for odd columns, an exact
			// duplicate of column 5 before a case-insensitive one.
			for i := 11; i >= 0; i-- {
				name := fmt.Sprintf("col_%d", i)
				if i%2 == 1 {
					name = strings.ToUpper(name)
				}
				fmt.Fprintf(&msg, `"%s":%d,`, name, i*10)
			}
			fmt.Fprintf(&msg, `"col_5":55,"COL_5":56,"%s":99,"nope":1}`, strings.ToUpper(last))
			got := decodeOne(t, cols, msg.String())
			want := []any{int64(0), int64(10), int64(20), int64(30), int64(40), int64(55), int64(60), int64(70), int64(80), int64(90), int64(100), int64(110), int64(99)}
			if !equalRows([][]any{got}, [][]any{want}) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
		})
	}
}

func TestJSONDecoderReusesItsScratchSpace(t *testing.T) {
	// A decoder reuses its slots: a key present in one message must not
	// leak into the next, nor an escaped string's scratch.
	got, errs := decodeRows(t, checkedAlloc(t), clicksCols,
		`{"page":"a\nb","user_id":1}`,
		`{"latency_ms":2}`,
		`{"PAGE":"x","page":"y\"z","Page":"w"}`,
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	assertRows(t, "rows", got, [][]any{
		{nil, int64(1), "a\nb", nil},
		{nil, nil, nil, int64(2)},
		{nil, nil, "y\"z", nil},
	})
}

func TestJSONDecodeSetTextWidthCountsCharacters(t *testing.T) {
	d, err := NewJSONDecoder(jsonFields(t, Column{"n", sqltypes.Int64}, Column{"page", sqltypes.Text}))
	if err != nil {
		t.Fatal(err)
	}
	d.SetTextWidth(0, 2) // not a text column: no effect
	d.SetTextWidth(1, 4)
	mem := checkedAlloc(t)
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(jsonFields(t, Column{"n", sqltypes.Int64}, Column{"page", sqltypes.Text}), nil))
	defer rb.Release()
	for _, tc := range []struct {
		msg     string
		wantErr string
	}{
		{`{"n":12345,"page":"éééé"}`, ""},
		{`{"page":"\u00e9\u00e9\u00e9\u00e9"}`, ""},
		{`{"page":12.5}`, ""},
		{`{"page":"ééééé"}`, `column "page": value too long for type character varying(4)`},
		{`{"page":"a\tbcd"}`, `column "page": value too long for type character varying(4)`},
		{`{"page":[1,2,3]}`, `column "page": value too long for type character varying(4)`},
	} {
		err := d.Decode([]byte(tc.msg), rb.Fields())
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("Decode(%s): %v", tc.msg, err)
		case tc.wantErr != "" && err == nil:
			t.Errorf("Decode(%s) succeeded, want %s", tc.msg, tc.wantErr)
		case tc.wantErr != "":
			assertCode(t, err, sqlerr.StringDataRightTruncation, tc.wantErr)
		}
	}
	d.SetTextWidth(1, 0)
	if err := d.Decode([]byte(`{"page":"ééééé"}`), rb.Fields()); err != nil {
		t.Fatalf("after lifting the limit: %v", err)
	}
}

func TestNewJSONDecoderRefusesUnsupportedTypes(t *testing.T) {
	for _, f := range []arrow.Field{
		{Name: "b", Type: arrow.BinaryTypes.Binary},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "tz", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
	} {
		t.Run(f.Type.String(), func(t *testing.T) {
			_, err := NewJSONDecoder([]arrow.Field{f})
			assertCode(t, err, sqlerr.FeatureNotSupported, fmt.Sprintf("column %q", f.Name))
			_, err = NewJSONEncoder(arrow.NewSchema([]arrow.Field{f}, nil))
			assertCode(t, err, sqlerr.FeatureNotSupported, fmt.Sprintf("column %q", f.Name))
		})
	}
}

func TestJSONDecodeRefusesBuildersOfTheWrongType(t *testing.T) {
	mem := checkedAlloc(t)
	d, err := NewJSONDecoder(jsonFields(t, clicksCols...))
	if err != nil {
		t.Fatal(err)
	}
	good := array.NewRecordBuilder(mem, arrow.NewSchema(jsonFields(t, clicksCols...), nil))
	defer good.Release()
	wrong := array.NewInt64Builder(mem)
	defer wrong.Release()
	bs := append([]array.Builder(nil), good.Fields()...)
	bs[3] = wrong
	err = d.Decode([]byte(`{"latency_ms":1,"user_id":2}`), bs)
	assertCode(t, err, sqlerr.InternalError, `column "latency_ms"`)
	err = d.Decode([]byte(`{}`), bs[:2])
	assertCode(t, err, sqlerr.InternalError, "4 columns given 2 builders")
	for i, b := range bs {
		if b.Len() != 0 {
			t.Fatalf("builder %d has %d rows after failed decodes", i, b.Len())
		}
	}
}

func TestJSONDecodeAllocatesNothingPerMessage(t *testing.T) {
	mem := memory.NewGoAllocator()
	fields := jsonFields(t, allTypesCols...)
	d, err := NewJSONDecoder(fields)
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	msgs := [][]byte{
		[]byte(`{"b":true,"i16":1,"i32":2,"i64":3,"f32":1.5,"f64":-2.5e10,"s":"plain","ts":"2026-11-21T10:00:00.123Z","d":"2026-11-21","extra":{"x":[1,2,"}"]}}`),
		[]byte(`{"S":"esc\u00e9\n","f64":"NaN","ts":1795298452838,"i64":1e3,"B":false}`),
		[]byte(`{"i32":"bad"}`),
		[]byte(`not json`),
	}
	const runs = 1000
	rb.Reserve(4 * (runs + 1))
	for _, b := range rb.Fields() {
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.ReserveData(64 * 4 * (runs + 1))
		}
	}
	decodeAll := func() {
		for _, m := range msgs[:2] {
			if err := d.Decode(m, rb.Fields()); err != nil {
				t.Fatal(err)
			}
		}
	}
	decodeAll() // grow the scratch space
	if allocs := testing.AllocsPerRun(runs, decodeAll); allocs != 0 {
		t.Fatalf("Decode allocates %v times per pair of good messages, want 0", allocs)
	}
}

func TestJSONEncode(t *testing.T) {
	mem := checkedAlloc(t)
	for _, tc := range []struct {
		name string
		cols []Column
		row  []any
		want string
	}{
		{"A clicks row", clicksCols, []any{ts("2026-11-21T22:40:52.838Z"), int64(42), "/home", int64(345)},
			`{"ts":"2026-11-21T22:40:52.838Z","user_id":42,"page":"/home","latency_ms":345}`},
		{"NULLs are null", clicksCols, []any{nil, nil, nil, nil},
			`{"ts":null,"user_id":null,"page":null,"latency_ms":null}`},
		{"A timestamp without a fraction", clicksCols, []any{ts("2026-11-21T22:40:52Z"), nil, nil, nil},
			`{"ts":"2026-11-21T22:40:52Z","user_id":null,"page":null,"latency_ms":null}`},
		{"A timestamp with microseconds", []Column{{"ts", sqltypes.Timestamp}}, []any{ts("2026-11-21T22:40:52.000001Z")},
			`{"ts":"2026-11-21T22:40:52.000001Z"}`},
		{"A timestamp before 1970", []Column{{"ts", sqltypes.Timestamp}}, []any{ts("1969-12-31T23:59:59.5Z")},
			`{"ts":"1969-12-31T23:59:59.5Z"}`},
		{"A timestamp after 9999", []Column{{"ts", sqltypes.Timestamp}}, []any{time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC)},
			`{"ts":"+012345-06-07T08:09:10Z"}`},
		{"A timestamp BC", []Column{{"ts", sqltypes.Timestamp}}, []any{time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC)},
			`{"ts":"-004713-11-24T00:00:00Z"}`},
		{"Dates", []Column{{"a", sqltypes.Date}, {"b", sqltypes.Date}, {"c", sqltypes.Date}},
			[]any{date(2026, 11, 21), date(5874897, 12, 31), date(0, 1, 1)},
			`{"a":"2026-11-21","b":"+5874897-12-31","c":"0000-01-01"}`},
		{"Booleans", []Column{{"a", sqltypes.Bool}, {"b", sqltypes.Bool}}, []any{true, false}, `{"a":true,"b":false}`},
		{"Integers at their limits", []Column{{"a", sqltypes.Int16}, {"b", sqltypes.Int32}, {"c", sqltypes.Int64}},
			[]any{int64(math.MinInt16), int64(math.MaxInt32), int64(math.MinInt64)},
			`{"a":-32768,"b":2147483647,"c":-9223372036854775808}`},
		{"Doubles are shortest, with an exponent only when very large or small",
			[]Column{{"a", sqltypes.Float64}, {"b", sqltypes.Float64}, {"c", sqltypes.Float64}, {"d", sqltypes.Float64}, {"e", sqltypes.Float64}, {"f", sqltypes.Float64}, {"g", sqltypes.Float64}},
			[]any{0.1, 1e20, 1e21, 1e-6, 1e-7, -1.5e-300, math.Copysign(0, -1)},
			`{"a":0.1,"b":100000000000000000000,"c":1e+21,"d":0.000001,"e":1e-7,"f":-1.5e-300,"g":-0}`},
		{"NaN and infinities are strings", []Column{{"a", sqltypes.Float64}, {"b", sqltypes.Float64}, {"c", sqltypes.Float32}},
			[]any{math.NaN(), math.Inf(1), math.Inf(-1)},
			`{"a":"NaN","b":"Infinity","c":"-Infinity"}`},
		{"Reals are shortest as float32", []Column{{"a", sqltypes.Float32}}, []any{float64(float32(0.1))}, `{"a":0.1}`},
		{"Text is escaped", []Column{{"s", sqltypes.Text}}, []any{"q\"b\\n\n\r\t\b\f\x01\x1f\u2028\u2029é😀</>&"},
			`{"s":"q\"b\\n\n\r\t\b\f\u0001\u001f\u2028\u2029é😀</>&"}`},
		{"Invalid UTF-8 in text becomes U+FFFD", []Column{{"s", sqltypes.Text}}, []any{"a\xffb\xe2\x82"},
			"{\"s\":\"a\ufffdb\ufffd\ufffd\"}"},
		{"Names are escaped", []Column{{"a\"b", sqltypes.Int64}, {"ü\n", sqltypes.Int64}}, []any{int64(1), int64(2)},
			`{"a\"b":1,"ü\n":2}`},
		{"Intervals print as PostgreSQL does", []Column{{"a", sqltypes.IntervalT}, {"b", sqltypes.IntervalT}},
			[]any{sqltypes.Interval{Days: 1, Micros: 2 * 3600 * 1e6}, sqltypes.Interval{Months: -14, Micros: 500000}},
			`{"a":"1 day 02:00:00","b":"-1 years -2 mons +00:00:00.5"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := buildJSONRecord(t, mem, tc.cols, [][]any{tc.row})
			defer rec.Release()
			e, err := NewJSONEncoder(rec.Schema())
			if err != nil {
				t.Fatal(err)
			}
			got := string(e.Append([]byte("prefix "), rec.Columns(), 0))
			if want := "prefix " + tc.want; got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.want), &m); err != nil {
				t.Fatalf("encoding/json refuses the output: %v", err)
			}
		})
	}
}

// buildJSONRecord builds a record of cols from rows of Go values.
func buildJSONRecord(t testing.TB, mem memory.Allocator, cols []Column, rows [][]any) arrow.Record {
	t.Helper()
	s, err := schemaOf(cols)
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(mem, s)
	defer rb.Release()
	for _, row := range rows {
		for c, v := range row {
			if err := expr.AppendValue(rb.Field(c), v); err != nil {
				t.Fatalf("column %d value %v: %v", c, v, err)
			}
		}
	}
	return rb.NewRecord()
}

// randomRow returns a row of allTypesCols with random values anywhere in
// each type's range (and NULLs), the edges more often than chance would
// give them.
func randomRow(r *rand.Rand) []any {
	pick := func(edges ...int64) int64 { return edges[r.IntN(len(edges))] }
	text := func() string {
		alphabet := []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', 0, 0x1f, 0x7f, 'é', 'ß', '€', 0x2028, 0x2029, 0xfffd, '😀', '{', '}', '[', ']', ':', ','}
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	f64 := func() float64 {
		switch r.IntN(6) {
		case 0:
			return []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64, 1e21, 1e-7}[r.IntN(9)]
		case 1:
			return float64(r.Int64N(2000) - 1000)
		case 2:
			return r.NormFloat64() * 1000
		default:
			return math.Float64frombits(r.Uint64())
		}
	}
	const minTS, maxTS = minTimestampMicros, endTimestampMicros - 1
	row := []any{
		r.IntN(2) == 0,
		pick(math.MinInt16, math.MaxInt16, 0, -1, r.Int64N(1<<16)-1<<15),
		pick(math.MinInt32, math.MaxInt32, 0, r.Int64N(1<<32)-1<<31),
		pick(math.MinInt64, math.MaxInt64, 0, int64(r.Uint64())),
		float64(float32(f64())),
		f64(),
		text(),
		time.UnixMicro(pick(minTS, maxTS, 0, -1, 1795298452838000+r.Int64N(1e12), minTS+r.Int64N(maxTS/2)*2+r.Int64N(2))).UTC(),
		time.Unix(pick(minDateDays, maxDateDays, 0, -1, minDateDays+r.Int64N(maxDateDays-minDateDays+1))*86400, 0).UTC(),
		sqltypes.Interval{
			Months: int32(pick(0, 1, -1, 12, math.MaxInt32, math.MinInt32, int64(int32(r.Uint32())))),
			Days:   int32(pick(0, 1, -1, 31, math.MaxInt32, math.MinInt32, int64(int32(r.Uint32())))),
			Micros: pick(0, 1, -1, 86400e6, math.MaxInt64/1000, math.MinInt64/1000, r.Int64N(math.MaxInt64/1000)-r.Int64N(math.MaxInt64/1000)),
		},
	}
	for i := range row {
		if r.IntN(8) == 0 {
			row[i] = nil
		}
	}
	return row
}

// sameValue compares Go values of one column: floats by bits (all NaNs
// are one), times by instant.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

func TestJSONRoundTripsRandomRows(t *testing.T) {
	mem := checkedAlloc(t)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	want := make([][]any, n)
	for i := range want {
		want[i] = randomRow(r)
	}
	rec := buildJSONRecord(t, mem, allTypesCols, want)
	defer rec.Release()
	e, err := NewJSONEncoder(rec.Schema())
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewJSONDecoder(rec.Schema().Fields())
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(mem, rec.Schema())
	defer rb.Release()
	var buf []byte
	for i := range n {
		buf = e.Append(buf[:0], rec.Columns(), i)
		if !json.Valid(buf) || !utf8.Valid(buf) {
			t.Fatalf("row %d: the encoder wrote invalid JSON: %s", i, buf)
		}
		if err := d.Decode(buf, rb.Fields()); err != nil {
			t.Fatalf("row %d: %s does not decode: %v", i, buf, err)
		}
	}
	back := rb.NewRecord()
	defer back.Release()
	got := rows([]arrow.Record{back})
	for i := range want {
		for c := range want[i] {
			if !sameValue(got[i][c], want[i][c]) {
				buf = e.Append(buf[:0], rec.Columns(), i)
				t.Fatalf("row %d column %s: got %#v, want %#v (JSON %s)", i, allTypesCols[c].Name, got[i][c], want[i][c], buf)
			}
		}
	}
}

func TestCivilDaysAgreeWithPackageTime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(days int64) {
		tm := time.Unix(days*86400, 0).UTC()
		y, m, d := civilFromDays(days)
		if y != int64(tm.Year()) || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", days, y, m, d, tm)
		}
		if got := daysFromCivil(y, m, d); got != days {
			t.Fatalf("daysFromCivil(%d, %d, %d) = %d, want %d", y, m, d, got, days)
		}
	}
	for days := int64(-800_000); days <= 800_000; days++ { // ±2190 years, every day
		check(days)
	}
	for range 100_000 {
		check(r.Int64N(2*maxDateDays) - maxDateDays)
	}
	check(minDateDays)
	check(maxDateDays)
	if got := daysFromCivil(-4713, 11, 24); got != minDateDays {
		t.Fatalf("4714-11-24 BC is day %d, want %d", got, minDateDays)
	}
	if got := daysFromCivil(5874897, 12, 31); got != maxDateDays {
		t.Fatalf("5874897-12-31 is day %d, want %d", got, maxDateDays)
	}
}

// maxNesting returns how deeply msg nests brackets outside strings (an
// upper bound where msg is malformed).
func maxNesting(msg []byte) int {
	depth, most, inStr := 0, 0, false
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '{' || c == '['):
			depth++
			most = max(most, depth)
		case !inStr && (c == '}' || c == ']'):
			depth--
		}
	}
	return most
}

func FuzzJSONDecode(f *testing.F) {
	for _, seed := range []string{
		`{"ts":"2026-11-21T10:00:00.123Z","user_id":42,"page":"/home","latency_ms":345}`,
		`{"b":true,"i16":1,"i32":2,"i64":3,"f32":1.5,"f64":-2.5e10,"s":"x","ts":"2026-11-21 10:00:00","d":"2026-11-21","iv":"1 day"}`,
		`{"S":"\u00e9\ud83d\ude00\ud800","F64":"-Infinity","x":[{"y":"}"},[]],"i64":1e3,"ts":-1}`,
		`{"s":{"a":[1,2,{"b":null}]},"i32":2147483648}`,
		`{"s":1.5e+3,"b":false,"d":"+010000-01-01"}`,
		`[1,2]`, `"x"`, ``, ` `, `{`, `{"a"}`, `{"a":1,}`, `{"a":01}`, "{\"s\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	mem := memory.NewGoAllocator()
	fields := jsonFields(f, allTypesCols...)
	typed, err := NewJSONDecoder(fields)
	if err != nil {
		f.Fatal(err)
	}
	textCols := []Column{{"s", sqltypes.Text}, {"S2", sqltypes.Text}, {"ts", sqltypes.Text}}
	textFields := jsonFields(f, textCols...)
	text, err := NewJSONDecoder(textFields)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		valid := json.Valid(msg) && utf8.Valid(msg)
		object := len(bytes.TrimLeft(msg, " \t\r\n")) > 0 && bytes.TrimLeft(msg, " \t\r\n")[0] == '{'
		for _, c := range []struct {
			d      *JSONDecoder
			fields []arrow.Field
		}{{typed, fields}, {text, textFields}} {
			rb := array.NewRecordBuilder(mem, arrow.NewSchema(c.fields, nil))
			defer rb.Release()
			// One good row first, so a failed decode has something to
			// leave alone.
			if err := c.d.Decode([]byte(`{}`), rb.Fields()); err != nil {
				t.Fatal(err)
			}
			err := c.d.Decode(msg, rb.Fields())
			want := 1
			if err == nil {
				want = 2
			}
			for i, b := range rb.Fields() {
				if b.Len() != want {
					t.Fatalf("Decode(%q) = %v: builder %d has %d rows, want %d", msg, err, i, b.Len(), want)
				}
			}
			if err == nil && !valid {
				t.Fatalf("Decode(%q) succeeded, but encoding/json or utf8.Valid calls it invalid", msg)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "column ") && valid && object && maxNesting(msg) <= maxJSONDepth {
				t.Fatalf("Decode(%q) = %v, but it is a valid JSON object", msg, err)
			}
			if c.d != text {
				continue
			}
			// Text columns take every value: the decoder must agree with
			// encoding/json exactly.
			if (err == nil) != (valid && object && maxNesting(msg) <= maxJSONDepth) {
				t.Fatalf("Decode(%q) = %v; encoding/json says valid %v, object %v", msg, err, valid, object)
			}
			if err != nil {
				continue
			}
			var m map[string]any
			if json.Unmarshal(msg, &m) != nil {
				t.Fatalf("encoding/json cannot unmarshal %q", msg)
			}
			rec := rb.NewRecord()
			defer rec.Release()
			for i, col := range textCols {
				v, ok := m[col.Name]
				if !ok {
					continue // the decoder may have matched a key of another case
				}
				got := expr.ValueAt(rec.Column(i), 1)
				switch v := v.(type) {
				case nil:
					if got != nil {
						t.Fatalf("Decode(%q) column %s = %q, want NULL", msg, col.Name, got)
					}
				case string:
					if got != v {
						t.Fatalf("Decode(%q) column %s = %q, want %q", msg, col.Name, got, v)
					}
				case bool:
					if got != fmt.Sprint(v) {
						t.Fatalf("Decode(%q) column %s = %q, want %v", msg, col.Name, got, v)
					}
				}
			}
		}
	})
}
