// Package plan holds Sluice's plan nodes: plain, printable data that the
// planner produces and package exec turns into running operators. Nothing
// here executes.
//
// A Node is a relational operator with an output schema ([]Column); each
// Expr inside a node is bound against the output schema of the node's
// input (for Join's Cond: the left schema followed by the right schema).
// A Statement is what one SQL statement does: a Query returns rows, the
// others change the catalog or the session.
package plan

import (
	"fmt"
	"strings"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Column is one column of a node's output.
type Column struct {
	Name string
	Type sqltypes.Type
}

// Node is a relational plan node.
type Node interface {
	// Columns is the output schema.
	Columns() []Column
	// Children are the input nodes, in order.
	Children() []Node
	// Describe prints the node alone (no children), one line.
	Describe() string
}

// Scan reads every row of a table at the version pinned for the
// statement, or at an older version the table retains (AS OF VERSION).
// Its columns are the table's, in table order.
type Scan struct {
	Table string
	Cols  []Column
	// Version is the version read (AS OF VERSION n); 0 reads the version
	// pinned for the statement, the current one.
	Version uint64
	// VersionParam, when set, is the integer parameter that holds the
	// version (AS OF VERSION $n), read when the plan is built; Version is
	// 0 then.
	VersionParam *Param
}

// Input reads the records of the current micro-batch of a stream's
// source. Its columns are the source's. Outside a stream's batch there is
// nothing to read, and building it is an error.
type Input struct {
	Source string
	Cols   []Column
}

// Values produces literal rows (VALUES, SELECT without FROM). Each row has
// one Expr per column; Exprs may use Params but no ColumnRefs.
type Values struct {
	Rows [][]Expr
	Cols []Column
}

// Filter keeps the rows for which Pred is true (not false, not NULL).
type Filter struct {
	Input Node
	Pred  Expr
}

// Project computes Exprs over each input row.
type Project struct {
	Input Node
	Exprs []Expr
	Cols  []Column
}

// AggFunc names an aggregate function.
type AggFunc string

// The aggregates. CountStar counts rows; the others ignore NULL inputs.
// Sum of SMALLINT/INTEGER is BIGINT, of BIGINT is BIGINT (overflow 22003),
// of floats is DOUBLE PRECISION; Avg is DOUBLE PRECISION; Min and Max keep
// the argument type. Over zero non-NULL inputs, Count is 0 and the others
// are NULL.
const (
	AggCountStar AggFunc = "count_star"
	AggCount     AggFunc = "count"
	AggSum       AggFunc = "sum"
	AggAvg       AggFunc = "avg"
	AggMin       AggFunc = "min"
	AggMax       AggFunc = "max"
)

// AggCall is one aggregate in an Aggregate node.
type AggCall struct {
	Func     AggFunc
	Arg      Expr // nil for CountStar
	Distinct bool
	T        sqltypes.Type
}

// String prints the call.
func (a AggCall) String() string {
	if a.Func == AggCountStar {
		return "count(*)"
	}
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	return fmt.Sprintf("%s(%s%s)", a.Func, d, a.Arg)
}

// Aggregate groups its input by GroupBy and computes Aggs per group. Its
// output is the group-by values followed by the aggregate values. With no
// GroupBy it produces exactly one row, even over empty input.
type Aggregate struct {
	Input   Node
	GroupBy []Expr
	Aggs    []AggCall
	Cols    []Column
	// Window is set when the groups are event-time windows (GROUP BY
	// TUMBLE/HOP): a stream then finalises a group once the watermark
	// reaches its window's end.
	Window *AggWindow
}

// AggWindow names the GROUP BY keys of an Aggregate that hold the start
// and the end of the group's event-time window (ColumnRefs to a Window
// node's window_start and window_end).
type AggWindow struct {
	StartKey, EndKey int
}

// SortKey is one ORDER BY key.
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool // the binder sets PostgreSQL's default: NULLS LAST for ASC, FIRST for DESC
}

// Sort orders its input by Keys; the sort is stable.
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows then passes at most Count rows. Either may be nil
// (no limit, no offset). Both are constant for the statement (Literals or
// Params of type BIGINT); a negative value is 2201W/2201X.
type Limit struct {
	Input  Node
	Count  Expr
	Offset Expr
}

// Distinct removes duplicate rows (NULLs compare equal).
type Distinct struct {
	Input Node
}

// JoinKind is INNER or LEFT (outer).
type JoinKind int

// The join kinds.
const (
	JoinInner JoinKind = iota
	JoinLeft
)

func (k JoinKind) String() string {
	if k == JoinLeft {
		return "left"
	}
	return "inner"
}

// Join is a hash join: LeftKeys[i] (over Left's columns) equals
// RightKeys[i] (over Right's columns) for all i, and Cond (over Left's
// columns followed by Right's; nil for none) is true. NULL keys never
// match. With no keys every pair is tested (a cross join). A LEFT join
// emits each unmatched left row once with NULLs for Right's columns. The
// output is Left's columns followed by Right's.
type Join struct {
	Left, Right Node
	Kind        JoinKind
	LeftKeys    []Expr
	RightKeys   []Expr
	Cond        Expr
}

// UnionAll concatenates its inputs, which have the same column types.
type UnionAll struct {
	Inputs []Node
	Cols   []Column
}

// Columns implements Node.
func (n *Scan) Columns() []Column { return n.Cols }

// Columns implements Node.
func (n *Input) Columns() []Column { return n.Cols }

// Columns implements Node.
func (n *Values) Columns() []Column { return n.Cols }

// Columns implements Node.
func (n *Filter) Columns() []Column { return n.Input.Columns() }

// Columns implements Node.
func (n *Project) Columns() []Column { return n.Cols }

// Columns implements Node.
func (n *Aggregate) Columns() []Column { return n.Cols }

// Columns implements Node.
func (n *Sort) Columns() []Column { return n.Input.Columns() }

// Columns implements Node.
func (n *Limit) Columns() []Column { return n.Input.Columns() }

// Columns implements Node.
func (n *Distinct) Columns() []Column { return n.Input.Columns() }

// Columns implements Node.
func (n *Join) Columns() []Column {
	return append(append([]Column{}, n.Left.Columns()...), n.Right.Columns()...)
}

// Columns implements Node.
func (n *UnionAll) Columns() []Column { return n.Cols }

// Children implements Node.
func (n *Scan) Children() []Node { return nil }

// Children implements Node.
func (n *Input) Children() []Node { return nil }

// Children implements Node.
func (n *Values) Children() []Node { return nil }

// Children implements Node.
func (n *Filter) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Project) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Aggregate) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Sort) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Limit) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Distinct) Children() []Node { return []Node{n.Input} }

// Children implements Node.
func (n *Join) Children() []Node { return []Node{n.Left, n.Right} }

// Children implements Node.
func (n *UnionAll) Children() []Node { return n.Inputs }

// Describe implements Node.
func (n *Scan) Describe() string {
	switch {
	case n.VersionParam != nil:
		return fmt.Sprintf("Scan %s version=%s", n.Table, n.VersionParam)
	case n.Version != 0:
		return fmt.Sprintf("Scan %s version=%d", n.Table, n.Version)
	}
	return "Scan " + n.Table
}

// Describe implements Node.
func (n *Input) Describe() string { return "Input " + n.Source }

// Describe implements Node.
func (n *Values) Describe() string { return fmt.Sprintf("Values rows=%d", len(n.Rows)) }

// Describe implements Node.
func (n *Filter) Describe() string { return "Filter " + n.Pred.String() }

// Describe implements Node.
func (n *Project) Describe() string { return "Project " + joinExprs(n.Exprs) }

// Describe implements Node.
func (n *Aggregate) Describe() string {
	aggs := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = a.String()
	}
	s := fmt.Sprintf("HashAggregate group=[%s] aggs=[%s]", joinExprs(n.GroupBy), strings.Join(aggs, ", "))
	if n.Window != nil {
		s += fmt.Sprintf(" window=[%d, %d)", n.Window.StartKey, n.Window.EndKey)
	}
	return s
}

// Describe implements Node.
func (n *Sort) Describe() string {
	keys := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		dir := "asc"
		if k.Desc {
			dir = "desc"
		}
		nulls := "nulls last"
		if k.NullsFirst {
			nulls = "nulls first"
		}
		keys[i] = fmt.Sprintf("%s %s %s", k.Expr, dir, nulls)
	}
	return "Sort " + strings.Join(keys, ", ")
}

// Describe implements Node.
func (n *Limit) Describe() string {
	s := "Limit"
	if n.Count != nil {
		s += " count=" + n.Count.String()
	}
	if n.Offset != nil {
		s += " offset=" + n.Offset.String()
	}
	return s
}

// Describe implements Node.
func (n *Distinct) Describe() string { return "Distinct" }

// Describe implements Node.
func (n *Join) Describe() string {
	s := fmt.Sprintf("HashJoin %s left=[%s] right=[%s]", n.Kind, joinExprs(n.LeftKeys), joinExprs(n.RightKeys))
	if n.Cond != nil {
		s += " cond=" + n.Cond.String()
	}
	return s
}

// Describe implements Node.
func (n *UnionAll) Describe() string { return "UnionAll" }

func joinExprs(es []Expr) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.String()
	}
	return strings.Join(s, ", ")
}

// Format prints a node tree, one node per line, children indented.
func Format(n Node) string {
	var b strings.Builder
	var walk func(n Node, depth int)
	walk = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.Describe())
		b.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

var (
	_ Node = (*Scan)(nil)
	_ Node = (*Input)(nil)
	_ Node = (*Values)(nil)
	_ Node = (*Filter)(nil)
	_ Node = (*Project)(nil)
	_ Node = (*Aggregate)(nil)
	_ Node = (*Sort)(nil)
	_ Node = (*Limit)(nil)
	_ Node = (*Distinct)(nil)
	_ Node = (*Join)(nil)
	_ Node = (*UnionAll)(nil)
)
