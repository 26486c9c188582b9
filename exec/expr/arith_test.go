package expr

import (
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestArithmetic(t *testing.T) {
	const (
		range22003 = sqlerr.NumericValueOutOfRange
		div22012   = sqlerr.DivisionByZero
	)
	inf := math.Inf(1)
	runCalls(t, []callCase{
		{name: "smallint addition adds", fn: "+", t: i16, args: []arg{{int64(3), i16}, {int64(4), i16}}, want: int64(7)},
		{name: "smallint addition past 32767 is out of range", fn: "+", t: i16, args: []arg{{int64(32767), i16}, {int64(1), i16}}, code: range22003, msg: "smallint out of range"},
		{name: "smallint addition below -32768 is out of range", fn: "+", t: i16, args: []arg{{int64(-32768), i16}, {int64(-1), i16}}, code: range22003},
		{name: "smallint subtraction past the minimum is out of range", fn: "-", t: i16, args: []arg{{int64(-32768), i16}, {int64(1), i16}}, code: range22003},
		{name: "smallint multiplication overflow is out of range", fn: "*", t: i16, args: []arg{{int64(256), i16}, {int64(128), i16}}, code: range22003},
		{name: "smallint multiplication at the edge fits", fn: "*", t: i16, args: []arg{{int64(-256), i16}, {int64(128), i16}}, want: int64(-32768)},
		{name: "smallint negation of the minimum is out of range", fn: "neg", t: i16, args: []arg{{int64(-32768), i16}}, code: range22003},
		{name: "smallint abs of the minimum is out of range", fn: "abs", t: i16, args: []arg{{int64(-32768), i16}}, code: range22003},
		{name: "smallint abs of a negative is positive", fn: "abs", t: i16, args: []arg{{int64(-5), i16}}, want: int64(5)},
		{name: "smallint minimum divided by -1 is out of range", fn: "/", t: i16, args: []arg{{int64(-32768), i16}, {int64(-1), i16}}, code: range22003},

		{name: "integer addition past 2147483647 is out of range", fn: "+", t: i32, args: []arg{{int64(math.MaxInt32), i32}, {int64(1), i32}}, code: range22003, msg: "integer out of range"},
		{name: "integer subtraction of a negative past the maximum is out of range", fn: "-", t: i32, args: []arg{{int64(math.MaxInt32), i32}, {int64(-1), i32}}, code: range22003},
		{name: "integer subtraction within range subtracts", fn: "-", t: i32, args: []arg{{int64(-5), i32}, {int64(7), i32}}, want: int64(-12)},
		{name: "integer multiplication overflow is out of range", fn: "*", t: i32, args: []arg{{int64(65536), i32}, {int64(32768), i32}}, code: range22003},
		{name: "integer multiplication of negatives multiplies", fn: "*", t: i32, args: []arg{{int64(-6), i32}, {int64(-7), i32}}, want: int64(42)},
		{name: "integer negation of the minimum is out of range", fn: "neg", t: i32, args: []arg{{int64(math.MinInt32), i32}}, code: range22003},
		{name: "integer negation negates", fn: "neg", t: i32, args: []arg{{int64(5), i32}}, want: int64(-5)},
		{name: "integer abs of the minimum is out of range", fn: "abs", t: i32, args: []arg{{int64(math.MinInt32), i32}}, code: range22003},
		{name: "integer division truncates toward zero", fn: "/", t: i32, args: []arg{{int64(-7), i32}, {int64(2), i32}}, want: int64(-3)},
		{name: "integer division by zero is an error", fn: "/", t: i32, args: []arg{{int64(1), i32}, {int64(0), i32}}, code: div22012, msg: "division by zero"},
		{name: "integer minimum divided by -1 is out of range", fn: "/", t: i32, args: []arg{{int64(math.MinInt32), i32}, {int64(-1), i32}}, code: range22003},
		{name: "integer modulo takes the sign of the dividend", fn: "%", t: i32, args: []arg{{int64(-7), i32}, {int64(3), i32}}, want: int64(-1)},
		{name: "integer modulo by zero is an error", fn: "%", t: i32, args: []arg{{int64(7), i32}, {int64(0), i32}}, code: div22012},
		{name: "integer minimum modulo -1 is zero", fn: "%", t: i32, args: []arg{{int64(math.MinInt32), i32}, {int64(-1), i32}}, want: int64(0)},
		{name: "mod is the same as %", fn: "mod", t: i32, args: []arg{{int64(7), i32}, {int64(-3), i32}}, want: int64(1)},
		{name: "mod by zero is an error", fn: "mod", t: i64, args: []arg{{int64(7), i64}, {int64(0), i64}}, code: div22012},

		{name: "bigint addition past the maximum is out of range", fn: "+", t: i64, args: []arg{{int64(math.MaxInt64), i64}, {int64(1), i64}}, code: range22003, msg: "bigint out of range"},
		{name: "bigint addition of two minimums is out of range", fn: "+", t: i64, args: []arg{{int64(math.MinInt64), i64}, {int64(math.MinInt64), i64}}, code: range22003},
		{name: "bigint addition at the edge fits", fn: "+", t: i64, args: []arg{{int64(math.MaxInt64), i64}, {int64(math.MinInt64), i64}}, want: int64(-1)},
		{name: "bigint subtraction past the minimum is out of range", fn: "-", t: i64, args: []arg{{int64(math.MinInt64), i64}, {int64(1), i64}}, code: range22003},
		{name: "bigint subtraction of the minimum from zero is out of range", fn: "-", t: i64, args: []arg{{int64(0), i64}, {int64(math.MinInt64), i64}}, code: range22003},
		{name: "bigint multiplication overflow is out of range", fn: "*", t: i64, args: []arg{{int64(1) << 32, i64}, {int64(1) << 31, i64}}, code: range22003},
		{name: "bigint multiplication of the minimum by -1 is out of range", fn: "*", t: i64, args: []arg{{int64(math.MinInt64), i64}, {int64(-1), i64}}, code: range22003},
		{name: "bigint multiplication reaching the minimum fits", fn: "*", t: i64, args: []arg{{int64(1) << 62, i64}, {int64(-2), i64}}, want: int64(math.MinInt64)},
		{name: "bigint multiplication of large factors multiplies", fn: "*", t: i64, args: []arg{{int64(3037000499), i64}, {int64(3037000499), i64}}, want: int64(9223372030926249001)},
		{name: "bigint negation of the minimum is out of range", fn: "neg", t: i64, args: []arg{{int64(math.MinInt64), i64}}, code: range22003},
		{name: "bigint abs of the minimum is out of range", fn: "abs", t: i64, args: []arg{{int64(math.MinInt64), i64}}, code: range22003},
		{name: "bigint minimum divided by -1 is out of range", fn: "/", t: i64, args: []arg{{int64(math.MinInt64), i64}, {int64(-1), i64}}, code: range22003},
		{name: "bigint division by zero is an error", fn: "/", t: i64, args: []arg{{int64(5), i64}, {int64(0), i64}}, code: div22012},
		{name: "bigint minimum modulo -1 is zero", fn: "%", t: i64, args: []arg{{int64(math.MinInt64), i64}, {int64(-1), i64}}, want: int64(0)},

		{name: "NULL plus a number is NULL", fn: "+", t: i32, args: []arg{{nil, i32}, {int64(1), i32}}, want: nil},
		{name: "NULL divided by zero is NULL, not an error", fn: "/", t: i32, args: []arg{{nil, i32}, {int64(0), i32}}, want: nil},
		{name: "a number divided by NULL is NULL", fn: "/", t: i64, args: []arg{{int64(1), i64}, {nil, i64}}, want: nil},
		{name: "negation of NULL is NULL", fn: "neg", t: i64, args: []arg{{nil, i64}}, want: nil},

		{name: "double addition adds in double precision", fn: "+", t: f64, args: []arg{{0.1, f64}, {0.2, f64}}, want: 0.30000000000000004},
		{name: "double overflow is out of range", fn: "*", t: f64, args: []arg{{1e300, f64}, {1e10, f64}}, code: range22003, msg: "value out of range: overflow"},
		{name: "double underflow is out of range", fn: "*", t: f64, args: []arg{{1e-300, f64}, {1e-300, f64}}, code: range22003, msg: "value out of range: underflow"},
		{name: "double infinity plus one is infinity", fn: "+", t: f64, args: []arg{{inf, f64}, {1.0, f64}}, want: inf},
		{name: "double division by zero is an error", fn: "/", t: f64, args: []arg{{1.0, f64}, {0.0, f64}}, code: div22012},
		{name: "double NaN divided by zero is NaN", fn: "/", t: f64, args: []arg{{math.NaN(), f64}, {0.0, f64}}, want: math.NaN()},
		{name: "double division divides", fn: "/", t: f64, args: []arg{{7.0, f64}, {2.0, f64}}, want: 3.5},
		{name: "double modulo by zero is an error", fn: "%", t: f64, args: []arg{{7.0, f64}, {0.0, f64}}, code: div22012},
		{name: "double modulo keeps the sign of the dividend", fn: "%", t: f64, args: []arg{{-7.5, f64}, {2.0, f64}}, want: -1.5},
		{name: "double negation of zero is negative zero", fn: "neg", t: f64, args: []arg{{0.0, f64}}, want: math.Copysign(0, -1)},
		{name: "double abs drops the sign", fn: "abs", t: f64, args: []arg{{-2.5, f64}}, want: 2.5},
		{name: "real arithmetic happens in single precision", fn: "+", t: f32, args: []arg{{0.1, f32}, {0.2, f32}}, want: float64(float32(0.1) + float32(0.2))},
		{name: "real overflow is out of range", fn: "*", t: f32, args: []arg{{1e30, f32}, {1e30, f32}}, code: range22003},
		{name: "real division by zero is an error", fn: "/", t: f32, args: []arg{{1.0, f32}, {0.0, f32}}, code: div22012},
	})
}

func TestArithmeticOverTimestamps(t *testing.T) {
	runCalls(t, []callCase{
		{name: "a timestamp plus an interval of days and time", fn: "+", t: tsT, args: []arg{{ts("2024-01-31 10:00:00"), tsT}, {iv(0, 1, 3_600_000_000), ivT}}, want: ts("2024-02-01 11:00:00")},
		{name: "a timestamp plus a month clamps to the end of the month", fn: "+", t: tsT, args: []arg{{ts("2024-01-31 10:00:00"), tsT}, {iv(1, 0, 0), ivT}}, want: ts("2024-02-29 10:00:00")},
		{name: "a timestamp plus a year lands on February 28 from a leap day", fn: "+", t: tsT, args: []arg{{ts("2024-02-29"), tsT}, {iv(12, 0, 0), ivT}}, want: ts("2025-02-28")},
		{name: "an interval plus a timestamp adds", fn: "+", t: tsT, args: []arg{{iv(0, 0, 90_000_000), ivT}, {ts("2024-01-01"), tsT}}, want: ts("2024-01-01 00:01:30")},
		{name: "a timestamp minus months goes back across years", fn: "-", t: tsT, args: []arg{{ts("2024-03-31 12:00:00"), tsT}, {iv(13, 0, 0), ivT}}, want: ts("2023-02-28 12:00:00")},
		{name: "a timestamp minus a negative interval adds", fn: "-", t: tsT, args: []arg{{ts("2024-03-01"), tsT}, {iv(0, -1, 0), ivT}}, want: ts("2024-03-02")},
		{name: "a timestamp minus a timestamp is days and time", fn: "-", t: ivT, args: []arg{{ts("2024-01-02 01:00:00"), tsT}, {ts("2024-01-01"), tsT}}, want: iv(0, 1, 3_600_000_000)},
		{name: "a negative difference keeps day and time signs together", fn: "-", t: ivT, args: []arg{{ts("2024-01-01"), tsT}, {ts("2024-01-02 01:00:00"), tsT}}, want: iv(0, -1, -3_600_000_000)},
		{name: "a difference under a day is all time", fn: "-", t: ivT, args: []arg{{ts("2024-01-01 23:00:00"), tsT}, {ts("2024-01-01 01:30:00"), tsT}}, want: iv(0, 0, 77_400_000_000)},
		{name: "a timestamp plus NULL is NULL", fn: "+", t: tsT, args: []arg{{ts("2024-01-01"), tsT}, {nil, ivT}}, want: nil},
		{name: "a timestamp past the end of time is out of range", fn: "+", t: tsT, args: []arg{{ts("2024-01-01"), tsT}, {iv(0, math.MaxInt32, 0), ivT}}, code: sqlerr.DatetimeFieldOverflow},
		{name: "a timestamp before 4714 BC is out of range", fn: "-", t: tsT, args: []arg{{ts("2024-01-01"), tsT}, {iv(12*7000, 0, 0), ivT}}, code: sqlerr.DatetimeFieldOverflow},
	})
}
