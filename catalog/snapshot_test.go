package catalog

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
)

func TestPinnedSnapshotDoesNotChange(t *testing.T) {
	c := openT(t, t.TempDir(), Options{ChunkRows: 8})
	users := mustCreate(t, c, usersDef())
	for id := range int64(30) {
		mustWrite(t, users, insert([]any{id, "r", id}))
	}
	pinned := users.Snapshot()
	wantRows := rowsOf(pinned)
	wantRecords := recordRows(t, pinned, 8)
	recs := pinned.Records()

	later := []struct {
		name string
		fn   func(cur *Snapshot, w *Writer) error
	}{
		{"an update in place", func(cur *Snapshot, w *Writer) error {
			o, _ := cur.Lookup([]any{int64(3)})
			_ = w.Delete(o)
			return w.Insert([]any{int64(3), "new", int64(-1)})
		}},
		{"a delete that moves a row", func(cur *Snapshot, w *Writer) error { return w.Delete(0) }},
		{"an append to the last chunk", insert([]any{int64(100), "x", int64(0)})},
		{"an update of every row", updateAll(func(id int64) int64 { return id + 1000 })},
		{"delete all", func(_ *Snapshot, w *Writer) error { w.DeleteAll(); return nil }},
	}
	for _, l := range later {
		t.Run("after "+l.name+" the pinned snapshot is unchanged", func(t *testing.T) {
			mustWrite(t, users, l.fn)
			if pinned.Version() != 31 || pinned.NumRows() != 30 {
				t.Fatalf("pinned snapshot now at version %d with %d rows", pinned.Version(), pinned.NumRows())
			}
			if got := rowsOf(pinned); !equalRows(got, wantRows) {
				t.Fatalf("got rows %v, want %v", got, wantRows)
			}
			if got := recordRows(t, pinned, 8); !equalRows(got, wantRecords) {
				t.Fatalf("got records %v, want %v", got, wantRecords)
			}
			// Records fetched before the writes still hold the old values.
			ids := recs[0].Column(0).(*array.Int64)
			if ids.Value(0) != wantRecords[0][0] {
				t.Fatalf("an earlier Records() result changed: %d, want %v", ids.Value(0), wantRecords[0][0])
			}
			if o, ok := pinned.Lookup([]any{int64(3)}); !ok || pinned.Row(o)[1] != "r" {
				t.Fatal("the pinned snapshot's index changed")
			}
		})
	}
}

func TestReleasingRecordsIsHarmless(t *testing.T) {
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	s := mustWrite(t, users, insert([]any{int64(1), "a", int64(1)}))
	for range 3 {
		for _, r := range s.Records() {
			r.Release()
		}
	}
	if got := recordRows(t, s, 4096); !equalRows(got, [][]any{{int64(1), "a", int64(1)}}) {
		t.Fatalf("got %v after callers released their records", got)
	}
}

func TestRecordsAreChunkedInOrdinalOrder(t *testing.T) {
	c := openT(t, t.TempDir(), Options{ChunkRows: 100})
	tbl := mustCreate(t, c, logDef())
	var rows [][]any
	for i := range int64(1050) {
		rows = append(rows, []any{"m", i})
	}
	s := mustWrite(t, tbl, insert(rows...))
	recs := s.Records()
	if len(recs) != 11 {
		t.Fatalf("got %d records, want 11", len(recs))
	}
	ordinal := 0
	for _, rec := range recs {
		ns := rec.Column(1).(*array.Int64)
		for i := range ns.Len() {
			if got := s.Row(ordinal)[1]; got != ns.Value(i) {
				t.Fatalf("ordinal %d: Row says %v, records say %d", ordinal, got, ns.Value(i))
			}
			ordinal++
		}
	}
}
