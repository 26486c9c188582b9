package plan

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Expr is a bound, typed scalar expression. The binder resolves names to
// column indexes, inserts casts so that every function receives the
// argument types listed in its contract (see Func), and folds what is
// constant for the statement (now(), version(), current_setting()).
type Expr interface {
	// Type is the SQL type of the expression's result.
	Type() sqltypes.Type
	// String prints the expression stably (EXPLAIN and plan goldens).
	String() string
}

// ColumnRef reads column Index of the operator's input record.
type ColumnRef struct {
	Index int
	Name  string // for printing only
	T     sqltypes.Type
}

// Literal is a constant. Value is the Go value of the SQL value as listed in
// package sqltypes (nil for NULL).
type Literal struct {
	Value any
	T     sqltypes.Type
}

// Param is the statement parameter $(Index+1). Its value is supplied at
// execution as the Go value of T.
type Param struct {
	Index int
	T     sqltypes.Type
}

// Func applies a scalar function or operator. Name is one of the names
// below; the binder guarantees the argument types shown, inserting Casts.
// Unless noted, a NULL argument gives a NULL result.
//
//	"+" "-" "*" "/" "%"   (a, b same numeric type) -> that type; integer / and %
//	                      truncate toward zero; integer overflow is 22003;
//	                      division or modulo by zero is 22012 (floats too)
//	"neg"                 (numeric) -> same type; overflow 22003
//	"=" "<>" "<" "<=" ">" ">="  (a, b same type, any comparable kind) -> bool;
//	                      text compares by bytes (C collation)
//	"and" "or"            (bool...) -> bool; three-valued logic (NULL AND false = false)
//	"not"                 (bool) -> bool
//	"is_null" "is_not_null" (any) -> bool, never NULL
//	"is_true" "is_false" "is_not_true" "is_not_false" (bool) -> bool, never NULL
//	"is_distinct_from" "is_not_distinct_from" (a, b same type) -> bool, never NULL
//	"like" "ilike"        (text, pattern text) -> bool; % and _ wildcards, \ escapes
//	"regex_match" "regex_imatch" (text, pattern text) -> bool (Go RE2 syntax; bad pattern 2201B)
//	"in"                  (a, v1, v2, ... all same type) -> bool; SQL semantics:
//	                      true if any equal, else NULL if a or any v is NULL, else false
//	"coalesce"            (a, b, ... same type) -> that type; first non-NULL
//	"nullif"              (a, b same type) -> type of a
//	"greatest" "least"    (a, b, ... same type) -> that type; NULLs ignored
//	"||"                  (text, text) -> text; NULL if either is NULL
//	"concat"              (text...) -> text; NULL arguments are skipped, never NULL
//	"length"              (text) -> int32, in characters
//	"lower" "upper"       (text) -> text
//	"substr"              (text, int64 start [, int64 count]) -> text; 1-based, PostgreSQL rules
//	"trim" "ltrim" "rtrim" (text [, chars text]) -> text
//	"replace"             (text, from text, to text) -> text
//	"position"            (needle text, haystack text) -> int32; 1-based, 0 if absent
//	"abs"                 (numeric) -> same type; abs(minint) is 22003
//	"round"               (float64) -> float64, half to even (PostgreSQL's float8 round);
//	                      (float64, int64 digits) -> float64, the decimal as written
//	                      rounded half away from zero (PostgreSQL's numeric round)
//	"floor" "ceil"        (float64) -> float64
//	"mod"                 (a, b same integer type) -> that type; by zero 22012
//	"power"               (float64, float64) -> float64
//	"sqrt"                (float64) -> float64
//	"date_trunc"          (text unit, timestamp) -> timestamp
//	"extract"             (text field, timestamp) -> float64
type Func struct {
	Name string
	Args []Expr
	T    sqltypes.Type
}

// Cast converts Arg to T with PostgreSQL's rules: numeric narrowing that
// does not fit is 22003, float to integer rounds half to even, text to any
// type parses the text form (bad input is 22P02/22007), any type to text
// formats the text form PostgreSQL would print, VARCHAR(n) truncates
// silently only on explicit casts (Explicit) and otherwise fails with
// 22001 when longer than n characters.
type Cast struct {
	Arg      Expr
	T        sqltypes.Type
	Explicit bool
}

// Case is the searched CASE: the Then of the first When whose Cond is true,
// else Else (a NULL Literal when the user wrote no ELSE). A simple CASE
// (CASE x WHEN v ...) is bound to this form with Cond "x = v". Whens and
// Else have type T.
type Case struct {
	Whens []When
	Else  Expr
	T     sqltypes.Type
}

// When is one arm of a Case.
type When struct {
	Cond Expr
	Then Expr
}

// Type implements Expr.
func (e *ColumnRef) Type() sqltypes.Type { return e.T }

// Type implements Expr.
func (e *Literal) Type() sqltypes.Type { return e.T }

// Type implements Expr.
func (e *Param) Type() sqltypes.Type { return e.T }

// Type implements Expr.
func (e *Func) Type() sqltypes.Type { return e.T }

// Type implements Expr.
func (e *Cast) Type() sqltypes.Type { return e.T }

// Type implements Expr.
func (e *Case) Type() sqltypes.Type { return e.T }

// String implements Expr.
func (e *ColumnRef) String() string {
	if e.Name != "" {
		return fmt.Sprintf("%s#%d", e.Name, e.Index)
	}
	return fmt.Sprintf("#%d", e.Index)
}

// String implements Expr.
func (e *Literal) String() string { return FormatLiteral(e.Value) }

// String implements Expr.
func (e *Param) String() string { return fmt.Sprintf("$%d", e.Index+1) }

// String implements Expr.
func (e *Func) String() string {
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = a.String()
	}
	if len(args) == 2 && isInfix(e.Name) {
		return "(" + args[0] + " " + e.Name + " " + args[1] + ")"
	}
	return e.Name + "(" + strings.Join(args, ", ") + ")"
}

// String implements Expr.
func (e *Cast) String() string {
	return "CAST(" + e.Arg.String() + " AS " + e.T.String() + ")"
}

// String implements Expr.
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Then.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func isInfix(name string) bool {
	switch name {
	case "+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "and", "or", "||":
		return true
	}
	return false
}

// FormatLiteral prints a Go SQL value for plans and messages.
func FormatLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case time.Time:
		return "'" + x.UTC().Format("2006-01-02 15:04:05.999999") + "'"
	case bool:
		if x {
			return "true"
		}
		return "false"
	default:
		return fmt.Sprint(x)
	}
}

var (
	_ Expr = (*ColumnRef)(nil)
	_ Expr = (*Literal)(nil)
	_ Expr = (*Param)(nil)
	_ Expr = (*Func)(nil)
	_ Expr = (*Cast)(nil)
	_ Expr = (*Case)(nil)
)
