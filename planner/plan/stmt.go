package plan

import (
	"fmt"

	"github.com/sluice-sql/sluice/catalog"
)

// Statement is what one SQL statement does.
type Statement interface {
	// StatementTag is the command tag's verb, as PostgreSQL sends it in
	// CommandComplete ("SELECT", "INSERT", "CREATE TABLE", ...).
	StatementTag() string
}

// Query returns the rows of Root.
type Query struct {
	Root Node
}

// Explain returns the printed plan of Stmt as rows of one text column
// "QUERY PLAN".
type Explain struct {
	Text string
}

// Insert appends the rows of Source to Table. Source's i-th column goes to
// table column Targets[i]; table columns not in Targets get NULL. A
// duplicate primary key is 23505, a NULL in a NOT NULL column 23502.
// Source's column types equal the target columns' types (the binder casts).
type Insert struct {
	Table   string
	Source  Node
	Targets []int
	// ToSource is set when Table names a source (connector 'log'): the
	// rows are appended to it, atomically; Width is its column count.
	ToSource bool
	Width    int
}

// Assignment is one SET col = expr of an UPDATE.
type Assignment struct {
	Column int
	Expr   Expr // over the table's columns; typed as the column
}

// Update changes the rows of Table for which Filter (over the table's
// columns; nil for all rows) is true. All assignments see the old row.
type Update struct {
	Table  string
	Filter Expr
	Set    []Assignment
}

// Delete removes the rows of Table for which Filter is true (nil: all).
type Delete struct {
	Table  string
	Filter Expr
}

// CreateTable creates a table.
type CreateTable struct {
	Def         catalog.TableDef
	IfNotExists bool
}

// DropTable drops tables.
type DropTable struct {
	Names    []string
	IfExists bool
}

// Truncate removes every row of the tables, as one version each.
type Truncate struct {
	Tables []string
}

// SetVar sets a session setting (SET x = v, SET x TO v). Value "" with
// Default set means RESET / SET x TO DEFAULT.
type SetVar struct {
	Name    string
	Value   string
	Default bool
}

// ShowVar returns one session setting as a one-row, one-column result.
type ShowVar struct {
	Name string
}

// TxnKind is a transaction control statement.
type TxnKind int

// The transaction statements.
const (
	TxnBegin TxnKind = iota
	TxnCommit
	TxnRollback
)

// Txn is BEGIN, COMMIT or ROLLBACK.
type Txn struct {
	Kind TxnKind
}

// Empty is an empty query string (or only comments).
type Empty struct{}

// StatementTag implements Statement.
func (*Query) StatementTag() string { return "SELECT" }

// StatementTag implements Statement.
func (*Explain) StatementTag() string { return "EXPLAIN" }

// StatementTag implements Statement.
func (*Insert) StatementTag() string { return "INSERT" }

// StatementTag implements Statement.
func (*Update) StatementTag() string { return "UPDATE" }

// StatementTag implements Statement.
func (*Delete) StatementTag() string { return "DELETE" }

// StatementTag implements Statement.
func (*CreateTable) StatementTag() string { return "CREATE TABLE" }

// StatementTag implements Statement.
func (*DropTable) StatementTag() string { return "DROP TABLE" }

// StatementTag implements Statement.
func (*Truncate) StatementTag() string { return "TRUNCATE TABLE" }

// StatementTag implements Statement.
func (*SetVar) StatementTag() string { return "SET" }

// StatementTag implements Statement.
func (*ShowVar) StatementTag() string { return "SHOW" }

// StatementTag implements Statement.
func (t *Txn) StatementTag() string {
	switch t.Kind {
	case TxnBegin:
		return "BEGIN"
	case TxnCommit:
		return "COMMIT"
	default:
		return "ROLLBACK"
	}
}

// StatementTag implements Statement.
func (*Empty) StatementTag() string { return "" }

// String prints a statement for EXPLAIN and tests.
func String(s Statement) string {
	switch s := s.(type) {
	case *Query:
		return Format(s.Root)
	case *Insert:
		return fmt.Sprintf("Insert %s targets=%v\n", s.Table, s.Targets) + indent(Format(s.Source))
	case *Update:
		return fmt.Sprintf("Update %s filter=%v set=%d\n", s.Table, s.Filter, len(s.Set))
	case *Delete:
		return fmt.Sprintf("Delete %s filter=%v\n", s.Table, s.Filter)
	case *Explain:
		return s.Text
	case *CreateStream:
		o := s.Options
		head := fmt.Sprintf("Stream %s source=%s trigger=%s sink=%s output_mode=%s", s.Name, s.Source, o.Trigger, o.Sink, o.OutputMode)
		if o.MaxRowsPerBatch > 0 {
			head += fmt.Sprintf(" max_rows_per_batch=%d", o.MaxRowsPerBatch)
		}
		if s.Key != nil {
			head += fmt.Sprintf(" key=%v", s.Key)
		}
		return head + "\n" + indent(Format(s.Query))
	default:
		return s.StatementTag() + "\n"
	}
}

func indent(s string) string {
	out := ""
	for _, line := range splitLines(s) {
		out += "  " + line + "\n"
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

var (
	_ Statement = (*Query)(nil)
	_ Statement = (*Insert)(nil)
	_ Statement = (*Update)(nil)
	_ Statement = (*Delete)(nil)
	_ Statement = (*CreateTable)(nil)
	_ Statement = (*DropTable)(nil)
	_ Statement = (*Truncate)(nil)
	_ Statement = (*SetVar)(nil)
	_ Statement = (*ShowVar)(nil)
	_ Statement = (*Txn)(nil)
	_ Statement = (*Empty)(nil)
	_ Statement = (*Explain)(nil)
)
