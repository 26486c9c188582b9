package catalog

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func counterDef(name string) TableDef {
	return TableDef{
		Name:       name,
		Columns:    []ColumnDef{{Name: "id", Type: sqltypes.Int64}, {Name: "n", Type: sqltypes.Int64}},
		PrimaryKey: []int{0},
	}
}

// addTo is a read-modify-write statement: UPDATE t SET n = n + delta WHERE id = key.
func addTo(key, delta int64) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		o, ok := cur.Lookup([]any{key})
		if !ok {
			return fmt.Errorf("row %d not found", key)
		}
		row := cur.Row(o)
		if err := w.Delete(o); err != nil {
			return err
		}
		row[1] = row[1].(int64) + delta
		return w.Insert(row)
	}
}

// TestConcurrentWritersAndReaders runs read-modify-write increments from
// several goroutines, transfers that keep a sum constant, checkpoints and
// readers at once: no update is lost, versions grow by one per commit,
// readers see only whole statements and never a version going back.
func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	const (
		writers    = 4
		increments = 100
		accounts   = 50
		transfers  = 200
		total      = accounts * 100
	)
	dir := t.TempDir()
	c := openT(t, dir, Options{ChunkRows: 16, CheckpointRecords: 150})
	counter := mustCreate(t, c, counterDef("counter"))
	mustWrite(t, counter, insert([]any{int64(1), int64(0)}))
	bank := mustCreate(t, c, counterDef("bank"))
	var rows [][]any
	for i := range int64(accounts) {
		rows = append(rows, []any{i, int64(100)})
	}
	mustWrite(t, bank, insert(rows...))

	var writersWG, readersWG sync.WaitGroup
	done := make(chan struct{})
	for range writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			for range increments {
				if _, err := counter.Write(ctx, addTo(1, 1)); err != nil {
					t.Errorf("increment: %v", err)
					return
				}
			}
		}()
	}
	for g := range 2 {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range transfers {
				from := rng.Int64N(accounts)
				to := (from + 1 + rng.Int64N(accounts-1)) % accounts
				amount := rng.Int64N(50)
				_, err := bank.Write(ctx, func(cur *Snapshot, w *Writer) error {
					if err := addTo(from, -amount)(cur, w); err != nil {
						return err
					}
					o, _ := cur.Lookup([]any{to})
					row := cur.Row(o)
					row[1] = row[1].(int64) + amount
					_ = w.Delete(o)
					return w.Insert(row)
				})
				if err != nil {
					t.Errorf("transfer: %v", err)
					return
				}
			}
		}()
	}
	readersWG.Add(1)
	go func() { // explicit checkpoints racing the writers and the automatic ones
		defer readersWG.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := c.Checkpoint(ctx); err != nil {
				t.Errorf("checkpoint: %v", err)
				return
			}
			runtime.Gosched()
		}
	}()
	for range 2 {
		readersWG.Add(1)
		go func() {
			defer readersWG.Done()
			var lastCounter, lastBank uint64
			for {
				select {
				case <-done:
					return
				default:
				}
				s := counter.Snapshot()
				if s.Version() < lastCounter {
					t.Errorf("counter version went back from %d to %d", lastCounter, s.Version())
				}
				if got, want := s.Row(0)[1].(int64), int64(s.Version()-2); got != want {
					t.Errorf("counter at version %d holds %d, want %d", s.Version(), got, want)
				}
				lastCounter = s.Version()
				b := bank.Snapshot()
				if b.Version() < lastBank {
					t.Errorf("bank version went back from %d to %d", lastBank, b.Version())
				}
				lastBank = b.Version()
				sum, n := int64(0), 0
				for _, rec := range b.Records() {
					col := rec.Column(1).(*array.Int64)
					for i := range col.Len() {
						sum += col.Value(i)
						n++
					}
				}
				if sum != total || n != accounts {
					t.Errorf("bank at version %d: %d accounts holding %d, want %d holding %d", b.Version(), n, sum, accounts, total)
				}
				runtime.Gosched()
			}
		}()
	}
	writersWG.Wait()
	close(done)
	readersWG.Wait()
	if t.Failed() {
		return
	}

	s := counter.Snapshot()
	if got, want := s.Row(0)[1].(int64), int64(writers*increments); got != want {
		t.Fatalf("counter is %d, want %d: updates were lost", got, want)
	}
	if got, want := s.Version(), uint64(2+writers*increments); got != want {
		t.Fatalf("counter version is %d, want %d", got, want)
	}
	before := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	compareStates(t, stateOf(t, c2), before)
}

// TestConcurrentDDLAndWrites creates, writes and drops tables from several
// goroutines with checkpoints running.
func TestConcurrentDDLAndWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := openT(t, dir, Options{CheckpointRecords: 40})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				name := fmt.Sprintf("t%d_%d", g, i%3)
				_ = c.DropTable(ctx, name, true)
				if err := c.CreateTable(ctx, counterDef(name), false); err != nil {
					t.Errorf("create %s: %v", name, err)
					return
				}
				tbl, err := c.Table(name)
				if err != nil {
					t.Errorf("table %s: %v", name, err)
					return
				}
				for k := range int64(3) {
					if _, err := tbl.Write(ctx, insert([]any{k, int64(i)})); err != nil {
						t.Errorf("write %s: %v", name, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if got := len(c.TableNames()); got != 12 {
		t.Fatalf("got %d tables, want 12", got)
	}
	before := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	compareStates(t, stateOf(t, c2), before)
}
