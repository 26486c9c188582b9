package expr

import (
	"fmt"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// TestStrictFunctionsPropagateNull checks that every strict function
// returns NULL when any one argument is NULL, even where the other
// arguments would make it fail (a zero divisor, a negative length).
func TestStrictFunctionsPropagateNull(t *testing.T) {
	funcs := []struct {
		fn   string
		t    sqltypes.Type
		args []arg
	}{
		{"+", i32, []arg{{int64(1), i32}, {int64(2), i32}}},
		{"-", i64, []arg{{int64(1), i64}, {int64(2), i64}}},
		{"*", i16, []arg{{int64(1), i16}, {int64(2), i16}}},
		{"/", i32, []arg{{int64(1), i32}, {int64(0), i32}}},
		{"%", i64, []arg{{int64(1), i64}, {int64(0), i64}}},
		{"mod", i16, []arg{{int64(1), i16}, {int64(0), i16}}},
		{"/", f64, []arg{{1.0, f64}, {0.0, f64}}},
		{"neg", i64, []arg{{int64(-1 << 63), i64}}},
		{"abs", f32, []arg{{-1.0, f32}}},
		{"+", tsT, []arg{{ts("2024-01-01"), tsT}, {iv(1, 0, 0), ivT}}},
		{"-", ivT, []arg{{ts("2024-01-01"), tsT}, {ts("2023-01-01"), tsT}}},
		{"=", bln, []arg{{"a", txt}, {"a", txt}}},
		{"<>", bln, []arg{{1.0, f64}, {2.0, f64}}},
		{"<", bln, []arg{{ts("2024-01-01"), dt}, {ts("2024-01-02"), dt}}},
		{">=", bln, []arg{{iv(1, 0, 0), ivT}, {iv(0, 1, 0), ivT}}},
		{"not", bln, []arg{{true, bln}}},
		{"like", bln, []arg{{"a", txt}, {`a\`, txt}}},
		{"ilike", bln, []arg{{"a", txt}, {"A", txt}}},
		{"regex_match", bln, []arg{{"a", txt}, {"(", txt}}},
		{"regex_imatch", bln, []arg{{"a", txt}, {"A", txt}}},
		{"||", txt, []arg{{"a", txt}, {"b", txt}}},
		{"length", i32, []arg{{"abc", txt}}},
		{"lower", txt, []arg{{"ABC", txt}}},
		{"upper", txt, []arg{{"abc", txt}}},
		{"substr", txt, []arg{{"abc", txt}, {int64(1), i64}}},
		{"substr", txt, []arg{{"abc", txt}, {int64(1), i64}, {int64(-1), i64}}},
		{"trim", txt, []arg{{" a ", txt}}},
		{"ltrim", txt, []arg{{"xa", txt}, {"x", txt}}},
		{"rtrim", txt, []arg{{"ax", txt}, {"x", txt}}},
		{"replace", txt, []arg{{"abc", txt}, {"b", txt}, {"x", txt}}},
		{"position", i32, []arg{{"b", txt}, {"abc", txt}}},
		{"round", f64, []arg{{1.5, f64}}},
		{"round", f64, []arg{{1.55, f64}, {int64(1), i64}}},
		{"floor", f64, []arg{{1.5, f64}}},
		{"ceil", f64, []arg{{1.5, f64}}},
		{"power", f64, []arg{{0.0, f64}, {-1.0, f64}}},
		{"sqrt", f64, []arg{{-1.0, f64}}},
		{"date_trunc", tsT, []arg{{"nonsense", txt}, {ts("2024-01-01"), tsT}}},
		{"extract", f64, []arg{{"nonsense", txt}, {ts("2024-01-01"), tsT}}},
	}
	var cases []callCase
	for _, f := range funcs {
		for k := range f.args {
			args := append([]arg(nil), f.args...)
			args[k].v = nil
			cases = append(cases, callCase{
				name: fmt.Sprintf("%s with argument %d of %d NULL is NULL", f.fn, k+1, len(args)),
				fn:   f.fn, t: f.t, args: args, want: nil,
			})
		}
	}
	runCalls(t, cases)
}
