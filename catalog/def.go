package catalog

import "github.com/sluice-sql/sluice/catalog/sqltypes"

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
