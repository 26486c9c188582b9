package catalog

import (
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// ColumnDef is one column of a table.
type ColumnDef struct {
	Name    string
	Type    sqltypes.Type
	NotNull bool // primary-key columns are always NOT NULL
}

// TableDef describes a table. PrimaryKey holds indexes into Columns; a
// table without a declared primary key has an empty PrimaryKey and its rows
// are identified by a hidden row id.
//
// Connector is "" for an ordinary table, which statements write. A table
// fed from outside (CREATE TABLE ... WITH (connector = 'kafka', ...): a
// changelog-fed config table) names its connector, and Options holds its
// WITH options with lowercased keys, as written; nil for an ordinary
// table. The catalog keeps both durably with the table and does not
// interpret them.
type TableDef struct {
	Name       string
	Columns    []ColumnDef
	PrimaryKey []int
	Connector  string
	Options    map[string]string
}

// ColumnIndex returns the index of the named column, or -1.
func (d TableDef) ColumnIndex(name string) int {
	for i, c := range d.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// CheckRow checks a row for the table (one Go value per column) the way
// Writer.Insert does, without writing it: the value's Go type (42804),
// NULL in a NOT NULL column (23502), VARCHAR(n) longer than n characters
// (22001), integers and REAL out of range (22003). A writer that must not
// let one bad row fail a whole statement (a changelog feed) checks each
// row first. Primary-key uniqueness is not checked.
func (d TableDef) CheckRow(row []any) error {
	if len(row) != len(d.Columns) {
		return sqlerr.New(sqlerr.InternalError,
			"row has %d values but table \"%s\" has %d columns", len(row), d.Name, len(d.Columns))
	}
	for j := range row {
		if _, err := normalize(d.Name, &d.Columns[j], row[j]); err != nil {
			return err
		}
	}
	return nil
}

// SourceDef describes a source: an append-only, replayable input with a
// schema. Options are the WITH options with lowercased keys, as written
// (validated by the connector when the source is opened). EventTime names
// the TIMESTAMP column that carries event time ("" for none);
// WatermarkDelay is how far the watermark trails the largest event time
// seen.
type SourceDef struct {
	Name           string
	Columns        []ColumnDef
	Connector      string
	Options        map[string]string
	EventTime      string
	WatermarkDelay time.Duration
}
