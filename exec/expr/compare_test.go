package expr

import (
	"fmt"
	"math"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func TestComparisons(t *testing.T) {
	ops := []string{"=", "<>", "<", "<=", ">", ">="}
	// each pair is ordered a < b, or equal when eq is set
	pairs := []struct {
		what string
		t    sqltypes.Type
		a, b any
		eq   bool
	}{
		{"smallints", i16, int64(-3), int64(2), false},
		{"integers", i32, int64(7), int64(7), true},
		{"bigints", i64, int64(math.MinInt64), int64(math.MaxInt64), false},
		{"reals", f32, 1.5, 2.5, false},
		{"negative and positive zero", f64, math.Copysign(0, -1), 0.0, true},
		{"a double and NaN", f64, 1e308, math.NaN(), false},
		{"infinity and NaN", f64, math.Inf(1), math.NaN(), false},
		{"NaN and NaN", f64, math.NaN(), math.NaN(), true},
		{"a real and NaN", f32, 1.0, math.NaN(), false},
		{"texts by bytes", txt, "B", "a", false},
		{"texts where one is a prefix", txt, "ab", "abc", false},
		{"non-ASCII texts by bytes", txt, "z", "é", false},
		{"equal texts", txt, "héllo", "héllo", true},
		{"booleans", bln, false, true, false},
		{"timestamps", tsT, ts("2024-01-01 00:00:00"), ts("2024-01-01 00:00:00.000001"), false},
		{"dates", dt, ts("1969-12-31"), ts("1970-01-01"), false},
		{"intervals by span", ivT, iv(0, 29, 86_400_000_000), iv(1, 0, 1), false},
		{"a month and thirty days", ivT, iv(1, 0, 0), iv(0, 30, 0), true},
		{"a negative and a positive interval", ivT, iv(-1, 0, 0), iv(0, 0, 1), false},
	}
	var cases []callCase
	for _, p := range pairs {
		for _, op := range ops {
			var want bool
			switch op {
			case "=":
				want = p.eq
			case "<>":
				want = !p.eq
			case "<", "<=":
				want = !p.eq || op == "<="
			case ">":
				want = false
			case ">=":
				want = p.eq
			}
			cases = append(cases, callCase{
				name: fmt.Sprintf("%s compare %s with %s as %v", op, p.what, op, want),
				fn:   op, t: bln, args: []arg{{p.a, p.t}, {p.b, p.t}}, want: want,
			})
			if !p.eq {
				// and reversed
				var rev bool
				switch op {
				case "<>", ">", ">=":
					rev = true
				}
				cases = append(cases, callCase{
					name: fmt.Sprintf("%s compare %s reversed with %s as %v", op, p.what, op, rev),
					fn:   op, t: bln, args: []arg{{p.b, p.t}, {p.a, p.t}}, want: rev,
				})
			}
		}
		cases = append(cases, callCase{
			name: fmt.Sprintf("comparing %s with NULL is NULL", p.what),
			fn:   "<", t: bln, args: []arg{{p.a, p.t}, {nil, p.t}}, want: nil,
		})
	}
	runCalls(t, cases)
}
