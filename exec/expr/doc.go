// Package expr evaluates bound plan expressions (package plan's Expr) over
// Arrow records, a column at a time.
//
// # Use
//
// Compile turns a plan.Expr into a Program once per statement. A Program
// holds no per-call state: operators on several goroutines may share it.
// Eval computes one value per row of a record and returns a new array the
// caller releases; Select evaluates a boolean predicate and returns the
// rows where it is true (FALSE and NULL are dropped), reusing the caller's
// index buffer; EvalScalar computes an expression without columns (LIMIT,
// OFFSET, INSERT values) to a Go value. The Go values of SQL values are the
// ones package sqltypes lists; ScalarToArray, ValueAt and AppendValue
// convert between them and Arrow arrays for the operators in package exec.
// Env carries the allocator every array is taken from and the statement's
// parameters.
//
// # Organisation
//
// compile.go turns each plan node into a node (program.go): the leaves
// (columns, literals, parameters; nodes.go), funcNode for every strict
// function (NULL in, NULL out), and nodes of their own for what is not
// strict: AND/OR, IS [NOT] NULL/TRUE/FALSE, IS [NOT] DISTINCT FROM
// (logic.go), CASE, COALESCE, NULLIF, GREATEST/LEAST (cond.go), IN over
// constants (in.go), concat (strings.go). Functions of literals only are
// folded at compile time unless that fails (the error is then raised if
// and when the expression is evaluated).
//
// A node evaluates over a batch, the rows it must produce, to a vec: an
// array of one value per row, or a constant standing for every row. A
// constant is never materialised on the way: kernels read operands through
// col (arrays.go), which indexes a slice or broadcasts a constant, and the
// hot loops (arithmetic, comparisons, widening casts) have separate
// branch-free loops for column-column and column-constant shapes. A
// strict kernel computes every row, NULL rows included, with the result's
// validity being the AND of its inputs' bitmaps (shared, not copied, when
// only one input has NULLs). Checks that can fail (integer overflow, via
// ((a^r)&(b^r)) < 0 for addition; division by zero; casts that do not fit)
// accumulate a flag in the loop and only then look for a non-NULL row that
// really failed, so a NULL row never raises an error and a clean batch pays
// little for the checks. Kernels are grouped by family: arith.go,
// compare.go, strings.go, like.go (LIKE compiled to a matcher, with fast
// paths for prefix, suffix, contains and exact patterns; regular
// expressions), mathfn.go, datetime.go, cast.go.
//
// # Laziness
//
// CASE evaluates each WHEN over the rows not yet decided and each THEN and
// the ELSE only over the rows that reach them, so
// "CASE WHEN x = 0 THEN 0 ELSE 10 / x END" never divides by zero;
// COALESCE evaluates an argument only over the rows still NULL; AND and OR
// evaluate an argument only over the rows their earlier arguments left
// undecided ("x <> 0 AND 10 / x > 1" is safe, as in PostgreSQL). Those
// rows form a sub-batch that gathers the columns it reads on first use
// (gather.go). An argument that cannot fail (node.fallible) and is needed
// by at least half the rows is evaluated over the whole batch instead,
// which is cheaper than gathering. The pieces are assembled with one
// gather at the end.
//
// Select has its own paths (select.go): "column op constant" writes the
// indexes of matching rows in one branch-free loop without building a
// boolean array, and a top-level AND narrows the selection conjunct by
// conjunct.
//
// # Semantics
//
// PostgreSQL 15's, as documented on plan.Func and plan.Cast: integer
// overflow is 22003, division by zero 22012 (floats too), floats compare
// with NaN equal to itself and above everything, text compares bytewise,
// LIKE and ILIKE take backslash escapes, casts to and from text use
// sqltypes.FormatText and sqltypes.ParseText. Errors carry their SQLSTATE
// from where they are born; nothing panics across the package boundary.
package expr
