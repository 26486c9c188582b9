package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// TestRandomStatementsMatchAModel runs random statements (inserts,
// updates that move keys, deletes, delete-all) against a table and a plain
// Go model of it, with checkpoints, clean restarts and simulated crashes
// in between, and checks after every step that the table holds the model's
// rows, that records and rows agree, that the index finds every key, and
// that recovery reproduces the exact version and row order.
func TestRandomStatementsMatchAModel(t *testing.T) {
	tests := []struct {
		name      string
		pk        bool
		chunkRows int
		steps     int
	}{
		{"a table with a primary key and tiny chunks matches the model", true, 4, 400},
		{"a table without a primary key and tiny chunks matches the model", false, 4, 400},
		{"a table with a primary key and larger chunks matches the model", true, 16, 400},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runModel(t, rand.New(rand.NewPCG(uint64(i), 42)), tt.pk, tt.chunkRows, tt.steps)
		})
	}
}

func runModel(t *testing.T, rng *rand.Rand, pk bool, chunkRows, steps int) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{ChunkRows: chunkRows, NoAutoCheckpoint: true}
	def := TableDef{
		Name: "m",
		Columns: []ColumnDef{
			{Name: "id", Type: sqltypes.Int64},
			{Name: "name", Type: sqltypes.Varchar(4)},
			{Name: "n", Type: sqltypes.Int32},
		},
	}
	if pk {
		def.PrimaryKey = []int{0}
	}
	c, err := OpenWithOptions(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	tbl := mustCreate(t, c, def)
	var model [][]any
	version := uint64(1)

	randRow := func() []any {
		var n any
		if rng.IntN(4) > 0 {
			n = int64(rng.IntN(1000))
		}
		return []any{int64(rng.IntN(2000)), fmt.Sprintf("r%d", rng.IntN(100)), n}
	}
	unique := func(rows [][]any) bool {
		if !pk {
			return true
		}
		seen := map[int64]bool{}
		for _, r := range rows {
			if seen[r[0].(int64)] {
				return false
			}
			seen[r[0].(int64)] = true
		}
		return true
	}

	for step := range steps {
		cur := tbl.Snapshot()
		n := cur.NumRows()
		var dels []int
		var ins [][]any
		deleteAll := false
		switch op := rng.IntN(60); {
		case op < 25: // insert
			for range 1 + rng.IntN(12) {
				ins = append(ins, randRow())
			}
		case op < 40 && n > 0: // update some rows, often moving keys
			k := 1 + rng.IntN(4)
			if rng.IntN(10) == 0 {
				k = n
			}
			for range k {
				o := rng.IntN(n)
				row := cur.Row(o)
				if rng.IntN(2) == 0 {
					row[0] = row[0].(int64) + int64(rng.IntN(5)) - 2
				}
				row[2] = int64(rng.IntN(1000))
				dels = append(dels, o)
				ins = append(ins, row)
			}
		case op < 57 && n > 0: // delete some rows
			k := 1 + rng.IntN(min(n, 3))
			if rng.IntN(10) == 0 {
				k = 1 + rng.IntN(n)
			}
			for range k {
				dels = append(dels, rng.IntN(n))
			}
		case op < 58: // delete all, maybe insert
			deleteAll = true
			for range rng.IntN(3) {
				ins = append(ins, randRow())
			}
		default: // nothing
		}

		// The model's expectation.
		gone := map[int]bool{}
		for _, o := range dels {
			gone[o] = true
		}
		var want [][]any
		if !deleteAll {
			for o := range n {
				if !gone[o] {
					want = append(want, cur.Row(o))
				}
			}
		}
		want = append(want, ins...)
		ok := unique(want)
		changed := len(ins) > 0 || len(gone) > 0 || (deleteAll && n > 0)

		s, err := tbl.Write(ctx, func(_ *Snapshot, w *Writer) error {
			if deleteAll {
				w.DeleteAll()
			}
			for _, o := range dels {
				if err := w.Delete(o); err != nil {
					return err
				}
			}
			for _, r := range ins {
				if err := w.Insert(r); err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case !ok:
			if sqlerr.Code(err) != sqlerr.UniqueViolation {
				t.Fatalf("step %d: got %v, want 23505", step, err)
			}
		case err != nil:
			t.Fatalf("step %d: %v", step, err)
		default:
			model = want
			if changed {
				version++
			}
			if s.Version() != version {
				t.Fatalf("step %d: got version %d, want %d", step, s.Version(), version)
			}
		}
		checkModel(t, tbl.Snapshot(), model, version, chunkRows)

		switch {
		case step%97 == 96: // clean restart
			before := stateOf(t, c)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if c, err = OpenWithOptions(ctx, dir, opts); err != nil {
				t.Fatalf("step %d: reopen: %v", step, err)
			}
			compareStates(t, stateOf(t, c), before)
			tbl, _ = c.Table("m")
		case step%41 == 40:
			if err := c.Checkpoint(ctx); err != nil {
				t.Fatalf("step %d: checkpoint: %v", step, err)
			}
		case step%67 == 66: // a crash: recover a copy taken while open
			crash := filepath.Join(t.TempDir(), "crash")
			copyDir(t, dir, crash)
			c2, err := OpenWithOptions(ctx, crash, opts)
			if err != nil {
				t.Fatalf("step %d: open crash copy: %v", step, err)
			}
			compareStates(t, stateOf(t, c2), stateOf(t, c))
			if err := c2.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkModel checks a snapshot against the model's rows and version.
func checkModel(t *testing.T, s *Snapshot, model [][]any, version uint64, chunkRows int) {
	t.Helper()
	if s.Version() != version {
		t.Fatalf("got version %d, want %d", s.Version(), version)
	}
	rows := rowsOf(s)
	if got, want := sorted(rows), sorted(model); !equalRows(got, want) {
		t.Fatalf("got rows\n%v\nwant\n%v", got, want)
	}
	if got := recordRows(t, s, chunkRows); !equalRows(got, rows) {
		t.Fatalf("records hold\n%v\nrows are\n%v", got, rows)
	}
	if s.index == nil {
		return
	}
	if s.index.n != len(rows) {
		t.Fatalf("index holds %d keys, table has %d rows", s.index.n, len(rows))
	}
	for o, r := range rows {
		got, ok := s.Lookup([]any{r[0]})
		if !ok || got != o {
			t.Fatalf("Lookup(%v) = %d, %v; want %d", r[0], got, ok, o)
		}
	}
}
