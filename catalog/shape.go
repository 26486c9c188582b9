package catalog

import (
	"hash/maphash"
	"maps"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// SQLSTATE codes the catalog raises that package sqlerr has no constant
// for yet.
const (
	codeInvalidName              = sqlerr.InvalidName
	codeCharacterNotInRepertoire = sqlerr.CharacterNotInRepertoire
	codeTooManyColumns           = sqlerr.TooManyColumns
)

// Limits on table definitions, as in PostgreSQL.
const (
	maxColumns      = 1600
	maxVarcharWidth = 10485760
)

// shape is what every version of one table shares: its identity, its
// validated definition and the Arrow schema of its records. It is
// immutable.
type shape struct {
	id     uint64 // unique within the catalog's lifetime, persisted
	def    TableDef
	schema *arrow.Schema
	pkName string       // "<table>_pkey", the constraint name in errors
	seed   maphash.Seed // hash seed of the primary-key index
}

func newShape(id uint64, def TableDef) *shape {
	fields := make([]arrow.Field, len(def.Columns))
	for i, c := range def.Columns {
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type.Arrow(), Nullable: !c.NotNull}
	}
	return &shape{
		id:     id,
		def:    def,
		schema: arrow.NewSchema(fields, nil),
		pkName: def.Name + "_pkey",
		seed:   maphash.MakeSeed(),
	}
}

// copyDef returns a deep copy of the definition, so callers cannot change
// the catalog's.
func (s *shape) copyDef() TableDef {
	return TableDef{
		Name:       s.def.Name,
		Columns:    slices.Clone(s.def.Columns),
		PrimaryKey: slices.Clone(s.def.PrimaryKey),
		Connector:  s.def.Connector,
		Options:    maps.Clone(s.def.Options),
	}
}

func (s *shape) hasPK() bool { return len(s.def.PrimaryKey) > 0 }

// validateDef checks a table definition and returns a normalised deep
// copy: primary-key columns are NOT NULL and only VARCHAR keeps a width.
func validateDef(def TableDef) (TableDef, error) {
	if def.Name == "" {
		return TableDef{}, sqlerr.New(codeInvalidName, "table name must not be empty")
	}
	if len(def.Columns) == 0 {
		return TableDef{}, sqlerr.New(sqlerr.FeatureNotSupported, "tables without columns are not supported")
	}
	if len(def.Columns) > maxColumns {
		return TableDef{}, sqlerr.New(codeTooManyColumns, "tables can have at most %d columns", maxColumns)
	}
	if def.Connector == "" && len(def.Options) > 0 {
		return TableDef{}, sqlerr.New(sqlerr.InvalidTableDefinition, "table \"%s\" has options but no connector", def.Name)
	}
	out := TableDef{
		Name:       def.Name,
		Columns:    slices.Clone(def.Columns),
		PrimaryKey: slices.Clone(def.PrimaryKey),
		Connector:  def.Connector,
	}
	if len(def.Options) > 0 {
		out.Options = maps.Clone(def.Options)
	}
	seen := make(map[string]bool, len(out.Columns))
	for i := range out.Columns {
		c := &out.Columns[i]
		if c.Name == "" {
			return TableDef{}, sqlerr.New(codeInvalidName, "column name must not be empty")
		}
		if seen[c.Name] {
			return TableDef{}, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", c.Name)
		}
		seen[c.Name] = true
		if err := validateType(c); err != nil {
			return TableDef{}, err
		}
	}
	inKey := make(map[int]bool, len(out.PrimaryKey))
	for _, k := range out.PrimaryKey {
		if k < 0 || k >= len(out.Columns) {
			return TableDef{}, sqlerr.New(sqlerr.InvalidTableDefinition,
				"primary key of table \"%s\" names column %d, which does not exist", def.Name, k)
		}
		if inKey[k] {
			return TableDef{}, sqlerr.New(sqlerr.DuplicateColumn,
				"column \"%s\" appears twice in primary key constraint", out.Columns[k].Name)
		}
		inKey[k] = true
		out.Columns[k].NotNull = true
	}
	return out, nil
}

// validateType checks and normalises a column's type. Types must survive
// the round trip through their name, which is how the log and the manifest
// store them.
func validateType(c *ColumnDef) error {
	switch c.Type.Kind {
	case sqltypes.KindUnknown:
		return sqlerr.New(sqlerr.InvalidTableDefinition, "column \"%s\" has pseudo-type unknown", c.Name)
	case sqltypes.KindText:
		if c.Type.Width < 0 {
			return sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar must be at least 1")
		}
		if c.Type.Width > maxVarcharWidth {
			return sqlerr.New(sqlerr.InvalidParameterValue, "length for type varchar cannot exceed %d", maxVarcharWidth)
		}
	default:
		c.Type.Width = 0
	}
	if t, ok := sqltypes.ParseName(c.Type.String()); !ok || t != c.Type {
		return sqlerr.New(sqlerr.InvalidTableDefinition, "column \"%s\" has unsupported type %s", c.Name, c.Type)
	}
	return nil
}

func errUndefinedTable(name string) error {
	return sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
}

func errClosed() error {
	return sqlerr.New(sqlerr.AdminShutdown, "catalog is closed")
}
