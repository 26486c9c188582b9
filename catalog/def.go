package catalog

import (
	"time"

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
type TableDef struct {
	Name       string
	Columns    []ColumnDef
	PrimaryKey []int
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
