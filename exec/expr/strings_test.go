package expr

import (
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/planner/plan"
)

func TestStringFunctions(t *testing.T) {
	s := func(v any) arg { return arg{v, txt} }
	n := func(v any) arg { return arg{v, i64} }
	runCalls(t, []callCase{
		{name: "|| concatenates", fn: "||", t: txt, args: []arg{s("ab"), s("cd")}, want: "abcd"},
		{name: "|| with NULL is NULL", fn: "||", t: txt, args: []arg{s("ab"), s(nil)}, want: nil},
		{name: "concat skips NULLs", fn: "concat", t: txt, args: []arg{s("a"), s(nil), s("c")}, want: "ac"},
		{name: "concat of only NULLs is empty, not NULL", fn: "concat", t: txt, args: []arg{s(nil), s(nil)}, want: ""},
		{name: "length counts characters, not bytes", fn: "length", t: i32, args: []arg{s("héllo")}, want: int64(5)},
		{name: "length of the empty string is zero", fn: "length", t: i32, args: []arg{s("")}, want: int64(0)},
		{name: "length of NULL is NULL", fn: "length", t: i32, args: []arg{s(nil)}, want: nil},
		{name: "lower lowers non-ASCII letters", fn: "lower", t: txt, args: []arg{s("HÉLLO World")}, want: "héllo world"},
		{name: "upper raises non-ASCII letters", fn: "upper", t: txt, args: []arg{s("héllo")}, want: "HÉLLO"},

		{name: "substr from 0 for 2 is one character", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(0)), n(int64(2))}, want: "h"},
		{name: "substr from -3 for 5 is one character", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(-3)), n(int64(5))}, want: "h"},
		{name: "substr from -3 for 4 is empty", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(-3)), n(int64(4))}, want: ""},
		{name: "substr without a count runs to the end", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(2))}, want: "ello"},
		{name: "substr with a negative start and no count is the whole string", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(-10))}, want: "hello"},
		{name: "substr past the end is empty", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(10))}, want: ""},
		{name: "substr of zero characters is empty", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(3)), n(int64(0))}, want: ""},
		{name: "substr counts characters", fn: "substr", t: txt, args: []arg{s("héllo"), n(int64(2)), n(int64(3))}, want: "éll"},
		{name: "substr with a huge count does not overflow", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(2)), n(int64(1<<63 - 1))}, want: "ello"},
		{name: "substr with a negative count is an error", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(2)), n(int64(-1))}, code: "22011", msg: "negative substring length not allowed"},
		{name: "substr with a NULL count is NULL", fn: "substr", t: txt, args: []arg{s("hello"), n(int64(2)), n(nil)}, want: nil},

		{name: "position finds a substring by characters", fn: "position", t: i32, args: []arg{s("llo"), s("héllo")}, want: int64(3)},
		{name: "position of a missing substring is zero", fn: "position", t: i32, args: []arg{s("z"), s("abc")}, want: int64(0)},
		{name: "position of the empty string is one", fn: "position", t: i32, args: []arg{s(""), s("abc")}, want: int64(1)},
		{name: "position in the empty string of the empty string is one", fn: "position", t: i32, args: []arg{s(""), s("")}, want: int64(1)},
		{name: "position finds the first occurrence", fn: "position", t: i32, args: []arg{s("b"), s("abcb")}, want: int64(2)},

		{name: "trim removes spaces on both sides", fn: "trim", t: txt, args: []arg{s("  a b  ")}, want: "a b"},
		{name: "trim leaves tabs alone", fn: "trim", t: txt, args: []arg{s("\ta ")}, want: "\ta"},
		{name: "trim with chars removes any of them", fn: "trim", t: txt, args: []arg{s("abcba"), s("ab")}, want: "c"},
		{name: "trim with multibyte chars removes characters", fn: "trim", t: txt, args: []arg{s("éxé"), s("é")}, want: "x"},
		{name: "ltrim removes only the left side", fn: "ltrim", t: txt, args: []arg{s("xxaxx"), s("x")}, want: "axx"},
		{name: "rtrim removes only the right side", fn: "rtrim", t: txt, args: []arg{s("  a  ")}, want: "  a"},
		{name: "trim with empty chars changes nothing", fn: "trim", t: txt, args: []arg{s(" a "), s("")}, want: " a "},
		{name: "trim of everything is empty", fn: "trim", t: txt, args: []arg{s("aaa"), s("a")}, want: ""},

		{name: "replace replaces every occurrence", fn: "replace", t: txt, args: []arg{s("abcabc"), s("b"), s("XY")}, want: "aXYcaXYc"},
		{name: "replace of the empty string changes nothing", fn: "replace", t: txt, args: []arg{s("abc"), s(""), s("x")}, want: "abc"},
		{name: "replace with the empty string deletes", fn: "replace", t: txt, args: []arg{s("abc"), s("b"), s("")}, want: "ac"},
	})
}

func TestLike(t *testing.T) {
	s := func(v any) arg { return arg{v, txt} }
	like := func(name, str, pattern string, want bool) callCase {
		return callCase{name: name, fn: "like", t: bln, args: []arg{s(str), s(pattern)}, want: want}
	}
	runCalls(t, []callCase{
		like("a prefix pattern matches", "abc", "a%", true),
		like("underscores match one character each", "abc", "_b_", true),
		like("a lone percent matches anything", "abc", "%", true),
		like("a lone percent matches the empty string", "", "%", true),
		like("the empty pattern matches the empty string", "", "", true),
		like("the empty pattern does not match text", "a", "", false),
		like("an underscore does not match the empty string", "", "_", false),
		like("an escaped percent is a literal percent", "a%c", `a\%c`, true),
		like("an escaped percent does not match other characters", "abc", `a\%c`, false),
		like("an escaped underscore is a literal underscore", "a_c", `a\_c`, true),
		like("an escaped underscore does not match other characters", "abc", `a\_c`, false),
		like("an escaped backslash is a literal backslash", `a\c`, `a\\c`, true),
		like("an escaped ordinary character is itself", "abc", `a\bc`, true),
		like("an escaped percent at the end is literal", "ab", `a\%`, false),
		like("an underscore matches a multibyte character", "héllo", "h_llo", true),
		like("two underscores do not match one multibyte character", "héllo", "h__llo", false),
		like("repeated segments match in order", "aaa", "%a%a%a%", true),
		like("repeated segments need enough text", "aa", "%a%a%a%", false),
		like("a suffix with an underscore must end the text", "abcab", "%ab_", false),
		like("a suffix after a middle segment matches", "mississippi", "%iss%ppi", true),
		like("several middle segments match greedily left to right", "mississippi", "m%iss%iss%", true),
		like("doubled percents act as one", "abc", "a%%c", true),
		like("a percent then an underscore needs a character", "a", "a%_", false),
		like("a percent then an underscore matches one more", "ab", "a%_", true),
		like("underscores around a percent need two characters", "a", "_%_", false),
		like("a contains pattern matches in the middle", "xabcx", "%b%", true),
		like("a suffix pattern matches the last occurrence", "abab", "%ab", true),
		like("underscores between literals match", "aXbXc", "a_b_c", true),
		like("matching is case sensitive", "ABC", "abc", false),
		like("a suffix must not overlap the prefix", "ab", "ab%b", false),
		{name: "ILIKE ignores case", fn: "ilike", t: bln, args: []arg{s("ABC"), s("a%c")}, want: true},
		{name: "ILIKE ignores case of non-ASCII letters", fn: "ilike", t: bln, args: []arg{s("ÉCOLE"), s("é%")}, want: true},
		{name: "LIKE with a NULL string is NULL", fn: "like", t: bln, args: []arg{s(nil), s("%")}, want: nil},
		{name: "LIKE with a NULL pattern is NULL", fn: "like", t: bln, args: []arg{s("a"), s(nil)}, want: nil},
		{name: "a pattern ending in an escape is an error", fn: "like", t: bln, args: []arg{s("a"), s(`a\`)}, code: "22025", msg: "LIKE pattern must not end with escape character"},
		{name: "a regular expression matches anywhere", fn: "regex_match", t: bln, args: []arg{s("abc"), s("b.")}, want: true},
		{name: "a regular expression is case sensitive", fn: "regex_match", t: bln, args: []arg{s("ABC"), s("^abc$")}, want: false},
		{name: "a case-insensitive regular expression ignores case", fn: "regex_imatch", t: bln, args: []arg{s("ABC"), s("^abc$")}, want: true},
		{name: "a bad regular expression is an error", fn: "regex_match", t: bln, args: []arg{s("abc"), s("(")}, code: sqlerr.InvalidRegularExpression},
	})
}

// TestLikeOverColumns matches patterns held in a column, which are
// compiled per row, and a literal pattern over many rows.
func TestLikeOverColumns(t *testing.T) {
	mem := newMem(t)
	rec := record(t, mem,
		column{t: txt, vals: []any{"apple", "banana", nil, "apricot", "cherry"}},
		column{t: txt, vals: []any{"a%", "a%", "a%", "%rr%", nil}},
	)
	defer rec.Release()
	tests := []struct {
		name string
		e    plan.Expr
		want []any
	}{
		{name: "a literal pattern tests every row", e: fn("like", bln, ref(0, txt), lit("ap%", txt)), want: []any{true, false, nil, true, false}},
		{name: "a column of patterns tests each row against its own", e: fn("like", bln, ref(0, txt), ref(1, txt)), want: []any{true, false, nil, false, nil}},
		{name: "NOT LIKE keeps NULLs", e: fn("not", bln, fn("like", bln, ref(0, txt), lit("%an%", txt))), want: []any{true, false, nil, true, true}},
		{name: "a parameter pattern is compiled once per call", e: fn("ilike", bln, ref(0, txt), &plan.Param{Index: 0, T: txt}), want: []any{false, false, nil, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := evalAllRows(t, mem, tc.e, rec, "%ERR%")
			if err != nil {
				t.Fatal(err)
			}
			if !sameAll(got, tc.want) {
				t.Fatalf("got %s, want %s", showAll(got), showAll(tc.want))
			}
		})
	}
}

func TestVarcharArgumentsAreText(t *testing.T) {
	v := sqltypes.Varchar(5)
	runCalls(t, []callCase{
		{name: "a varchar compares with text semantics", fn: "=", t: bln, args: []arg{{"ab", v}, {"ab", v}}, want: true},
		{name: "a varchar concatenates", fn: "||", t: txt, args: []arg{{"ab", v}, {"cd", txt}}, want: "abcd"},
	})
}
