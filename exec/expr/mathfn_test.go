package expr

import (
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestMathFunctions(t *testing.T) {
	f := func(v any) arg { return arg{v, f64} }
	n := func(v any) arg { return arg{v, i64} }
	runCalls(t, []callCase{
		{name: "round rounds a half to even as float8 does", fn: "round", t: f64, args: []arg{f(2.5)}, want: 2.0},
		{name: "round rounds an odd half up to even", fn: "round", t: f64, args: []arg{f(3.5)}, want: 4.0},
		{name: "round rounds a negative half to even", fn: "round", t: f64, args: []arg{f(-2.5)}, want: -2.0},
		{name: "round rounds one half down to zero", fn: "round", t: f64, args: []arg{f(0.5)}, want: 0.0},
		{name: "round of a small negative keeps the sign of zero as float8 rint does", fn: "round", t: f64, args: []arg{f(-0.4)}, want: math.Copysign(0, -1)},
		{name: "round keeps NaN", fn: "round", t: f64, args: []arg{f(math.NaN())}, want: math.NaN()},
		{name: "round to two places rounds the decimal as written", fn: "round", t: f64, args: []arg{f(2.675), n(int64(2))}, want: 2.68},
		{name: "round to two places rounds a half away from zero", fn: "round", t: f64, args: []arg{f(1.005), n(int64(2))}, want: 1.01},
		{name: "round to two places of a negative rounds away from zero", fn: "round", t: f64, args: []arg{f(-1.005), n(int64(2))}, want: -1.01},
		{name: "round to one place carries into the integer part", fn: "round", t: f64, args: []arg{f(99.95), n(int64(1))}, want: 100.0},
		{name: "round to minus one place rounds to tens", fn: "round", t: f64, args: []arg{f(123.456), n(int64(-1))}, want: 120.0},
		{name: "round to minus one place rounds fifteen up to twenty", fn: "round", t: f64, args: []arg{f(15), n(int64(-1))}, want: 20.0},
		{name: "round to minus one place rounds minus fifteen to minus twenty", fn: "round", t: f64, args: []arg{f(-15), n(int64(-1))}, want: -20.0},
		{name: "round to minus two places of 1250 is 1300", fn: "round", t: f64, args: []arg{f(1250), n(int64(-2))}, want: 1300.0},
		{name: "round to more places than the value has changes nothing", fn: "round", t: f64, args: []arg{f(0.1), n(int64(5))}, want: 0.1},
		{name: "round of a tiny value to three places is zero", fn: "round", t: f64, args: []arg{f(1e-10), n(int64(3))}, want: 0.0},
		{name: "round of small digits rounds the decimal", fn: "round", t: f64, args: []arg{f(0.0001234), n(int64(5))}, want: 0.00012},
		{name: "round to far fewer places than the value has is zero", fn: "round", t: f64, args: []arg{f(4.9), n(int64(-3))}, want: 0.0},
		{name: "round with NULL digits is NULL", fn: "round", t: f64, args: []arg{f(1.5), n(nil)}, want: nil},
		{name: "floor rounds down", fn: "floor", t: f64, args: []arg{f(-1.5)}, want: -2.0},
		{name: "ceil rounds up", fn: "ceil", t: f64, args: []arg{f(1.2)}, want: 2.0},
		{name: "ceil of a small negative is negative zero as for doubles", fn: "ceil", t: f64, args: []arg{f(-0.5)}, want: math.Copysign(0, -1)},
		{name: "power raises", fn: "power", t: f64, args: []arg{f(2), f(10)}, want: 1024.0},
		{name: "power of a negative to an odd integer is negative", fn: "power", t: f64, args: []arg{f(-8), f(3)}, want: -512.0},
		{name: "power to a negative exponent divides", fn: "power", t: f64, args: []arg{f(2), f(-1)}, want: 0.5},
		{name: "power of zero to zero is one", fn: "power", t: f64, args: []arg{f(0), f(0)}, want: 1.0},
		{name: "power of NaN to zero is one", fn: "power", t: f64, args: []arg{f(math.NaN()), f(0)}, want: 1.0},
		{name: "power of one to NaN is one", fn: "power", t: f64, args: []arg{f(1), f(math.NaN())}, want: 1.0},
		{name: "power of zero to a negative is an error", fn: "power", t: f64, args: []arg{f(0), f(-1)}, code: "2201F", msg: "zero raised to a negative power is undefined"},
		{name: "power of a negative to a fraction is an error", fn: "power", t: f64, args: []arg{f(-8), f(0.5)}, code: "2201F"},
		{name: "power overflow is out of range", fn: "power", t: f64, args: []arg{f(10), f(400)}, code: sqlerr.NumericValueOutOfRange, msg: "value out of range: overflow"},
		{name: "power underflow is out of range", fn: "power", t: f64, args: []arg{f(10), f(-400)}, code: sqlerr.NumericValueOutOfRange, msg: "value out of range: underflow"},
		{name: "sqrt takes the square root", fn: "sqrt", t: f64, args: []arg{f(2)}, want: math.Sqrt2},
		{name: "sqrt of a negative is an error", fn: "sqrt", t: f64, args: []arg{f(-1)}, code: "2201F", msg: "cannot take square root of a negative number"},
		{name: "sqrt of NULL is NULL", fn: "sqrt", t: f64, args: []arg{f(nil)}, want: nil},
		{name: "abs of a real is positive", fn: "abs", t: f32, args: []arg{{-1.5, f32}}, want: 1.5},
	})
}
