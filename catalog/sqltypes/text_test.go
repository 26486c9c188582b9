package sqltypes_test

import (
	"bufio"
	"errors"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func TestFormatText(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		t    sqltypes.Type
		v    any
		want string
	}{
		{"true prints as t", sqltypes.Bool, true, "t"},
		{"false prints as f", sqltypes.Bool, false, "f"},
		{"a bigint prints in decimal", sqltypes.Int64, int64(math.MinInt64), "-9223372036854775808"},
		{"a smallint given as int16 prints too", sqltypes.Int16, int16(-7), "-7"},
		{"a double below 1e15 prints positionally", sqltypes.Float64, 123456789012345.0, "123456789012345"},
		{"a double at 1e15 switches to an exponent", sqltypes.Float64, 1e15, "1e+15"},
		{"a double below 1e-4 switches to an exponent", sqltypes.Float64, 1.5e-5, "1.5e-05"},
		{"a double at 1e-4 prints positionally", sqltypes.Float64, 0.0001, "0.0001"},
		{"negative zero keeps its sign", sqltypes.Float64, math.Copysign(0, -1), "-0"},
		{"NaN prints as NaN", sqltypes.Float64, math.NaN(), "NaN"},
		{"infinity prints as Infinity", sqltypes.Float64, math.Inf(1), "Infinity"},
		{"minus infinity prints as -Infinity", sqltypes.Float32, math.Inf(-1), "-Infinity"},
		{"a real at 1e6 switches to an exponent", sqltypes.Float32, 1e6, "1e+06"},
		{"a real below 1e6 prints positionally", sqltypes.Float32, 123456.0, "123456"},
		{"a real prints its shortest float4 digits", sqltypes.Float32, float64(float32(3.14159265358979)), "3.1415927"},
		{"a real held as float32 prints the same", sqltypes.Float32, float32(0.1), "0.1"},
		{"a double whose shortest digits sit on a rounding bound gets one more", sqltypes.Float64, 47147556852822064.0, "4.7147556852822064e+16"},
		{"a real whose shortest digits sit on a rounding bound gets one more", sqltypes.Float32, -524303616.0, "-5.2430362e+08"},
		{"the largest double prints", sqltypes.Float64, math.MaxFloat64, "1.7976931348623157e+308"},
		{"the largest real prints", sqltypes.Float32, math.MaxFloat32, "3.4028235e+38"},
		{"text prints as is", sqltypes.Text, "a\tb\"c", "a\tb\"c"},
		{"varchar prints as is", sqltypes.Varchar(3), "héllo", "héllo"},
		{"a timestamp without fraction", sqltypes.Timestamp, ts("2020-01-02 03:04:05"), "2020-01-02 03:04:05"},
		{"a timestamp fraction loses trailing zeros", sqltypes.Timestamp, ts("2020-01-02 03:04:05.12"), "2020-01-02 03:04:05.12"},
		{"a timestamp keeps microseconds", sqltypes.Timestamp, ts("2020-01-02 03:04:05.000001"), "2020-01-02 03:04:05.000001"},
		{"a timestamp in another zone prints in UTC", sqltypes.Timestamp, time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), "2020-01-02 02:04:05"},
		{"a timestamp before 1 AD prints BC", sqltypes.Timestamp, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01 00:00:00 BC"},
		{"a year below 1000 is zero padded", sqltypes.Timestamp, time.Date(20, 1, 1, 0, 0, 0, 0, time.UTC), "0020-01-01 00:00:00"},
		{"a year past 9999 prints all digits", sqltypes.Timestamp, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01 00:00:00"},
		{"a date", sqltypes.Date, time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC), "2020-01-02"},
		{"a date before 1 AD prints BC", sqltypes.Date, time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC), "4714-11-24 BC"},
		{"a zero interval prints a zero time", sqltypes.IntervalT, sqltypes.Interval{}, "00:00:00"},
		{"an interval of days and time", sqltypes.IntervalT, sqltypes.Interval{Days: 1, Micros: 7384000000}, "1 day 02:03:04"},
		{"months fold into years", sqltypes.IntervalT, sqltypes.Interval{Months: 14}, "1 year 2 mons"},
		{"a negative time has a sign", sqltypes.IntervalT, sqltypes.Interval{Micros: -1000000}, "-00:00:01"},
		{"a field after a negative one has an explicit sign", sqltypes.IntervalT, sqltypes.Interval{Months: -13, Days: 3, Micros: -14706000000}, "-1 years -1 mons +3 days -04:05:06"},
		{"a positive time after negative days has a plus", sqltypes.IntervalT, sqltypes.Interval{Days: -1, Micros: 7200000000}, "-1 days +02:00:00"},
		{"hours past a day stay hours", sqltypes.IntervalT, sqltypes.Interval{Micros: 25 * 3600000000}, "25:00:00"},
		{"the fraction of an interval loses trailing zeros", sqltypes.IntervalT, sqltypes.Interval{Micros: 1500000}, "00:00:01.5"},
		{"the largest interval time prints", sqltypes.IntervalT, sqltypes.Interval{Micros: math.MaxInt64}, "2562047788:00:54.775807"},
		{"the smallest interval time prints", sqltypes.IntervalT, sqltypes.Interval{Micros: math.MinInt64}, "-2562047788:00:54.775808"},
		{"a value of an unexpected Go type prints with fmt", sqltypes.Int32, "x", "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sqltypes.FormatText(tc.t, tc.v); got != tc.want {
				t.Errorf("FormatText(%s, %v) = %q, want %q", tc.t, tc.v, got, tc.want)
			}
		})
	}
}

func TestParseText(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		t        sqltypes.Type
		in       string
		want     any
		wantCode string
		wantMsg  string
	}{
		{"a prefix of true is true", sqltypes.Bool, "tr", true, "", ""},
		{"booleans ignore case and spaces", sqltypes.Bool, " YES ", true, "", ""},
		{"o alone is ambiguous", sqltypes.Bool, "o", nil, sqlerr.InvalidTextRepresentation, `invalid input syntax for type boolean: "o"`},
		{"integers allow spaces and a sign", sqltypes.Int32, " +12 ", int64(12), "", ""},
		{"integers reject fractions", sqltypes.Int32, "1.5", nil, sqlerr.InvalidTextRepresentation, `invalid input syntax for type integer: "1.5"`},
		{"smallint overflows past 32767", sqltypes.Int16, "32768", nil, sqlerr.NumericValueOutOfRange, `value "32768" is out of range for type smallint`},
		{"bigint takes its minimum", sqltypes.Int64, "-9223372036854775808", int64(math.MinInt64), "", ""},
		{"bigint names itself in errors", sqltypes.Int64, "x", nil, sqlerr.InvalidTextRepresentation, `invalid input syntax for type bigint: "x"`},
		{"float words are read", sqltypes.Float64, "-Infinity", math.Inf(-1), "", ""},
		{"float overflow is out of range", sqltypes.Float64, "1e400", nil, sqlerr.NumericValueOutOfRange, `"1e400" is out of range for type double precision`},
		{"float underflow to zero is out of range", sqltypes.Float32, "1e-50", nil, sqlerr.NumericValueOutOfRange, `"1e-50" is out of range for type real`},
		{"a real is rounded to float4", sqltypes.Float32, "0.1", float64(float32(0.1)), "", ""},
		{"hex floats need no exponent", sqltypes.Float64, "0x10", 16.0, "", ""},
		{"text is kept as is, spaces too", sqltypes.Text, " a ", " a ", "", ""},
		{"a timestamp with T and fraction", sqltypes.Timestamp, "2020-01-02T03:04:05.5", time.Date(2020, 1, 2, 3, 4, 5, 500000000, time.UTC), "", ""},
		{"a timestamp ignores its zone", sqltypes.Timestamp, "2020-01-02 03:04:05+05:30", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), "", ""},
		{"a date alone is midnight", sqltypes.Timestamp, "2020-01-02", date(2020, 1, 2), "", ""},
		{"epoch is 1970", sqltypes.Timestamp, "epoch", date(1970, 1, 1), "", ""},
		{"a bad timestamp is a syntax error", sqltypes.Timestamp, "abc", nil, sqlerr.InvalidDatetimeFormat, `invalid input syntax for type timestamp: "abc"`},
		{"February 30 is out of range", sqltypes.Date, "2020-02-30", nil, sqlerr.DatetimeFieldOverflow, `date/time field value out of range: "2020-02-30"`},
		{"a date drops the time of day", sqltypes.Date, "2020-01-02 10:00", date(2020, 1, 2), "", ""},
		{"now is refused, not frozen", sqltypes.Timestamp, "now", nil, sqlerr.FeatureNotSupported, `timestamp input "now" is not supported`},
		{"infinity is refused", sqltypes.Date, "infinity", nil, sqlerr.FeatureNotSupported, `date input "infinity" is not supported`},
		{"day-first dates are refused", sqltypes.Date, "01-02-2020", nil, sqlerr.InvalidDatetimeFormat, `invalid input syntax for type date: "01-02-2020"`},
		{"a minute", sqltypes.IntervalT, "1 minute", sqltypes.Interval{Micros: 60000000}, "", ""},
		{"units may touch their numbers", sqltypes.IntervalT, "200ms", sqltypes.Interval{Micros: 200000}, "", ""},
		{"a bare time", sqltypes.IntervalT, "00:05:00", sqltypes.Interval{Micros: 300000000}, "", ""},
		{"fractional days spill into time", sqltypes.IntervalT, "1.5 days", sqltypes.Interval{Days: 1, Micros: 12 * 3600000000}, "", ""},
		{"ago negates", sqltypes.IntervalT, "1 day 2 hours ago", sqltypes.Interval{Days: -1, Micros: -7200000000}, "", ""},
		{"ISO 8601 designators", sqltypes.IntervalT, "P1Y2M3DT4H5M6.5S", sqltypes.Interval{Months: 14, Days: 3, Micros: 14706500000}, "", ""},
		{"ISO 8601 alternative format is refused", sqltypes.IntervalT, "P0002-06-07T01:30:00", nil, sqlerr.InvalidDatetimeFormat, `invalid input syntax for type interval: "P0002-06-07T01:30:00"`},
		{"a unit twice is a syntax error", sqltypes.IntervalT, "1 day 1 day", nil, sqlerr.InvalidDatetimeFormat, `invalid input syntax for type interval: "1 day 1 day"`},
		{"sixty minutes overflow a time field", sqltypes.IntervalT, "00:60:00", nil, "22015", `interval field value out of range: "00:60:00"`},
		{"too many years overflow the interval", sqltypes.IntervalT, "178956971 years", nil, sqlerr.DatetimeFieldOverflow, "interval out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sqltypes.ParseText(tc.t, tc.in)
			if tc.wantCode != "" {
				var se *sqlerr.Error
				if !errors.As(err, &se) {
					t.Fatalf("ParseText(%s, %q) = %v, %v; want a *sqlerr.Error", tc.t, tc.in, got, err)
				}
				if se.Code != tc.wantCode || se.Message != tc.wantMsg {
					t.Errorf("ParseText(%s, %q) error = %s %q, want %s %q", tc.t, tc.in, se.Code, se.Message, tc.wantCode, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseText(%s, %q): %v", tc.t, tc.in, err)
			}
			if !equalValue(got, tc.want) {
				t.Errorf("ParseText(%s, %q) = %#v, want %#v", tc.t, tc.in, got, tc.want)
			}
		})
	}
}

func TestParseTimestampTZ(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     time.Time
		wantCode string
	}{
		{"an hour and minute offset is applied", "2020-01-02 03:04:05+05:30", time.Date(2020, 1, 1, 21, 34, 5, 0, time.UTC), ""},
		{"an hour offset is applied", "2020-01-02 03:04:05-08", time.Date(2020, 1, 2, 11, 4, 5, 0, time.UTC), ""},
		{"an offset with seconds, as pgx sends it, is applied", "2020-01-02 03:04:05.5+01:00:30", time.Date(2020, 1, 2, 2, 3, 35, 500000000, time.UTC), ""},
		{"a four digit offset is applied", "2020-01-02 03:04:05+0130", time.Date(2020, 1, 2, 1, 34, 5, 0, time.UTC), ""},
		{"Z is UTC", "2020-01-02 03:04:05Z", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"no offset means UTC", "2020-01-02 03:04:05", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"an offset past 15 hours is refused", "2020-01-02 03:04:05+16", time.Time{}, "22009"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sqltypes.ParseTimestampTZ(tc.in)
			if tc.wantCode != "" {
				if code := sqlerr.Code(err); code != tc.wantCode {
					t.Fatalf("ParseTimestampTZ(%q) error %v (%s), want SQLSTATE %s", tc.in, err, code, tc.wantCode)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("ParseTimestampTZ(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func equalValue(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	if fa, ok := a.(float64); ok && math.IsNaN(fa) {
		fb, ok := b.(float64)
		return ok && math.IsNaN(fb)
	}
	return a == b
}

// TestTextMatchesPostgres replays pg15Corpus: each line is a type, an input
// and what PostgreSQL 15.18 answered for `SELECT input::type` (its text
// output, or its SQLSTATE and message), collected with default settings.
// ParseText followed by FormatText must give the same answer.
func TestTextMatchesPostgres(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader(pg15Corpus))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		n++
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("bad corpus line %q", line)
		}
		typ, ok := sqltypes.ParseName(parts[0])
		if !ok {
			t.Fatalf("bad type in corpus line %q", line)
		}
		in, err := strconv.Unquote(parts[1])
		if err != nil {
			t.Fatalf("bad input in corpus line %q", line)
		}
		var got string
		v, err := sqltypes.ParseText(typ, in)
		if err != nil {
			se := sqlerr.As(err)
			got = "ERR " + se.Code + " " + se.Message
		} else {
			got = strconv.Quote(sqltypes.FormatText(typ, v))
		}
		if got != parts[2] {
			t.Errorf("%s %s: got %s, PostgreSQL says %s", parts[0], parts[1], got, parts[2])
		}
	}
	if n < 500 {
		t.Fatalf("corpus has %d lines, want the whole corpus", n)
	}
}

// TestTextRoundTrips checks ParseText(FormatText(v)) == v for random values
// of every type.
func TestTextRoundTrips(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	minTS := time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxTS := time.Date(200000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	gens := []struct {
		t   sqltypes.Type
		gen func() any
	}{
		{sqltypes.Bool, func() any { return r.Intn(2) == 0 }},
		{sqltypes.Int16, func() any { return int64(int16(r.Uint32())) }},
		{sqltypes.Int32, func() any { return int64(int32(r.Uint32())) }},
		{sqltypes.Int64, func() any { return int64(r.Uint64()) }},
		{sqltypes.Float32, func() any {
			f := float64(math.Float32frombits(r.Uint32()))
			if math.IsNaN(f) {
				return 0.5
			}
			return f
		}},
		{sqltypes.Float64, func() any {
			f := math.Float64frombits(r.Uint64())
			if math.IsNaN(f) {
				return 0.5
			}
			return f
		}},
		{sqltypes.Timestamp, func() any { return time.UnixMicro(minTS + r.Int63n(maxTS-minTS)).UTC() }},
		{sqltypes.Date, func() any {
			return time.UnixMicro(minTS + r.Int63n(maxTS-minTS)).UTC().Truncate(24 * time.Hour)
		}},
		{sqltypes.IntervalT, func() any {
			return sqltypes.Interval{Months: int32(r.Uint32()) / 13, Days: int32(r.Uint32()), Micros: int64(r.Uint64())}
		}},
	}
	for _, g := range gens {
		for i := 0; i < 2000; i++ {
			v := g.gen()
			s := sqltypes.FormatText(g.t, v)
			back, err := sqltypes.ParseText(g.t, s)
			if err != nil {
				t.Fatalf("%s %#v printed as %q does not parse: %v", g.t, v, s, err)
			}
			if !equalValue(back, v) {
				t.Fatalf("%s %#v printed as %q parses back as %#v", g.t, v, s, back)
			}
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	ts := time.Date(2020, 1, 2, 3, 4, 5, 123000, time.UTC)
	buf := make([]byte, 0, 64)
	for i := 0; i < b.N; i++ {
		buf = sqltypes.AppendFloat(buf[:0], 1234.5678, 64)
		buf = sqltypes.AppendTimestamp(buf[:0], ts)
	}
}

// pg15Corpus: see TestTextMatchesPostgres.
const pg15Corpus = `
bigint	"-9223372036854775808"	"-9223372036854775808"
bigint	"-9223372036854775809"	ERR 22003 value "-9223372036854775809" is out of range for type bigint
bigint	"9223372036854775807"	"9223372036854775807"
bigint	"9223372036854775808"	ERR 22003 value "9223372036854775808" is out of range for type bigint
bigint	"99999999999999999999999"	ERR 22003 value "99999999999999999999999" is out of range for type bigint
bigint	"x"	ERR 22P02 invalid input syntax for type bigint: "x"
bool	" yes "	"t"
bool	""	ERR 22P02 invalid input syntax for type boolean: ""
bool	"ON"	"t"
bool	"Y"	"t"
bool	"n"	"f"
bool	"o"	ERR 22P02 invalid input syntax for type boolean: "o"
bool	"of"	"f"
bool	"t"	"t"
bool	"tRuE"	"t"
bool	"truex"	ERR 22P02 invalid input syntax for type boolean: "truex"
bool	"ye"	"t"
date	" 2020-1-2 "	"2020-01-02"
date	"0001-01-01 BC"	"0001-01-01 BC"
date	"104230-01-07"	"104230-01-07"
date	"119033-10-24"	"119033-10-24"
date	"123088-12-13"	"123088-12-13"
date	"152713-03-24"	"152713-03-24"
date	"161575-03-31"	"161575-03-31"
date	"163077-10-22"	"163077-10-22"
date	"183652-01-19"	"183652-01-19"
date	"192920-08-14"	"192920-08-14"
date	"196534-05-04"	"196534-05-04"
date	"1977-07-15"	"1977-07-15"
date	"1988-06-04"	"1988-06-04"
date	"2004-02-20"	"2004-02-20"
date	"2008-04-15"	"2008-04-15"
date	"2012-06-28"	"2012-06-28"
date	"2014-02-19"	"2014-02-19"
date	"2020-01-02 03:04:05"	"2020-01-02"
date	"2020-01-02 25:00"	ERR 22008 date/time field value out of range: "2020-01-02 25:00"
date	"2020-01-02"	"2020-01-02"
date	"2020-01-02T10:00"	"2020-01-02"
date	"2020-02-30"	ERR 22008 date/time field value out of range: "2020-02-30"
date	"2020-06-18"	"2020-06-18"
date	"2022-01-12"	"2022-01-12"
date	"2028-01-14"	"2028-01-14"
date	"2031-01-02"	"2031-01-02"
date	"2035-09-12"	"2035-09-12"
date	"2039-07-16"	"2039-07-16"
date	"2049-12-27"	"2049-12-27"
date	"2050-05-31"	"2050-05-31"
date	"2055-06-10"	"2055-06-10"
date	"2068-07-26"	"2068-07-26"
date	"2069-07-16"	"2069-07-16"
date	"2070-02-25"	"2070-02-25"
date	"2075-10-29"	"2075-10-29"
date	"2095-12-07"	"2095-12-07"
date	"23976-02-25"	"23976-02-25"
date	"26766-01-11"	"26766-01-11"
date	"27055-05-11"	"27055-05-11"
date	"2965-01-12"	"2965-01-12"
date	"35915-06-14"	"35915-06-14"
date	"4512-09-02"	"4512-09-02"
date	"52295-06-30"	"52295-06-30"
date	"53055-02-23"	"53055-02-23"
date	"72944-03-30"	"72944-03-30"
date	"85580-10-22"	"85580-10-22"
date	"91022-07-24"	"91022-07-24"
date	"epoch"	"1970-01-01"
date	"x"	ERR 22007 invalid input syntax for type date: "x"
float4	"-0.5892803"	"-0.5892803"
float4	"-1.1007817e+09"	"-1.1007817e+09"
float4	"-1.7003985e-23"	"-1.7003985e-23"
float4	"-1.8925514e-06"	"-1.8925514e-06"
float4	"-1.9411977e+30"	"-1.9411977e+30"
float4	"-1.9629984e+35"	"-1.9629984e+35"
float4	"-2.0288227e+31"	"-2.0288227e+31"
float4	"-2.0812006"	"-2.0812006"
float4	"-2.1591871e-10"	"-2.1591871e-10"
float4	"-2.3583666e+08"	"-2.3583666e+08"
float4	"-2.6832134e+35"	"-2.6832134e+35"
float4	"-3.7071377e-09"	"-3.7071377e-09"
float4	"-4.261866e-29"	"-4.261866e-29"
float4	"-5.0066745e-05"	"-5.0066745e-05"
float4	"-5.0911196e-05"	"-5.0911196e-05"
float4	"-5.3756433e-27"	"-5.3756433e-27"
float4	"-7.1952024e-18"	"-7.1952024e-18"
float4	"-709.6042"	"-709.6042"
float4	"-78.543144"	"-78.543144"
float4	"-8.702494e-29"	"-8.702494e-29"
float4	"-9.733472e-08"	"-9.733472e-08"
float4	"-nan"	"NaN"
float4	"0.00001"	"1e-05"
float4	"0.0001234"	"0.0001234"
float4	"0.0011775433"	"0.0011775433"
float4	"0.0015055443"	"0.0015055443"
float4	"0.1"	"0.1"
float4	"0.41171318"	"0.41171318"
float4	"1.0142098e-09"	"1.0142098e-09"
float4	"1.0496341e+25"	"1.0496341e+25"
float4	"1.1078797e+19"	"1.1078797e+19"
float4	"1.10788306e-11"	"1.10788306e-11"
float4	"1.1601682e+27"	"1.1601682e+27"
float4	"1.2075714e+24"	"1.2075714e+24"
float4	"1.2346596e+16"	"1.2346596e+16"
float4	"1.2733928e+18"	"1.2733928e+18"
float4	"1.290231e+12"	"1.290231e+12"
float4	"1.2986884e-06"	"1.2986884e-06"
float4	"1.3727673e+16"	"1.3727673e+16"
float4	"1.3768413e+35"	"1.3768413e+35"
float4	"1.3919981e+37"	"1.3919981e+37"
float4	"1.4202794e-09"	"1.4202794e-09"
float4	"1.4319322e+08"	"1.4319322e+08"
float4	"1.4359528e-34"	"1.4359528e-34"
float4	"1.6391688e-10"	"1.6391688e-10"
float4	"1.7618915e-11"	"1.7618915e-11"
float4	"1.7995568e+34"	"1.7995568e+34"
float4	"1.8070515e-35"	"1.8070515e-35"
float4	"1.982802e+30"	"1.982802e+30"
float4	"1.9898577e-08"	"1.9898577e-08"
float4	"100000"	"100000"
float4	"1000000"	"1e+06"
float4	"1127.9562"	"1127.9562"
float4	"12.415237"	"12.415237"
float4	"123456"	"123456"
float4	"1234567"	"1.234567e+06"
float4	"16777217"	"1.6777216e+07"
float4	"1e-40"	"1e-40"
float4	"1e-46"	ERR 22003 "1e-46" is out of range for type real
float4	"1e-50"	ERR 22003 "1e-50" is out of range for type real
float4	"1e40"	ERR 22003 "1e40" is out of range for type real
float4	"2.0072724e+21"	"2.0072724e+21"
float4	"2.0760912e+33"	"2.0760912e+33"
float4	"2.149001e-14"	"2.149001e-14"
float4	"2.1662787e+34"	"2.1662787e+34"
float4	"2.474496e-14"	"2.474496e-14"
float4	"2.9109775e-05"	"2.9109775e-05"
float4	"3.029725e+16"	"3.029725e+16"
float4	"3.0528114e-38"	"3.0528114e-38"
float4	"3.14159265358979"	"3.1415927"
float4	"3.1802818e+34"	"3.1802818e+34"
float4	"3.4028235e38"	"3.4028235e+38"
float4	"3.5e38"	ERR 22003 "3.5e38" is out of range for type real
float4	"3.615778e+06"	"3.615778e+06"
float4	"3.619131e+14"	"3.619131e+14"
float4	"3.8618227e-06"	"3.8618227e-06"
float4	"3.9792325e+34"	"3.9792325e+34"
float4	"330.2894"	"330.2894"
float4	"4.2045435e+34"	"4.2045435e+34"
float4	"4.315307e-05"	"4.315307e-05"
float4	"4.5724162e-35"	"4.5724162e-35"
float4	"4.7407626e+32"	"4.7407626e+32"
float4	"4.7557145e+11"	"4.7557145e+11"
float4	"4.9844646e+16"	"4.9844646e+16"
float4	"5.7548496e-05"	"5.7548496e-05"
float4	"5.846549e+20"	"5.846549e+20"
float4	"5.945611e+16"	"5.945611e+16"
float4	"512268.56"	"512268.56"
float4	"56.755154"	"56.755154"
float4	"562463.75"	"562463.75"
float4	"6.2027087e-13"	"6.2027087e-13"
float4	"7.193698e+25"	"7.193698e+25"
float4	"7.270679e+08"	"7.270679e+08"
float4	"7.508742e-17"	"7.508742e-17"
float4	"7.7972257e+36"	"7.7972257e+36"
float4	"8.5831016e-11"	"8.5831016e-11"
float4	"9.075431e-20"	"9.075431e-20"
float4	"9.167265e-09"	"9.167265e-09"
float4	"9.310434e-07"	"9.310434e-07"
float4	"Infinity"	"Infinity"
float8	" 3.14 "	"3.14"
float8	""	ERR 22P02 invalid input syntax for type double precision: ""
float8	"+Infinity"	"Infinity"
float8	"-0"	"-0"
float8	"-0.0160886036072522"	"-0.0160886036072522"
float8	"-1.005171177251476e-10"	"-1.005171177251476e-10"
float8	"-1.1236479972590009e-13"	"-1.1236479972590009e-13"
float8	"-1.4966629902406713e+193"	"-1.4966629902406713e+193"
float8	"-1.8690376773239014e-212"	"-1.8690376773239014e-212"
float8	"-1.9067436034911543e-294"	"-1.9067436034911543e-294"
float8	"-1778269860191.0842"	"-1778269860191.0842"
float8	"-1e400"	ERR 22003 "-1e400" is out of range for type double precision
float8	"-2.0046399622625876e+110"	"-2.0046399622625876e+110"
float8	"-29906164924022.45"	"-29906164924022.45"
float8	"-3.291224820224236e+228"	"-3.291224820224236e+228"
float8	"-3.340097635602889e-07"	"-3.340097635602889e-07"
float8	"-3.417538071962728e+176"	"-3.417538071962728e+176"
float8	"-3.671649832414165e-284"	"-3.671649832414165e-284"
float8	"-4.191707202780852e-17"	"-4.191707202780852e-17"
float8	"-4.9637833740052843e+23"	"-4.9637833740052843e+23"
float8	"-5.9931254744674e-09"	"-5.9931254744674e-09"
float8	"-5946577521271.448"	"-5946577521271.448"
float8	"-6.393017242784393e+16"	"-6.393017242784393e+16"
float8	"-6.921964292832477e-17"	"-6.921964292832477e-17"
float8	"-7.023169492115987e-212"	"-7.023169492115987e-212"
float8	"-INFINITY"	"-Infinity"
float8	"-inf"	"-Infinity"
float8	".5"	"0.5"
float8	"0.00001"	"1e-05"
float8	"0.0001"	"0.0001"
float8	"0.000123456789"	"0.000123456789"
float8	"0.002674331871214394"	"0.002674331871214394"
float8	"0.003994651839409395"	"0.003994651839409395"
float8	"0.0743993379233193"	"0.0743993379233193"
float8	"0.1"	"0.1"
float8	"0.2580338385966142"	"0.2580338385966142"
float8	"0.9048901905993896"	"0.9048901905993896"
float8	"0x10"	"16"
float8	"0x1p4"	"16"
float8	"1.0"	"1"
float8	"1.0658162857803709e+38"	"1.0658162857803709e+38"
float8	"1.0858700684670148e+27"	"1.0858700684670148e+27"
float8	"1.0946663297816402e+25"	"1.0946663297816402e+25"
float8	"1.107398626254725e-11"	"1.107398626254725e-11"
float8	"1.1560317365860631e+33"	"1.1560317365860631e+33"
float8	"1.1963450832593375e-18"	"1.1963450832593375e-18"
float8	"1.2345e-100"	"1.2345e-100"
float8	"1.2460312153821495e+34"	"1.2460312153821495e+34"
float8	"1.441062598517242e+26"	"1.441062598517242e+26"
float8	"1.5e-5"	"1.5e-05"
float8	"1.618458999734081e-223"	"1.618458999734081e-223"
float8	"1.6747369828896466"	"1.6747369828896466"
float8	"1.7976931348623157e308"	"1.7976931348623157e+308"
float8	"1.8006001028326486e+17"	"1.8006001028326486e+17"
float8	"1.863680821906195e+27"	"1.863680821906195e+27"
float8	"1.8948094015757335e+28"	"1.8948094015757335e+28"
float8	"1.9926640975474553e-11"	"1.9926640975474553e-11"
float8	"100"	"100"
float8	"10000000000000"	"10000000000000"
float8	"12345.678901"	"12345.678901"
float8	"123456789012345"	"123456789012345"
float8	"1234567890123456"	"1.234567890123456e+15"
float8	"185400308122.7683"	"185400308122.7683"
float8	"1_0"	ERR 22P02 invalid input syntax for type double precision: "1_0"
float8	"1e"	ERR 22P02 invalid input syntax for type double precision: "1e"
float8	"1e-19"	"1e-19"
float8	"1e-310"	"1e-310"
float8	"1e-400"	ERR 22003 "1e-400" is out of range for type double precision
float8	"1e100"	"1e+100"
float8	"1e14"	"100000000000000"
float8	"1e15"	"1e+15"
float8	"1e400"	ERR 22003 "1e400" is out of range for type double precision
float8	"2.1763067264196742e+154"	"2.1763067264196742e+154"
float8	"2.2250738585072014e-308"	"2.2250738585072014e-308"
float8	"2.4218420084832184"	"2.4218420084832184"
float8	"2.47062681630463e-09"	"2.47062681630463e-09"
float8	"2.626424853921128e+28"	"2.626424853921128e+28"
float8	"209142207914.04895"	"209142207914.04895"
float8	"3.00247478846259e+30"	"3.00247478846259e+30"
float8	"3.355223253790658e-262"	"3.355223253790658e-262"
float8	"3.526056530144516e+16"	"3.526056530144516e+16"
float8	"32.73804872365569"	"32.73804872365569"
float8	"38806911.113024026"	"38806911.113024026"
float8	"4.111189464400137"	"4.111189464400137"
float8	"4.392761565817608e+29"	"4.392761565817608e+29"
float8	"4.845532265754425e+27"	"4.845532265754425e+27"
float8	"4422974.674395428"	"4422974.674395428"
float8	"4718062094359.564"	"4718062094359.564"
float8	"496345502103.2433"	"496345502103.2433"
float8	"5."	"5"
float8	"5.68394511740151e+36"	"5.68394511740151e+36"
float8	"556678.0249417756"	"556678.0249417756"
float8	"6.4022984339613e+17"	"6.4022984339613e+17"
float8	"6.444706720691267e+23"	"6.444706720691267e+23"
float8	"6.864547312211738e-18"	"6.864547312211738e-18"
float8	"60.323934855541"	"60.323934855541"
float8	"7.175183166288158e-47"	"7.175183166288158e-47"
float8	"7.311135286117586e+37"	"7.311135286117586e+37"
float8	"7.872937290348979e-218"	"7.872937290348979e-218"
float8	"744006.0838004493"	"744006.0838004493"
float8	"828.4755237655324"	"828.4755237655324"
float8	"86723887862.77142"	"86723887862.77142"
float8	"892642836856105"	"892642836856105"
float8	"9.15197524886305e+278"	"9.15197524886305e+278"
float8	"9.999999999999997e-17"	"9.999999999999997e-17"
float8	"9.999999999999998"	"9.999999999999998"
float8	"9.999999999999998e+18"	"9.999999999999998e+18"
float8	"9.999999999999998e-21"	"9.999999999999998e-21"
float8	"9.999999999999999e+17"	"9.999999999999999e+17"
float8	"9.999999999999999e-09"	"9.999999999999999e-09"
float8	"9.999999999999999e-10"	"9.999999999999999e-10"
float8	"99.99999999999997"	"99.99999999999997"
float8	"99999.99999999997"	"99999.99999999997"
float8	"999999.9999999999"	"999999.9999999999"
float8	"99999999.99999999"	"99999999.99999999"
float8	"9999999999.999998"	"9999999999.999998"
float8	"999999999999.9998"	"999999999999.9998"
float8	"99999999999999.98"	"99999999999999.98"
float8	"NaN"	"NaN"
float8	"abc"	ERR 22P02 invalid input syntax for type double precision: "abc"
float8	"inf"	"Infinity"
float8	"infinit"	ERR 22P02 invalid input syntax for type double precision: "infinit"
float8	"nan"	"NaN"
float8	"nan(123)"	"NaN"
integer	" -0 "	"0"
integer	"+"	ERR 22P02 invalid input syntax for type integer: "+"
integer	"-2147483648"	"-2147483648"
integer	"007"	"7"
integer	"0x10"	ERR 22P02 invalid input syntax for type integer: "0x10"
integer	"1 2"	ERR 22P02 invalid input syntax for type integer: "1 2"
integer	"12a"	ERR 22P02 invalid input syntax for type integer: "12a"
integer	"1_000"	ERR 22P02 invalid input syntax for type integer: "1_000"
integer	"2147483648"	ERR 22003 value "2147483648" is out of range for type integer
integer	"5\t"	"5"
integer	"99999999999"	ERR 22003 value "99999999999" is out of range for type integer
integer	"\t5"	"5"
interval	"  "	ERR 22007 invalid input syntax for type interval: "  "
interval	"  1 minute  "	"00:01:00"
interval	""	ERR 22007 invalid input syntax for type interval: ""
interval	"+1 day"	"1 day"
interval	"+1:30"	"01:30:00"
interval	"- 1 day"	"-1 days"
interval	"-0.000001 seconds"	"-00:00:00.000001"
interval	"-00:00:01"	"-00:00:01"
interval	"-08:47:36"	"-08:47:36"
interval	"-1 day -02:00:00"	"-1 days -02:00:00"
interval	"-1 day 02:00:00"	"-1 days +02:00:00"
interval	"-1 day"	"-1 days"
interval	"-1 days -00:00:00.5"	"-1 days -00:00:00.5"
interval	"-1 mon -1 day 1 second"	"-1 mons -1 days +00:00:01"
interval	"-1 mon 1 day"	"-1 mons +1 day"
interval	"-1 year -2 mons +3 days -04:05:06"	"-1 years -2 mons +3 days -04:05:06"
interval	"-1 year"	"-1 years"
interval	"-1 years +8 days -30:49:17"	"-1 years +8 days -30:49:17"
interval	"-1 years 2 mons"	"-10 mons"
interval	"-1-2"	"-1 years -2 mons"
interval	"-1.5 months"	"-1 mons -15 days"
interval	"-1.5 seconds"	"-00:00:01.5"
interval	"-1.5 weeks"	"-10 days -12:00:00"
interval	"-10 years -3 mons +8 days"	"-10 years -3 mons +8 days"
interval	"-12 days"	"-12 days"
interval	"-12 years -1 mons -10 days -115:38:52"	"-12 years -1 mons -10 days -115:38:52"
interval	"-12 years -10 mons +2562047788:00:54.775807"	"-12 years -10 mons +2562047788:00:54.775807"
interval	"-12 years -4 mons -50 days -17:32:16"	"-12 years -4 mons -50 days -17:32:16"
interval	"-12 years -8 mons -38 days -108:09:19.222008"	"-12 years -8 mons -38 days -108:09:19.222008"
interval	"-129:08:45.115388"	"-129:08:45.115388"
interval	"-13 days"	"-13 days"
interval	"-13 years -7 mons -6 days -29:01:24.417682"	"-13 years -7 mons -6 days -29:01:24.417682"
interval	"-13 years -8 mons +36 days"	"-13 years -8 mons +36 days"
interval	"-14 years -6 mons -18 days"	"-14 years -6 mons -18 days"
interval	"-14 years -8 mons +46 days"	"-14 years -8 mons +46 days"
interval	"-16 years -5 mons -20 days"	"-16 years -5 mons -20 days"
interval	"-16 years -6 mons"	"-16 years -6 mons"
interval	"-19:47:24.782438"	"-19:47:24.782438"
interval	"-1:30"	"-01:30:00"
interval	"-2 years -6 mons +25 days -87:11:31.368402"	"-2 years -6 mons +25 days -87:11:31.368402"
interval	"-20:47:07.485242"	"-20:47:07.485242"
interval	"-2147483648 days"	"-2147483648 days"
interval	"-22:17:53.91802"	"-22:17:53.91802"
interval	"-23:28:14"	"-23:28:14"
interval	"-3 days"	"-3 days"
interval	"-32 days +20:45:58.197965"	"-32 days +20:45:58.197965"
interval	"-32 days"	"-32 days"
interval	"-34:21:09.367758"	"-34:21:09.367758"
interval	"-39 days"	"-39 days"
interval	"-4 days -102:21:12"	"-4 days -102:21:12"
interval	"-4 mons -02:49:38"	"-4 mons -02:49:38"
interval	"-4 years -1 mons +11 days -99:01:40"	"-4 years -1 mons +11 days -99:01:40"
interval	"-43 days"	"-43 days"
interval	"-44 days"	"-44 days"
interval	"-45:42:51"	"-45:42:51"
interval	"-5 years -3 mons -17 days"	"-5 years -3 mons -17 days"
interval	"-50 days +21:08:35.805419"	"-50 days +21:08:35.805419"
interval	"-56:41:41.964846"	"-56:41:41.964846"
interval	"-6 years -11 mons -26:45:26.9532"	"-6 years -11 mons -26:45:26.9532"
interval	"-6 years -8 mons +16 days"	"-6 years -8 mons +16 days"
interval	"-6 years -9 mons +86:11:12.609257"	"-6 years -9 mons +86:11:12.609257"
interval	"-60:33:54.423163"	"-60:33:54.423163"
interval	"-7 years -4 mons -60:42:54.720425"	"-7 years -4 mons -60:42:54.720425"
interval	"-7 years -7 mons -06:04:55.987208"	"-7 years -7 mons -06:04:55.987208"
interval	"-75:28:17"	"-75:28:17"
interval	"-8 years -8 mons -11 days +75:40:35.405866"	"-8 years -8 mons -11 days +75:40:35.405866"
interval	"-8 years -9 mons +47 days 10:33:29"	"-8 years -9 mons +47 days 10:33:29"
interval	"-82:49:59.26796"	"-82:49:59.26796"
interval	"-9 years -9 mons +58:16:17"	"-9 years -9 mons +58:16:17"
interval	"-P1D"	ERR 22007 invalid input syntax for type interval: "-P1D"
interval	".5 days"	"12:00:00"
interval	"0 seconds"	"00:00:00"
interval	"0"	"00:00:00"
interval	"0.0000005 seconds"	"00:00:00"
interval	"0.000001 seconds"	"00:00:00.000001"
interval	"0.1 years"	"1 mon"
interval	"0.3 millennium"	"300 years"
interval	"0.5 ms"	"00:00:00.0005"
interval	"00:00:00"	"00:00:00"
interval	"00:00:59.9999999"	"00:01:00"
interval	"00:00:60"	"00:01:00"
interval	"00:00:60.5"	"00:01:00.5"
interval	"00:05:00"	"00:05:00"
interval	"00:60:00"	ERR 22015 interval field value out of range: "00:60:00"
interval	"01:00:00 1.5 days"	"1 day 01:00:00"
interval	"02:03 1"	ERR 22007 invalid input syntax for type interval: "02:03 1"
interval	"1 -02:03"	"1 day -02:03:00"
interval	"1 .5 days"	ERR 22007 invalid input syntax for type interval: "1 .5 days"
interval	"1 02:03"	"1 day 02:03:00"
interval	"1 02:03:04"	"1 day 02:03:04"
interval	"1 1"	ERR 22007 invalid input syntax for type interval: "1 1"
interval	"1 MINUTE"	"00:01:00"
interval	"1 ago"	ERR 22007 invalid input syntax for type interval: "1 ago"
interval	"1 centuries"	"100 years"
interval	"1 century"	"100 years"
interval	"1 d"	"1 day"
interval	"1 day +1 seconds"	"1 day 00:00:01"
interval	"1 day -"	ERR 22007 invalid input syntax for type interval: "1 day -"
interval	"1 day -02:00:00"	"1 day -02:00:00"
interval	"1 day -1 seconds"	"1 day -00:00:01"
interval	"1 day 00:00:00.000001"	"1 day 00:00:00.000001"
interval	"1 day 02:03:04"	"1 day 02:03:04"
interval	"1 day 1 day"	ERR 22007 invalid input syntax for type interval: "1 day 1 day"
interval	"1 day 1 h"	"1 day 01:00:00"
interval	"1 day 1 week"	"8 days"
interval	"1 day 1"	"1 day 00:00:01"
interval	"1 day 133:33:49"	"1 day 133:33:49"
interval	"1 day 1:30"	"1 day 01:30:00"
interval	"1 day 2 hours 3 minutes 4 seconds 5 milliseconds 6 microseconds"	"1 day 02:03:04.005006"
interval	"1 day 2 hours ago"	"-1 days -02:00:00"
interval	"1 day @"	"1 day"
interval	"1 day ago 1"	"-1 days -00:00:01"
interval	"1 day ago 2 hours"	"-1 days -02:00:00"
interval	"1 day ago"	"-1 days"
interval	"1 day"	"1 day"
interval	"1 day, 2 hours"	"1 day 02:00:00"
interval	"1 days 1 seconds"	"1 day 00:00:01"
interval	"1 days ago ago"	"-1 days"
interval	"1 decade"	"10 years"
interval	"1 decades"	"10 years"
interval	"1 fortnight"	ERR 22007 invalid input syntax for type interval: "1 fortnight"
interval	"1 hour 1 hour"	ERR 22007 invalid input syntax for type interval: "1 hour 1 hour"
interval	"1 hour 1"	"01:00:01"
interval	"1 hour ago"	"-01:00:00"
interval	"1 hours 01:00:00"	ERR 22007 invalid input syntax for type interval: "1 hours 01:00:00"
interval	"1 hr"	"01:00:00"
interval	"1 hrs"	"01:00:00"
interval	"1 m"	"00:01:00"
interval	"1 microsecond"	"00:00:00.000001"
interval	"1 microseconds"	"00:00:00.000001"
interval	"1 millennia"	"1000 years"
interval	"1 millennium"	"1000 years"
interval	"1 millisecond"	"00:00:00.001"
interval	"1 milliseconds "	"00:00:00.001"
interval	"1 min"	"00:01:00"
interval	"1 mins"	"00:01:00"
interval	"1 minute 1:00"	ERR 22007 invalid input syntax for type interval: "1 minute 1:00"
interval	"1 minute 30"	"00:01:30"
interval	"1 minute"	"00:01:00"
interval	"1 mon -1 day"	"1 mon -1 days"
interval	"1 mon"	"1 mon"
interval	"1 mons 1 mon"	ERR 22007 invalid input syntax for type interval: "1 mons 1 mon"
interval	"1 ms 1:00.5"	ERR 22007 invalid input syntax for type interval: "1 ms 1:00.5"
interval	"1 msec"	"00:00:00.001"
interval	"1 msecs"	"00:00:00.001"
interval	"1 sec"	"00:00:01"
interval	"1 second 1 millisecond"	"00:00:01.001"
interval	"1 seconds 0:1"	ERR 22007 invalid input syntax for type interval: "1 seconds 0:1"
interval	"1 secs"	"00:00:01"
interval	"1 us"	"00:00:00.000001"
interval	"1 usec"	"00:00:00.000001"
interval	"1 usecs"	"00:00:00.000001"
interval	"1 w"	"7 days"
interval	"1 week 1 day"	"8 days"
interval	"1 y"	"1 year"
interval	"1 year -1 mons -1 days 01:00:00"	"11 mons -1 days +01:00:00"
interval	"1 year -2 mons"	"10 mons"
interval	"1 year 0.5 months"	"1 year 15 days"
interval	"1 year 1 month 1 day 1 hour 1 minute 1 second"	"1 year 1 mon 1 day 01:01:01"
interval	"1 year 1 second"	"1 year 00:00:01"
interval	"1 year 2 mons"	"1 year 2 mons"
interval	"1 year 5 mons 15:35:24.493158"	"1 year 5 mons 15:35:24.493158"
interval	"1 yrs"	"1 year"
interval	"1"	"00:00:01"
interval	"1,5 days"	ERR 22007 invalid input syntax for type interval: "1,5 days"
interval	"1-2"	"1 year 2 mons"
interval	"1. day"	"1 day"
interval	"1."	"00:00:01"
interval	"1.01 centuries"	"101 years"
interval	"1.1 mon"	"1 mon 3 days"
interval	"1.1 seconds"	"00:00:01.1"
interval	"1.1 weeks"	"7 days 16:48:00"
interval	"1.5 days 01:00:00"	"1 day 13:00:00"
interval	"1.5 days"	"1 day 12:00:00"
interval	"1.5 decades"	"15 years"
interval	"1.5 hours"	"01:30:00"
interval	"1.5 months"	"1 mon 15 days"
interval	"1.5 ms 2 us"	"00:00:00.001502"
interval	"1.5 seconds 1 millisecond"	ERR 22007 invalid input syntax for type interval: "1.5 seconds 1 millisecond"
interval	"1.5 weeks"	"10 days 12:00:00"
interval	"1.5 years"	"1 year 6 mons"
interval	"1.5"	"00:00:01.5"
interval	"1.5:00"	ERR 22007 invalid input syntax for type interval: "1.5:00"
interval	"10 Minutes"	"00:10:00"
interval	"10 years 4 mons 39 days 120:20:26.96135"	"10 years 4 mons 39 days 120:20:26.96135"
interval	"10 years 7 mons 68:47:59.962137"	"10 years 7 mons 68:47:59.962137"
interval	"100 milliseconds"	"00:00:00.1"
interval	"100 ms"	"00:00:00.1"
interval	"100:00:00"	"100:00:00"
interval	"102:48:22"	"102:48:22"
interval	"104:49:19"	"104:49:19"
interval	"11 days"	"11 days"
interval	"11 years 10 mons 100:13:08"	"11 years 10 mons 100:13:08"
interval	"12 days 104:33:27.876963"	"12 days 104:33:27.876963"
interval	"12 years -8 days -35:17:29"	"12 years -8 days -35:17:29"
interval	"12 years 3 mons 4 days 77:22:53"	"12 years 3 mons 4 days 77:22:53"
interval	"120:55:17.763823"	"120:55:17.763823"
interval	"126:43:12"	"126:43:12"
interval	"127:49:09.948624"	"127:49:09.948624"
interval	"13 months"	"1 year 1 mon"
interval	"14 years 1 mon -4 days"	"14 years 1 mon -4 days"
interval	"14 years 3 mons 26 days -38:07:08"	"14 years 3 mons 26 days -38:07:08"
interval	"15 years 10 mons 127:59:30"	"15 years 10 mons 127:59:30"
interval	"15 years 5 mons -05:59:02.781041"	"15 years 5 mons -05:59:02.781041"
interval	"15 years 7 mons 53:12:37.074446"	"15 years 7 mons 53:12:37.074446"
interval	"16 days 135:07:21"	"16 days 135:07:21"
interval	"16 years 3 mons -25 days -95:07:29"	"16 years 3 mons -25 days -95:07:29"
interval	"16 years 5 mons 24 days -66:01:22.143156"	"16 years 5 mons 24 days -66:01:22.143156"
interval	"178956970 years"	"178956970 years"
interval	"178956971 years"	ERR 22008 interval out of range
interval	"1:00:00 1:00:00"	ERR 22007 invalid input syntax for type interval: "1:00:00 1:00:00"
interval	"1:2:3:4"	ERR 22007 invalid input syntax for type interval: "1:2:3:4"
interval	"1:30"	"01:30:00"
interval	"1:30.5"	"00:01:30.5"
interval	"1:30:15.123456789"	"01:30:15.123457"
interval	"1:59:59.5"	"01:59:59.5"
interval	"1:60"	ERR 22015 interval field value out of range: "1:60"
interval	"1e3 seconds"	ERR 22007 invalid input syntax for type interval: "1e3 seconds"
interval	"1h30m"	"01:30:00"
interval	"2 hours 3 minutes"	"02:03:00"
interval	"2 mon"	"2 mons"
interval	"2 weeks"	"14 days"
interval	"2 years 2 mons 13 days 109:09:08"	"2 years 2 mons 13 days 109:09:08"
interval	"2 years 5 mons -46 days"	"2 years 5 mons -46 days"
interval	"200ms"	"00:00:00.2"
interval	"2147483647 days"	"2147483647 days"
interval	"2147483648 days"	ERR 22015 interval field value out of range: "2147483648 days"
interval	"22 days 131:10:04.951475"	"22 days 131:10:04.951475"
interval	"25 hours"	"25:00:00"
interval	"2562047788:00:54.775807"	"2562047788:00:54.775807"
interval	"2562047788:00:54.775808"	ERR 22015 interval field value out of range: "2562047788:00:54.775808"
interval	"26 days 17:54:41.43762"	"26 days 17:54:41.43762"
interval	"27 days -126:49:37.31322"	"27 days -126:49:37.31322"
interval	"27 days -89:01:41"	"27 days -89:01:41"
interval	"29 days -62:29:43.418581"	"29 days -62:29:43.418581"
interval	"3 microseconds"	"00:00:00.000003"
interval	"3 years 2 mons -21 days -40:07:21.371185"	"3 years 2 mons -21 days -40:07:21.371185"
interval	"30 1 minute"	ERR 22007 invalid input syntax for type interval: "30 1 minute"
interval	"3000000 hours"	"3000000:00:00"
interval	"40 days"	"40 days"
interval	"43 days"	"43 days"
interval	"47 days 13:33:00.865965"	"47 days 13:33:00.865965"
interval	"5 ms 2 us"	"00:00:00.005002"
interval	"5 seconds"	"00:00:05"
interval	"5 years 5 mons -39 days -99:05:15.949736"	"5 years 5 mons -39 days -99:05:15.949736"
interval	"5"	"00:00:05"
interval	"50:03:28"	"50:03:28"
interval	"59:51:49"	"59:51:49"
interval	"5s"	"00:00:05"
interval	"6 years 1 mon -4 days +131:50:32.338099"	"6 years 1 mon -4 days +131:50:32.338099"
interval	"6 years 3 mons -44 days"	"6 years 3 mons -44 days"
interval	"6 years 4 mons -27 days -100:56:14.54815"	"6 years 4 mons -27 days -100:56:14.54815"
interval	"7 years 1 mon -50:18:42"	"7 years 1 mon -50:18:42"
interval	"7 years 1 mon 123:31:03"	"7 years 1 mon 123:31:03"
interval	"7 years 11 mons -03:07:49"	"7 years 11 mons -03:07:49"
interval	"7 years 7 mons -108:21:09.410349"	"7 years 7 mons -108:21:09.410349"
interval	"7 years 8 days 07:44:07.34053"	"7 years 8 days 07:44:07.34053"
interval	"8 years 2 mons 129:41:03"	"8 years 2 mons 129:41:03"
interval	"84:31:25.073559"	"84:31:25.073559"
interval	"9 years 10 mons 14 days 80:34:08.087265"	"9 years 10 mons 14 days 80:34:08.087265"
interval	"9 years 5 mons -42:06:13"	"9 years 5 mons -42:06:13"
interval	"9223372036854775807 us"	"2562047788:00:54.775807"
interval	"9223372036854775808 us"	ERR 22015 interval field value out of range: "9223372036854775808 us"
interval	"94:51:04"	"94:51:04"
interval	"9999999999 hours"	ERR 22015 interval field value out of range: "9999999999 hours"
interval	"@ 1 day"	"1 day"
interval	"@1 day"	"1 day"
interval	"P"	ERR 22007 invalid input syntax for type interval: "P"
interval	"P-1D"	"-1 days"
interval	"P1.5D"	"1 day 12:00:00"
interval	"P1.5M"	"1 mon 15 days"
interval	"P1.5W"	"10 days 12:00:00"
interval	"P1.5Y"	"1 year 6 mons"
interval	"P1D"	"1 day"
interval	"P1D2H"	ERR 22007 invalid input syntax for type interval: "P1D2H"
interval	"P1DT"	"1 day"
interval	"P1DT1H2M3S"	"1 day 01:02:03"
interval	"P1M"	"1 mon"
interval	"P1W"	"7 days"
interval	"P1Y1Y"	"2 years"
interval	"P1Y2M3DT4H5M6.5S"	"1 year 2 mons 3 days 04:05:06.5"
interval	"PT"	"00:00:00"
interval	"PT1.5H"	"01:30:00"
interval	"PT1H30M"	"01:30:00"
interval	"PT1M"	"00:01:00"
interval	"PT1S1M"	"00:01:01"
interval	"abc"	ERR 22007 invalid input syntax for type interval: "abc"
interval	"ago"	ERR 22007 invalid input syntax for type interval: "ago"
interval	"day"	ERR 22007 invalid input syntax for type interval: "day"
interval	"p1d"	ERR 22007 invalid input syntax for type interval: "p1d"
interval	"yesterday"	ERR 22007 invalid input syntax for type interval: "yesterday"
smallint	" "	ERR 22P02 invalid input syntax for type smallint: " "
smallint	" +12 "	"12"
smallint	""	ERR 22P02 invalid input syntax for type smallint: ""
smallint	"-32768"	"-32768"
smallint	"1.5"	ERR 22P02 invalid input syntax for type smallint: "1.5"
smallint	"32767"	"32767"
smallint	"32768"	ERR 22003 value "32768" is out of range for type smallint
smallint	"abc"	ERR 22P02 invalid input syntax for type smallint: "abc"
timestamp	" 2020-01-02 03:04 "	"2020-01-02 03:04:00"
timestamp	""	ERR 22007 invalid input syntax for type timestamp: ""
timestamp	"0000-01-01"	ERR 22008 date/time field value out of range: "0000-01-01"
timestamp	"0001-01-01 BC"	"0001-01-01 00:00:00 BC"
timestamp	"020-01-01"	"0020-01-01 00:00:00"
timestamp	"10000-01-01"	"10000-01-01 00:00:00"
timestamp	"100233-12-27 14:48:47.321957"	"100233-12-27 14:48:47.321957"
timestamp	"100472-02-22 21:22:05.803941"	"100472-02-22 21:22:05.803941"
timestamp	"101368-09-04 04:15:11.115056"	"101368-09-04 04:15:11.115056"
timestamp	"107841-12-07 18:41:51"	"107841-12-07 18:41:51"
timestamp	"109376-08-17 06:24:51"	"109376-08-17 06:24:51"
timestamp	"114315-06-26 22:29:08"	"114315-06-26 22:29:08"
timestamp	"119033-10-24 03:25:31.921747"	"119033-10-24 03:25:31.921747"
timestamp	"11958-04-18 04:27:16"	"11958-04-18 04:27:16"
timestamp	"128108-09-24 03:15:02"	"128108-09-24 03:15:02"
timestamp	"128428-10-13 12:14:50.96791"	"128428-10-13 12:14:50.96791"
timestamp	"132678-06-25 14:03:27.85058"	"132678-06-25 14:03:27.85058"
timestamp	"135495-12-28 18:08:55.780323"	"135495-12-28 18:08:55.780323"
timestamp	"136388-06-23 01:31:25.888729"	"136388-06-23 01:31:25.888729"
timestamp	"145169-11-20 13:29:18.041919"	"145169-11-20 13:29:18.041919"
timestamp	"154479-01-31 20:54:33"	"154479-01-31 20:54:33"
timestamp	"161575-03-31 18:03:19.22127"	"161575-03-31 18:03:19.22127"
timestamp	"163077-10-22 03:15:35.184048"	"163077-10-22 03:15:35.184048"
timestamp	"170260-01-28 16:47:11.505768"	"170260-01-28 16:47:11.505768"
timestamp	"186054-11-01 08:39:28.164232"	"186054-11-01 08:39:28.164232"
timestamp	"1900-02-29"	ERR 22008 date/time field value out of range: "1900-02-29"
timestamp	"19202-09-02 06:54:44.557133"	"19202-09-02 06:54:44.557133"
timestamp	"1977-06-25 23:03:41.185168"	"1977-06-25 23:03:41.185168"
timestamp	"1980-07-27 21:15:12.781958"	"1980-07-27 21:15:12.781958"
timestamp	"1981-07-12 00:48:15.730807"	"1981-07-12 00:48:15.730807"
timestamp	"1983-01-03 09:59:35.288702"	"1983-01-03 09:59:35.288702"
timestamp	"1983-07-31 18:26:29"	"1983-07-31 18:26:29"
timestamp	"1987-02-15 04:25:56.782088"	"1987-02-15 04:25:56.782088"
timestamp	"1989-04-20 04:34:10.130584"	"1989-04-20 04:34:10.130584"
timestamp	"1989-12-19 10:08:53.183612"	"1989-12-19 10:08:53.183612"
timestamp	"1990-09-02 01:36:13.504685"	"1990-09-02 01:36:13.504685"
timestamp	"1991-01-04 09:46:15.643302"	"1991-01-04 09:46:15.643302"
timestamp	"1997-05-20 13:43:57.216355"	"1997-05-20 13:43:57.216355"
timestamp	"1999-12-31 23:59:59.000001"	"1999-12-31 23:59:59.000001"
timestamp	"2002-07-02 21:25:27.079201"	"2002-07-02 21:25:27.079201"
timestamp	"2004-02-23 14:37:34.34896"	"2004-02-23 14:37:34.34896"
timestamp	"2007-02-01 00:16:28.375485"	"2007-02-01 00:16:28.375485"
timestamp	"2014-01-21 21:11:55"	"2014-01-21 21:11:55"
timestamp	"2014-05-04 22:09:24.74496"	"2014-05-04 22:09:24.74496"
timestamp	"2016-02-05 18:23:22.234126"	"2016-02-05 18:23:22.234126"
timestamp	"2017-03-03 23:08:32.759888"	"2017-03-03 23:08:32.759888"
timestamp	"2017-11-27 05:09:58.55761"	"2017-11-27 05:09:58.55761"
timestamp	"2020-00-01"	ERR 22008 date/time field value out of range: "2020-00-01"
timestamp	"2020-01-00"	ERR 22008 date/time field value out of range: "2020-01-00"
timestamp	"2020-01-02  03:04:05"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03"	ERR 22007 invalid input syntax for type timestamp: "2020-01-02 03"
timestamp	"2020-01-02 03:04:05 +05"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05 AD"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05 BC"	"2020-01-02 03:04:05 BC"
timestamp	"2020-01-02 03:04:05 UTC"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05+05"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05+05:30"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05-0800"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05."	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05.0000005"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 03:04:05.0000015"	"2020-01-02 03:04:05.000002"
timestamp	"2020-01-02 03:04:05.1234567"	"2020-01-02 03:04:05.123457"
timestamp	"2020-01-02 03:04:05.9999995"	"2020-01-02 03:04:06"
timestamp	"2020-01-02 03:04:05Z"	"2020-01-02 03:04:05"
timestamp	"2020-01-02 23:59:60"	"2020-01-03 00:00:00"
timestamp	"2020-01-02 23:60:00"	ERR 22008 date/time field value out of range: "2020-01-02 23:60:00"
timestamp	"2020-01-02 24:00:00"	"2020-01-03 00:00:00"
timestamp	"2020-01-02 24:00:01"	ERR 22008 date/time field value out of range: "2020-01-02 24:00:01"
timestamp	"2020-01-02 25:00:00"	ERR 22008 date/time field value out of range: "2020-01-02 25:00:00"
timestamp	"2020-01-02 3:04:05 pm"	"2020-01-02 15:04:05"
timestamp	"2020-01-02"	"2020-01-02 00:00:00"
timestamp	"2020-01-02T03:04"	"2020-01-02 03:04:00"
timestamp	"2020-01-02T03:04:05.123"	"2020-01-02 03:04:05.123"
timestamp	"2020-01-02T03:04:05.5Z"	"2020-01-02 03:04:05.5"
timestamp	"2020-01-02x"	ERR 22007 invalid input syntax for type timestamp: "2020-01-02x"
timestamp	"2020-02-30"	ERR 22008 date/time field value out of range: "2020-02-30"
timestamp	"2020-06-18 22:56:22.998236"	"2020-06-18 22:56:22.998236"
timestamp	"2020-1-2 3:4:5"	"2020-01-02 03:04:05"
timestamp	"2020-13-01"	ERR 22008 date/time field value out of range: "2020-13-01"
timestamp	"2020/01/02"	"2020-01-02 00:00:00"
timestamp	"20200102 030405"	"2020-01-02 03:04:05"
timestamp	"20200102"	"2020-01-02 00:00:00"
timestamp	"2022-01-12 22:16:51.977766"	"2022-01-12 22:16:51.977766"
timestamp	"2023-02-28 18:59:00.596854"	"2023-02-28 18:59:00.596854"
timestamp	"2023-02-29"	ERR 22008 date/time field value out of range: "2023-02-29"
timestamp	"2023-06-30 07:07:43.230929"	"2023-06-30 07:07:43.230929"
timestamp	"2023-07-13 04:16:51"	"2023-07-13 04:16:51"
timestamp	"2024-02-29"	"2024-02-29 00:00:00"
timestamp	"2026-12-30 19:46:08.420949"	"2026-12-30 19:46:08.420949"
timestamp	"2028-01-14 23:00:03.127901"	"2028-01-14 23:00:03.127901"
timestamp	"2032-05-11 03:04:42.269805"	"2032-05-11 03:04:42.269805"
timestamp	"2033-07-15 04:28:54"	"2033-07-15 04:28:54"
timestamp	"2035-02-09 11:23:42.554912"	"2035-02-09 11:23:42.554912"
timestamp	"20351-09-26 15:12:35.622876"	"20351-09-26 15:12:35.622876"
timestamp	"2036-05-16 07:27:42.734438"	"2036-05-16 07:27:42.734438"
timestamp	"2040-11-01 18:43:48.591007"	"2040-11-01 18:43:48.591007"
timestamp	"2042-11-22 23:23:52.667067"	"2042-11-22 23:23:52.667067"
timestamp	"2042-12-24 01:56:45.183957"	"2042-12-24 01:56:45.183957"
timestamp	"2048-11-17 19:48:28.003715"	"2048-11-17 19:48:28.003715"
timestamp	"2050-05-31 12:19:48.239924"	"2050-05-31 12:19:48.239924"
timestamp	"2061-03-07 01:02:31"	"2061-03-07 01:02:31"
timestamp	"2062-07-31 09:01:46.348861"	"2062-07-31 09:01:46.348861"
timestamp	"2068-07-26 20:35:48.154977"	"2068-07-26 20:35:48.154977"
timestamp	"2069-07-16 08:31:27.304333"	"2069-07-16 08:31:27.304333"
timestamp	"2070-02-25 07:27:20.107174"	"2070-02-25 07:27:20.107174"
timestamp	"2073-10-15 22:00:49.29957"	"2073-10-15 22:00:49.29957"
timestamp	"2076-08-14 02:59:49"	"2076-08-14 02:59:49"
timestamp	"2087-09-02 03:41:56"	"2087-09-02 03:41:56"
timestamp	"2091-06-02 01:32:20.903859"	"2091-06-02 01:32:20.903859"
timestamp	"2092-12-24 19:49:44.985353"	"2092-12-24 19:49:44.985353"
timestamp	"2096-08-16 05:39:17.332971"	"2096-08-16 05:39:17.332971"
timestamp	"22693-02-18 23:23:05.514097"	"22693-02-18 23:23:05.514097"
timestamp	"2345-10-04 17:31:58.971215"	"2345-10-04 17:31:58.971215"
timestamp	"23940-10-19 14:25:31.307677"	"23940-10-19 14:25:31.307677"
timestamp	"24905-07-06 09:06:12.564195"	"24905-07-06 09:06:12.564195"
timestamp	"27055-05-11 04:34:29.92057"	"27055-05-11 04:34:29.92057"
timestamp	"2743-02-07 01:48:12.075355 BC"	"2743-02-07 01:48:12.075355 BC"
timestamp	"27962-12-21 04:47:45.598154"	"27962-12-21 04:47:45.598154"
timestamp	"294277-01-01"	ERR 22008 timestamp out of range: "294277-01-01"
timestamp	"2965-01-12 08:50:14.727502"	"2965-01-12 08:50:14.727502"
timestamp	"32385-07-23 10:20:44.861197"	"32385-07-23 10:20:44.861197"
timestamp	"35972-11-16 17:04:13.606385"	"35972-11-16 17:04:13.606385"
timestamp	"4714-01-01 BC"	ERR 22008 timestamp out of range: "4714-01-01 BC"
timestamp	"4714-11-24 BC"	"4714-11-24 00:00:00 BC"
timestamp	"53055-02-23 22:48:28.867517"	"53055-02-23 22:48:28.867517"
timestamp	"55354-10-21 11:38:50.748053"	"55354-10-21 11:38:50.748053"
timestamp	"57755-02-06 20:41:47.625278"	"57755-02-06 20:41:47.625278"
timestamp	"62767-10-23 23:11:30.165602"	"62767-10-23 23:11:30.165602"
timestamp	"64556-03-03 03:34:53.441002"	"64556-03-03 03:34:53.441002"
timestamp	"66589-11-08 14:44:46.578827"	"66589-11-08 14:44:46.578827"
timestamp	"67185-07-13 15:37:02.82069"	"67185-07-13 15:37:02.82069"
timestamp	"70901-01-09 16:36:11.32845"	"70901-01-09 16:36:11.32845"
timestamp	"73024-01-27 17:59:36.545024"	"73024-01-27 17:59:36.545024"
timestamp	"74384-08-21 02:46:14.573038"	"74384-08-21 02:46:14.573038"
timestamp	"74672-10-05 22:48:49.263155"	"74672-10-05 22:48:49.263155"
timestamp	"80221-12-29 16:20:03.204076"	"80221-12-29 16:20:03.204076"
timestamp	"80536-09-30 07:55:11.276035"	"80536-09-30 07:55:11.276035"
timestamp	"95368-05-12 14:00:46.819455"	"95368-05-12 14:00:46.819455"
timestamp	"97779-12-02 23:51:41.424151"	"97779-12-02 23:51:41.424151"
timestamp	"99999-01-01"	"99999-01-01 00:00:00"
timestamp	"EPOCH"	"1970-01-01 00:00:00"
timestamp	"abc"	ERR 22007 invalid input syntax for type timestamp: "abc"
timestamp	"epoch"	"1970-01-01 00:00:00"
`
