package catalog

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

var createdAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// feedDef is usersDef fed from a changelog topic.
func feedDef() TableDef {
	def := usersDef()
	def.Name = "rules"
	def.Connector = "kafka"
	def.Options = map[string]string{"connector": "kafka", "brokers": "127.0.0.1:9092", "topic": "rules", "format": "json"}
	return def
}

func wantFeedDef(t *testing.T, what string, got TableDef) {
	t.Helper()
	want := feedDef()
	if got.Connector != want.Connector || !maps.Equal(got.Options, want.Options) {
		t.Fatalf("%s: got connector %q options %v, want %q %v", what, got.Connector, got.Options, want.Connector, want.Options)
	}
}

func TestConnectorAndOptionsSurviveReplayAndCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := OpenWithOptions(ctx, dir, Options{NoAutoCheckpoint: true})
	if err != nil {
		t.Fatal(err)
	}
	rules := mustCreate(t, c, feedDef())
	mustCreate(t, c, logDef())
	wantFeedDef(t, "the new table", rules.Def())

	// Def returns a copy: changing it changes nothing in the catalog.
	d := rules.Def()
	d.Options["topic"] = "other"
	wantFeedDef(t, "after changing a copy of the definition", rules.Def())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// From the log.
	c, err = OpenWithOptions(ctx, dir, Options{NoAutoCheckpoint: true})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.Table("rules")
	if err != nil {
		t.Fatal(err)
	}
	wantFeedDef(t, "replayed from the log", tbl.Def())
	plain, err := c.Table("log")
	if err != nil {
		t.Fatal(err)
	}
	if d := plain.Def(); d.Connector != "" || d.Options != nil {
		t.Fatalf("an ordinary table came back with connector %q options %v", d.Connector, d.Options)
	}

	// From a checkpoint.
	if err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openT(t, dir)
	tbl, err = c.Table("rules")
	if err != nil {
		t.Fatal(err)
	}
	wantFeedDef(t, "loaded from a checkpoint", tbl.Def())
	plain, _ = c.Table("log")
	if d := plain.Def(); d.Connector != "" || d.Options != nil {
		t.Fatalf("an ordinary table came back from a checkpoint with connector %q options %v", d.Connector, d.Options)
	}
}

func TestCreateRecordCarriesTheConnectorOnlyWhenThereIsOne(t *testing.T) {
	plain := encodeCreate(1, usersDef(), createdAt)
	fed := encodeCreate(1, feedDef(), createdAt)
	// An ordinary table's record is the one written before connectors
	// existed: the connector section is what follows it.
	withName := usersDef()
	withName.Name = "rules"
	head := encodeCreate(1, withName, createdAt)
	if len(fed) <= len(head) || string(fed[:len(head)]) != string(head) {
		t.Fatal("the create record of a fed table does not start with the ordinary record")
	}
	_, _, r := recordHead(plain)
	def, _, err := r.create()
	if err != nil || def.Connector != "" || def.Options != nil {
		t.Fatalf("ordinary record: connector %q options %v err %v", def.Connector, def.Options, err)
	}
	_, _, r = recordHead(fed)
	def, _, err = r.create()
	if err != nil {
		t.Fatal(err)
	}
	wantFeedDef(t, "decoded", def)
	for cut := len(head) + 1; cut < len(fed); cut++ {
		_, _, r := recordHead(fed[:cut])
		if _, _, err := r.create(); err == nil {
			t.Fatalf("a create record cut to %d of %d bytes decoded without error", cut, len(fed))
		}
	}
}

func TestOptionsWithoutAConnectorAreRefused(t *testing.T) {
	c := openT(t, t.TempDir())
	def := usersDef()
	def.Options = map[string]string{"topic": "x"}
	wantCode(t, c.CreateTable(context.Background(), def, false), sqlerr.InvalidTableDefinition, "")
}

func TestCheckRowAppliesTheChecksOfInsert(t *testing.T) {
	def := usersDef() // id BIGINT PRIMARY KEY, name VARCHAR(3), qty INT NOT NULL
	def, err := validateDef(def)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		row  []any
		code string
	}{
		{"a good row passes", []any{int64(1), "abc", int64(2)}, ""},
		{"NULL in a NOT NULL column fails", []any{int64(1), "abc", nil}, sqlerr.NotNullViolation},
		{"NULL in the primary key fails", []any{nil, "abc", int64(2)}, sqlerr.NotNullViolation},
		{"a varchar too long fails", []any{int64(1), "abcd", int64(2)}, sqlerr.StringDataRightTruncation},
		{"an integer out of range fails", []any{int64(1), "a", int64(1) << 40}, sqlerr.NumericValueOutOfRange},
		{"a value of the wrong Go type fails", []any{"1", "a", int64(2)}, sqlerr.DatatypeMismatch},
		{"a row of the wrong width fails", []any{int64(1)}, sqlerr.InternalError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := def.CheckRow(tc.row)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			wantCode(t, err, tc.code, "")
		})
	}
}
