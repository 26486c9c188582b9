package catalog

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func TestCreateTable(t *testing.T) {
	ctx := context.Background()
	col := func(name string, typ sqltypes.Type) ColumnDef { return ColumnDef{Name: name, Type: typ} }
	tests := []struct {
		name        string
		def         TableDef
		ifNotExists bool
		wantCode    string // "" for success
		wantMsg     string
	}{
		{
			name: "a new table is created",
			def:  TableDef{Name: "t", Columns: []ColumnDef{col("a", sqltypes.Int32)}},
		},
		{
			name:     "a table whose name exists fails with 42P07",
			def:      usersDef(),
			wantCode: sqlerr.DuplicateTable,
			wantMsg:  `relation "users" already exists`,
		},
		{
			name:        "if not exists on an existing name does nothing",
			def:         TableDef{Name: "users", Columns: []ColumnDef{col("other", sqltypes.Text)}},
			ifNotExists: true,
		},
		{
			name:     "a repeated column name fails with 42701",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Int32), col("a", sqltypes.Text)}},
			wantCode: sqlerr.DuplicateColumn,
			wantMsg:  `column "a" specified more than once`,
		},
		{
			name:     "a primary key naming a missing column fails with 42P16",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Int32)}, PrimaryKey: []int{1}},
			wantCode: sqlerr.InvalidTableDefinition,
		},
		{
			name:     "a negative primary-key index fails with 42P16",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Int32)}, PrimaryKey: []int{-1}},
			wantCode: sqlerr.InvalidTableDefinition,
		},
		{
			name:     "a column named twice in the primary key fails with 42701",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Int32)}, PrimaryKey: []int{0, 0}},
			wantCode: sqlerr.DuplicateColumn,
			wantMsg:  `column "a" appears twice in primary key constraint`,
		},
		{
			name:     "a column of unknown type fails with 42P16",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Unknown)}},
			wantCode: sqlerr.InvalidTableDefinition,
		},
		{
			name:     "a column of a kind sqltypes does not know fails with 42P16",
			def:      TableDef{Name: "t2", Columns: []ColumnDef{col("a", sqltypes.Type{Kind: 99})}},
			wantCode: sqlerr.InvalidTableDefinition,
		},
		{
			name:     "a table without columns is not supported",
			def:      TableDef{Name: "t2"},
			wantCode: sqlerr.FeatureNotSupported,
		},
		{
			name:     "an empty table name fails with 42602",
			def:      TableDef{Columns: []ColumnDef{col("a", sqltypes.Int32)}},
			wantCode: codeInvalidName,
		},
	}
	c := openT(t, t.TempDir())
	mustCreate(t, c, usersDef())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CreateTable(ctx, tt.def, tt.ifNotExists)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantCode(t, err, tt.wantCode, tt.wantMsg)
			if _, err := c.Table(tt.def.Name); tt.def.Name != "users" && err == nil {
				t.Fatalf("a failed CREATE left table %q behind", tt.def.Name)
			}
		})
	}
	if got, want := c.TableNames(), []string{"t", "users"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got tables %v, want %v", got, want)
	}
	users, _ := c.Table("users")
	if got := users.Def().Columns[0].Name; got != "id" {
		t.Fatalf("if not exists replaced the table: first column %q", got)
	}
}

func TestCreateTableNormalisesTheDefinition(t *testing.T) {
	c := openT(t, t.TempDir())
	def := TableDef{
		Name: "t",
		Columns: []ColumnDef{
			{Name: "k", Type: sqltypes.Type{Kind: sqltypes.KindInt32, Width: 7}},
			{Name: "v", Type: sqltypes.Varchar(5)},
		},
		PrimaryKey: []int{0},
	}
	tbl := mustCreate(t, c, def)
	got := tbl.Def()
	want := TableDef{
		Name: "t",
		Columns: []ColumnDef{
			{Name: "k", Type: sqltypes.Int32, NotNull: true},
			{Name: "v", Type: sqltypes.Varchar(5)},
		},
		PrimaryKey: []int{0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	def.Columns[1].Name = "changed"
	got.Columns[0].Name = "changed"
	if tbl.Def().Columns[0].Name != "k" || tbl.Snapshot().Def().Columns[1].Name != "v" {
		t.Fatal("a caller's copy of the definition changed the table")
	}
	if s := tbl.Snapshot(); s.Version() != 1 || s.NumRows() != 0 || len(s.Records()) != 0 {
		t.Fatalf("new table: version %d, %d rows, %d records; want 1, 0, 0", s.Version(), s.NumRows(), len(s.Records()))
	}
}

func TestDropTable(t *testing.T) {
	ctx := context.Background()
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	mustWrite(t, users, insert([]any{int64(1), "a", int64(1)}))
	pinned := users.Snapshot()

	if err := c.DropTable(ctx, "users", false); err != nil {
		t.Fatal(err)
	}
	_, err := c.Table("users")
	wantCode(t, err, sqlerr.UndefinedTable, `relation "users" does not exist`)
	wantCode(t, c.DropTable(ctx, "users", false), sqlerr.UndefinedTable, `relation "users" does not exist`)
	if err := c.DropTable(ctx, "users", true); err != nil {
		t.Fatalf("drop if exists of a missing table: %v", err)
	}
	_, err = users.Write(ctx, insert([]any{int64(2), "b", int64(2)}))
	wantCode(t, err, sqlerr.UndefinedTable, `relation "users" does not exist`)
	if pinned.NumRows() != 1 || users.Snapshot().NumRows() != 1 {
		t.Fatal("snapshots of a dropped table changed")
	}

	again := mustCreate(t, c, usersDef())
	if again.ID() == users.ID() {
		t.Fatalf("a re-created table reuses id %d", again.ID())
	}
	if v := again.Snapshot().Version(); v != 1 || again.Snapshot().NumRows() != 0 {
		t.Fatalf("re-created table at version %d with %d rows, want version 1 and no rows", v, again.Snapshot().NumRows())
	}
}

func TestClosedCatalog(t *testing.T) {
	ctx := context.Background()
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	tests := []struct {
		name string
		err  error
	}{
		{"a write after close fails", func() error { _, err := users.Write(ctx, insert([]any{int64(1), "a", int64(1)})); return err }()},
		{"create table after close fails", c.CreateTable(ctx, logDef(), false)},
		{"drop table after close fails", c.DropTable(ctx, "users", false)},
		{"a checkpoint after close fails", c.Checkpoint(ctx)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.err, sqlerr.AdminShutdown, "catalog is closed")
		})
	}
	if users.Snapshot().Version() != 1 {
		t.Fatal("snapshots are not readable after close")
	}
}

func TestOpenTwiceFails(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir)
	_, err := Open(context.Background(), dir)
	if err == nil {
		t.Fatal("a second Open of an open directory succeeded")
	}
}

func TestCanceledContext(t *testing.T) {
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := users.Write(ctx, insert([]any{int64(1), "a", int64(1)}))
	wantCode(t, err, sqlerr.QueryCanceled, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want it to wrap context.Canceled", err)
	}
	wantCode(t, c.CreateTable(ctx, logDef(), false), sqlerr.QueryCanceled, "")
	if users.Snapshot().Version() != 1 {
		t.Fatal("a canceled write changed the table")
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"the zero value is valid", Options{}, true},
		{"a negative checkpoint size is invalid", Options{CheckpointBytes: -1}, false},
		{"a negative checkpoint record count is invalid", Options{CheckpointRecords: -1}, false},
		{"a chunk larger than the location format allows is invalid", Options{ChunkRows: maxChunk + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opts.Validate() == nil; got != tt.ok {
				t.Fatalf("got valid=%v, want %v", got, tt.ok)
			}
		})
	}
}
