package expr

import (
	"fmt"
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

type castCase struct {
	name     string
	v        any
	from, to sqltypes.Type
	implicit bool
	want     any
	code     string
	msg      string
}

// runCasts checks each cast of a literal (EvalScalar) and of a column
// whose row sits between NULLs.
func runCasts(t *testing.T, cases []castCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := newMem(t)
			for _, asColumn := range []bool{false, true} {
				var got any
				var err error
				if asColumn {
					e := cast(ref(0, tc.from), tc.to, !tc.implicit)
					got, err = evalRow(t, mem, e, []column{{t: tc.from, vals: []any{nil, tc.v, nil}}}, 1)
				} else {
					got, err = EvalScalar(ctx0, &Env{Mem: mem}, cast(lit(tc.v, tc.from), tc.to, !tc.implicit))
				}
				shape := fmt.Sprintf("column=%v", asColumn)
				if tc.code != "" {
					if errCode(err) != tc.code {
						t.Fatalf("%s: got %v (%s), want SQLSTATE %s", shape, err, errCode(err), tc.code)
					}
					if tc.msg != "" && err.Error() != tc.msg {
						t.Fatalf("%s: got message %q, want %q", shape, err.Error(), tc.msg)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", shape, err)
				}
				if !same(got, tc.want) {
					t.Fatalf("%s: got %s, want %s", shape, show(got), show(tc.want))
				}
			}
		})
	}
}

func TestCasts(t *testing.T) {
	v3 := sqltypes.Varchar(3)
	runCasts(t, []castCase{
		{name: "bigint to integer that fits", v: int64(-5), from: i64, to: i32, want: int64(-5)},
		{name: "bigint to integer that does not fit is out of range", v: int64(1) << 31, from: i64, to: i32, code: sqlerr.NumericValueOutOfRange, msg: "integer out of range"},
		{name: "integer to smallint that does not fit is out of range", v: int64(70000), from: i32, to: i16, code: sqlerr.NumericValueOutOfRange, msg: "smallint out of range"},
		{name: "integer to smallint at the minimum fits", v: int64(-32768), from: i32, to: i16, want: int64(-32768)},
		{name: "smallint to bigint widens", v: int64(-32768), from: i16, to: i64, want: int64(-32768)},
		{name: "double to integer rounds a half to even, down", v: 2.5, from: f64, to: i32, want: int64(2)},
		{name: "double to integer rounds a half to even, up", v: 3.5, from: f64, to: i32, want: int64(4)},
		{name: "double to integer rounds a negative half to even", v: -2.5, from: f64, to: i32, want: int64(-2)},
		{name: "double to smallint that rounds past the maximum is out of range", v: 32767.5, from: f64, to: i16, code: sqlerr.NumericValueOutOfRange, msg: "smallint out of range"},
		{name: "double to smallint just below the maximum fits", v: 32766.5, from: f64, to: i16, want: int64(32766)},
		{name: "NaN to integer is out of range", v: math.NaN(), from: f64, to: i32, code: sqlerr.NumericValueOutOfRange},
		{name: "infinity to bigint is out of range", v: math.Inf(-1), from: f64, to: i64, code: sqlerr.NumericValueOutOfRange, msg: "bigint out of range"},
		{name: "2^63 as a double to bigint is out of range", v: 9223372036854775807.0, from: f64, to: i64, code: sqlerr.NumericValueOutOfRange},
		{name: "-2^63 as a double to bigint fits", v: -9223372036854775808.0, from: f64, to: i64, want: int64(math.MinInt64)},
		{name: "real to integer rounds", v: 1.5, from: f32, to: i32, want: int64(2)},
		{name: "double to real rounds to single precision", v: 0.1, from: f64, to: f32, want: float64(float32(0.1))},
		{name: "double to real that overflows is out of range", v: 1e40, from: f64, to: f32, code: sqlerr.NumericValueOutOfRange, msg: "value out of range: overflow"},
		{name: "double to real that underflows is out of range", v: 1e-50, from: f64, to: f32, code: sqlerr.NumericValueOutOfRange, msg: "value out of range: underflow"},
		{name: "double infinity to real stays infinite", v: math.Inf(1), from: f64, to: f32, want: math.Inf(1)},
		{name: "bigint to double converts", v: int64(1) << 53, from: i64, to: f64, want: float64(1 << 53)},
		{name: "true to integer is one", v: true, from: bln, to: i32, want: int64(1)},
		{name: "false to bigint is zero", v: false, from: bln, to: i64, want: int64(0)},
		{name: "a nonzero integer to boolean is true", v: int64(5), from: i32, to: bln, want: true},
		{name: "zero to boolean is false", v: int64(0), from: i32, to: bln, want: false},
		{name: "a timestamp to date drops the time", v: ts("2024-01-02 23:59:00"), from: tsT, to: dt, want: ts("2024-01-02")},
		{name: "a timestamp before 1970 to date drops the time", v: ts("1969-12-31 12:00:00"), from: tsT, to: dt, want: ts("1969-12-31")},
		{name: "a date to timestamp is midnight", v: ts("1969-12-31"), from: dt, to: tsT, want: ts("1969-12-31")},
		{name: "NULL casts to NULL", v: nil, from: txt, to: i32, want: nil},

		{name: "an integer to text", v: int64(-42), from: i32, to: txt, want: "-42"},
		{name: "a double to text is its shortest form", v: 1.0 / 3, from: f64, to: txt, want: "0.3333333333333333"},
		{name: "a large double to text uses an exponent", v: 1e20, from: f64, to: txt, want: "1e+20"},
		{name: "a million as a double to text has no exponent", v: 1e6, from: f64, to: txt, want: "1000000"},
		{name: "a real to text is its shortest single precision form", v: float64(float32(0.1)), from: f32, to: txt, want: "0.1"},
		{name: "a million as a real to text uses an exponent", v: 1e6, from: f32, to: txt, want: "1e+06"},
		{name: "NaN to text", v: math.NaN(), from: f64, to: txt, want: "NaN"},
		{name: "negative infinity to text", v: math.Inf(-1), from: f64, to: txt, want: "-Infinity"},
		{name: "a boolean to text is true or false", v: true, from: bln, to: txt, want: "true"},
		{name: "a timestamp to text", v: ts("2024-01-02 03:04:05.5"), from: tsT, to: txt, want: "2024-01-02 03:04:05.5"},
		{name: "a date to text", v: ts("2024-01-02"), from: dt, to: txt, want: "2024-01-02"},
		{name: "an interval to text", v: iv(14, 3, 14_706_789_000), from: ivT, to: txt, want: "1 year 2 mons 3 days 04:05:06.789"},
		{name: "a negative interval to text", v: iv(0, -1, 7_200_000_000), from: ivT, to: txt, want: "-1 days +02:00:00"},

		{name: "text to integer ignores surrounding spaces", v: " 12 ", from: txt, to: i32, want: int64(12)},
		{name: "text to integer that is not a number is an error", v: "abc", from: txt, to: i32, code: sqlerr.InvalidTextRepresentation, msg: `invalid input syntax for type integer: "abc"`},
		{name: "text to smallint that is too big is out of range", v: "99999", from: txt, to: i16, code: sqlerr.NumericValueOutOfRange},
		{name: "text to double", v: "1.5e3", from: txt, to: f64, want: 1500.0},
		{name: "text to double accepts Infinity", v: "-Infinity", from: txt, to: f64, want: math.Inf(-1)},
		{name: "text to boolean accepts yes", v: "yes", from: txt, to: bln, want: true},
		{name: "text to boolean accepts a prefix of false", v: "fa", from: txt, to: bln, want: false},
		{name: "text to boolean that is not one is an error", v: "o", from: txt, to: bln, code: sqlerr.InvalidTextRepresentation},
		{name: "text to timestamp", v: "2024-01-02 03:04:05.25", from: txt, to: tsT, want: ts("2024-01-02 03:04:05.25")},
		{name: "text to timestamp that is not one is an error", v: "nope", from: txt, to: tsT, code: sqlerr.InvalidDatetimeFormat},
		{name: "text to date", v: "2024-02-29", from: txt, to: dt, want: ts("2024-02-29")},
		{name: "text to interval", v: "1 day 2 hours", from: txt, to: ivT, want: iv(0, 1, 7_200_000_000)},
		{name: "an unknown literal to integer parses it", v: "7", from: sqltypes.Unknown, to: i32, want: int64(7)},

		{name: "an explicit cast to varchar truncates", v: "abcd", from: txt, to: v3, want: "abc"},
		{name: "an explicit cast to varchar truncates characters, not bytes", v: "ééééé", from: txt, to: v3, want: "ééé"},
		{name: "an implicit cast to varchar of a long value is an error", v: "abcd", from: txt, to: v3, implicit: true, code: sqlerr.StringDataRightTruncation, msg: "value too long for type character varying(3)"},
		{name: "an implicit cast to varchar drops trailing spaces that do not fit", v: "abc   ", from: txt, to: v3, implicit: true, want: "abc"},
		{name: "an implicit cast to varchar of a value that fits keeps it", v: "ééé", from: txt, to: v3, implicit: true, want: "ééé"},
		{name: "an explicit cast of a number to varchar truncates its text", v: int64(12345), from: i32, to: v3, want: "123"},
		{name: "an implicit cast of a number to varchar that does not fit is an error", v: int64(12345), from: i32, to: v3, implicit: true, code: sqlerr.StringDataRightTruncation},
	})
}

func TestUnsupportedCastIsRefusedAtCompile(t *testing.T) {
	_, err := Compile(cast(ref(0, tsT), i32, true))
	if got, want := errCode(err), sqlerr.FeatureNotSupported; got != want {
		t.Fatalf("got %v (%s), want SQLSTATE %s", err, got, want)
	}
}

func TestCastsThatChangeNothingAreDropped(t *testing.T) {
	p, err := Compile(cast(ref(0, sqltypes.Varchar(5)), txt, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.root.(*colNode); !ok {
		t.Fatalf("got %T, want the column itself", p.root)
	}
}
