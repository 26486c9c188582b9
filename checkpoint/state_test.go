package checkpoint

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

func TestStateRoundTrips(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	withMeta := arrow.NewSchema(stateSchema.Fields(), ptr(arrow.NewMetadata([]string{"op"}, []string{"agg-1"})))
	emptyRec := array.NewRecord(stateSchema, []arrow.Array{
		array.NewInt64Builder(mem).NewArray(), array.NewFloat64Builder(mem).NewArray(),
		array.NewStringBuilder(mem).NewArray(), array.NewInt64Builder(mem).NewArray(),
	}, 0)
	for _, c := range emptyRec.Columns() {
		c.Release() // the record holds them
	}
	defer emptyRec.Release()
	several := stateRecords(mem, 0, 10_000, 3000)
	defer release(several)
	var withMetaRecs []arrow.Record
	for _, r := range several[:2] {
		withMetaRecs = append(withMetaRecs, array.NewRecord(withMeta, r.Columns(), r.NumRows()))
	}
	defer release(withMetaRecs)

	tests := []struct {
		name   string
		schema *arrow.Schema
		recs   []arrow.Record
	}{
		{"several records with nulls", stateSchema, several},
		{"no records", stateSchema, nil},
		{"one record of zero rows", stateSchema, []arrow.Record{emptyRec}},
		{"a zero-row record between others", stateSchema, []arrow.Record{several[0], emptyRec, several[1]}},
		{"a schema without fields", arrow.NewSchema(nil, nil), nil},
		{"a schema with metadata", withMeta, withMetaRecs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := open(t, t.TempDir())
			runBatches(t, d, 2)
			if err := d.WriteState(ctx, 2, tc.schema, tc.recs); err != nil {
				t.Fatal(err)
			}
			d = reopen(t, d)
			batch, schema, recs, err := d.LoadState(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer release(recs)
			if batch != 2 {
				t.Fatalf("got batch %d, want 2", batch)
			}
			if !schema.Equal(tc.schema) || !schema.Metadata().Equal(tc.schema.Metadata()) {
				t.Fatalf("got schema %s, want %s", schema, tc.schema)
			}
			sameRecords(t, recs, tc.recs)
		})
	}
}

func TestNoStateIsNotAnError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := open(t, t.TempDir())
	batch, schema, recs, err := d.LoadState(context.Background(), mem)
	if batch != -1 || schema != nil || recs != nil || err != nil {
		t.Fatalf("LoadState on a new directory = %d, %v, %v, %v; want -1, nil, nil, nil", batch, schema, recs, err)
	}
}

func TestWriteStateRules(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := stateRecords(mem, 0, 10, 10)
	defer release(recs)
	d := open(t, t.TempDir())
	runBatches(t, d, 3)
	if err := d.WritePlan(ctx, testPlan(4)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.WriteState(ctx, 4, stateSchema, recs), sqlerr.ObjectNotInPrerequisiteState)
	if err := d.WriteState(ctx, 3, stateSchema, recs); err != nil {
		t.Fatal(err)
	}
	wantCode(t, d.WriteState(ctx, 2, stateSchema, recs), sqlerr.ObjectNotInPrerequisiteState)
	if err := d.WriteState(ctx, 3, stateSchema, nil); err != nil {
		t.Fatalf("replacing the snapshot of the same batch: %v", err)
	}
	other := arrow.NewSchema(stateSchema.Fields()[:2], nil)
	wantCode(t, d.WriteState(ctx, 3, other, recs), sqlerr.InternalError)
	if got := d.StateBatches(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("got snapshots %v, want [3]", got)
	}
	batch, _, got, err := d.LoadState(ctx, mem)
	if err != nil || batch != 3 || len(got) != 0 {
		t.Fatalf("LoadState = %d, %d records, %v; want the replaced, empty snapshot of batch 3", batch, len(got), err)
	}
}

// writeStates commits batches through last, saving the state at each
// batch in at; state b holds rows [b, b+100).
func writeStates(t *testing.T, d *Dir, mem memory.Allocator, at ...int64) {
	t.Helper()
	for _, b := range at {
		runBatches(t, d, b)
		recs := stateRecords(mem, int(b), 100, 40)
		err := d.WriteState(context.Background(), b, stateSchema, recs)
		release(recs)
		if err != nil {
			t.Fatalf("WriteState(%d): %v", b, err)
		}
	}
}

func checkState(t *testing.T, d *Dir, mem memory.Allocator, want int64) {
	t.Helper()
	batch, _, recs, err := d.LoadState(context.Background(), mem)
	if err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	defer release(recs)
	if batch != want {
		t.Fatalf("got the state of batch %d, want %d", batch, want)
	}
	wantRecs := stateRecords(mem, int(want), 100, 40)
	defer release(wantRecs)
	sameRecords(t, recs, wantRecs)
}

func TestWriteStateKeepsTheNewestTwo(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := open(t, t.TempDir())
	writeStates(t, d, mem, 1, 3, 5, 8)
	if got := d.StateBatches(); !slices.Equal(got, []int64{5, 8}) {
		t.Fatalf("got snapshots %v, want [5 8]", got)
	}
	for _, b := range []int64{1, 3} {
		if exists(filepath.Join(d.Path(), stateName(b))) {
			t.Fatalf("the snapshot of batch %d is still on disk", b)
		}
	}
	d = reopen(t, d)
	if got := d.StateBatches(); !slices.Equal(got, []int64{5, 8}) {
		t.Fatalf("after reopen, got snapshots %v, want [5 8]", got)
	}
	checkState(t, d, mem, 8)
}

func TestDamagedNewestStateFallsBackToTheOlder(t *testing.T) {
	damages := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"a flipped byte in the data", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
		{"a flipped byte in the trailer", func(b []byte) []byte { b[len(b)-trailerLen+3] ^= 0x10; return b }},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"garbage appended", func(b []byte) []byte { return append(b, 1, 2, 3) }},
	}
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			d := open(t, t.TempDir())
			writeStates(t, d, mem, 2, 4)
			runBatches(t, d, 6)
			d.Close()
			path := filepath.Join(d.Path(), stateName(4))
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, tc.damage(data))

			d = open(t, d.Path())
			checkState(t, d, mem, 2)
			if !exists(path+corruptSuffix) || exists(path) {
				t.Fatal("the damaged snapshot was not set aside")
			}
			if got := d.StateBatches(); !slices.Equal(got, []int64{2}) {
				t.Fatalf("got snapshots %v, want [2]", got)
			}
			// The plans a replay from batch 2 needs are there.
			for b := int64(3); b <= 6; b++ {
				if _, ok := d.PlanOf(b); !ok {
					t.Fatalf("the plan of batch %d, needed to replay from batch 2, is gone", b)
				}
			}
			// New snapshots replace the set-aside one in the rotation.
			writeStates(t, d, mem, 6)
			d = reopen(t, d)
			checkState(t, d, mem, 6)
		})
	}
}

func TestTruncatedStateNeverYieldsData(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ref := t.TempDir()
	d := open(t, ref)
	writeStates(t, d, mem, 0)
	d.Close()
	path := filepath.Join(ref, stateName(0))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var cuts []int
	for n := len(data) - 2*trailerLen; n < len(data); n++ {
		cuts = append(cuts, n)
	}
	for range 60 {
		cuts = append(cuts, rng.IntN(len(data)))
	}
	for _, n := range cuts {
		writeFile(t, path, data[:n])
		_ = os.Remove(path + corruptSuffix)
		d := open(t, ref)
		batch, schema, recs, err := d.LoadState(context.Background(), mem)
		if err == nil || batch != -1 || schema != nil || recs != nil {
			release(recs)
			t.Fatalf("a snapshot cut to %d of %d bytes loaded: batch %d, %d records, err %v", n, len(data), batch, len(recs), err)
		}
		wantCode(t, err, sqlerr.DataCorrupted)
		d.Close()
	}
}

func TestTableCopies(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := open(t, t.TempDir())
	names := []string{"rules", "Rules", "a-b", "../../etc/passwd", "%41", "A", "über tabelle", "x.arrow"}
	for i, name := range names {
		recs := stateRecords(mem, i*10, 10+i, 4)
		err := d.WriteTable(ctx, name, uint64(i+1), stateSchema, recs)
		release(recs)
		if err != nil {
			t.Fatalf("WriteTable(%q): %v", name, err)
		}
	}
	empty := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}}, nil)
	if err := d.WriteTable(ctx, "empty", 7, empty, nil); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	tableFiles := 0
	for _, e := range entries {
		if _, ok := parseTableName(e.Name()); ok {
			tableFiles++
		}
	}
	if tableFiles != len(names)+1 {
		t.Fatalf("got %d table files, want %d: names collide or escape the directory", tableFiles, len(names)+1)
	}

	d = reopen(t, d)
	for i, name := range names {
		if !d.HasTable(name, uint64(i+1)) || d.HasTable(name, uint64(i+2)) {
			t.Fatalf("HasTable(%q) is wrong after reopen", name)
		}
		schema, recs, ok, err := d.LoadTable(ctx, mem, name, uint64(i+1))
		if err != nil || !ok {
			t.Fatalf("LoadTable(%q) = %v, %v", name, ok, err)
		}
		want := stateRecords(mem, i*10, 10+i, 4)
		if !schema.Equal(stateSchema) {
			t.Fatalf("got schema %s", schema)
		}
		sameRecords(t, recs, want)
		release(recs)
		release(want)
	}
	schema, recs, ok, err := d.LoadTable(ctx, mem, "empty", 7)
	if err != nil || !ok || !schema.Equal(empty) || len(recs) != 0 {
		t.Fatalf("LoadTable(empty) = %v, %d records, %v, %v", schema, len(recs), ok, err)
	}
	if _, _, ok, err := d.LoadTable(ctx, mem, "rules", 99); ok || err != nil {
		t.Fatalf("LoadTable of a version never saved = %v, %v; want false, nil", ok, err)
	}
	wantCode(t, d.WriteTable(ctx, "", 1, empty, nil), sqlerr.InvalidName)

	// A damaged copy has nothing to fall back to.
	path := filepath.Join(d.Path(), tableFileName("rules", 1))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[100] ^= 1
	writeFile(t, path, data)
	_, _, _, err = d.LoadTable(ctx, mem, "rules", 1)
	wantCode(t, err, sqlerr.DataCorrupted)
	// A copy renamed to another version is caught by its trailer's tag.
	if err := os.Rename(filepath.Join(d.Path(), tableFileName("a-b", 3)), filepath.Join(d.Path(), tableFileName("a-b", 4))); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = d.LoadTable(ctx, mem, "a-b", 4)
	wantCode(t, err, sqlerr.DataCorrupted)
}

func TestDropTablesBefore(t *testing.T) {
	ctx := context.Background()
	d := open(t, t.TempDir())
	empty := arrow.NewSchema(nil, nil)
	for v := uint64(1); v <= 5; v++ {
		for _, name := range []string{"rules", "other"} {
			if err := d.WriteTable(ctx, name, v, empty, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Batch 0 pins rules version 1 (testPlan) and is not committed.
	if err := d.WritePlan(ctx, testPlan(0)); err != nil {
		t.Fatal(err)
	}
	if err := d.DropTablesBefore(ctx, map[string]uint64{"rules": 4}); err != nil {
		t.Fatal(err)
	}
	d = reopen(t, d)
	for v := uint64(1); v <= 5; v++ {
		want := v == 1 || v >= 4
		if got := d.HasTable("rules", v); got != want {
			t.Fatalf("rules version %d kept: %v, want %v (version 1 is pinned by the plan)", v, got, want)
		}
		if !d.HasTable("other", v) {
			t.Fatalf("other version %d was dropped though keep does not name it", v)
		}
		if exists(filepath.Join(d.Path(), tableFileName("rules", v))) != want {
			t.Fatalf("file of rules version %d on disk disagrees with HasTable", v)
		}
	}
}

func TestCompact(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := open(t, t.TempDir())
	empty := arrow.NewSchema(nil, nil)
	// testPlan(b) pins rules version b/3+1: 1 for batches 0-2, 2 for 3-5, ...
	for v := uint64(1); v <= 5; v++ {
		if err := d.WriteTable(ctx, "rules", v, empty, nil); err != nil {
			t.Fatal(err)
		}
	}
	runBatches(t, d, 9)
	if err := d.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(d.Plans()); got != 10 {
		t.Fatalf("Compact without a snapshot kept %d of 10 plans", got)
	}
	offsetsBefore := fileSize(t, filepath.Join(d.Path(), offsetsName))
	writeStates(t, d, mem, 4)
	if got := d.Plans(); len(got) != 5 || got[0].Batch != 5 {
		t.Fatalf("with one snapshot at batch 4, Compact kept %d plans from batch %d, want batches 5..9", len(got), got[0].Batch)
	}
	writeStates(t, d, mem, 7, 10)
	runBatches(t, d, 11)
	if err := d.WritePlan(ctx, testPlan(12)); err != nil {
		t.Fatal(err)
	}
	// Snapshots 7 and 10 remain: plans after 7 are kept, the rest are gone.
	check := func(d *Dir) {
		t.Helper()
		for b := int64(0); b <= 12; b++ {
			if _, ok := d.PlanOf(b); ok != (b > 7) {
				t.Fatalf("plan of batch %d retained: %v, want %v", b, ok, b > 7)
			}
		}
		if d.LastCommitted() != 11 {
			t.Fatalf("got last committed %d, want 11", d.LastCommitted())
		}
		// Plans 8..12 pin versions 3, 4 and 5; 1 and 2 are superseded.
		for v := uint64(1); v <= 5; v++ {
			if got := d.HasTable("rules", v); got != (v >= 3) {
				t.Fatalf("rules version %d kept: %v, want %v", v, got, v >= 3)
			}
		}
	}
	check(d)
	if after := fileSize(t, filepath.Join(d.Path(), offsetsName)); after >= offsetsBefore {
		t.Fatalf("the offsets log did not shrink: %d bytes before, %d after", offsetsBefore, after)
	}
	d = reopen(t, d)
	check(d)
	samePlans(t, must(d.PlanOf(12)), testPlan(12))
	if err := d.Commit(ctx, 12); err != nil {
		t.Fatal(err)
	}
	checkState(t, d, mem, 10)

	// A snapshot at the last commit keeps just the last plan and commit.
	writeStates(t, d, mem, 12, 13)
	d = reopen(t, d)
	if got := d.Plans(); len(got) != 1 || got[0].Batch != 13 || d.LastCommitted() != 13 {
		t.Fatalf("after snapshots at 12 and 13, plans %v, committed %d", got, d.LastCommitted())
	}
	runBatches(t, d, 14)
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("not ok")
	}
	return v
}

func TestInterruptedWritesAreIgnored(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	t.Run("temporary files left by a crash before rename", func(t *testing.T) {
		d := open(t, t.TempDir())
		writeStates(t, d, mem, 3)
		runBatches(t, d, 5)
		d.Close()
		// What a crash between writing and renaming leaves: a compacted
		// log, a snapshot and a table copy, each half written.
		writeFile(t, filepath.Join(d.Path(), offsetsName+tmpSuffix), []byte(offsetsMagic+"\x05\x00"))
		writeFile(t, filepath.Join(d.Path(), commitsName+tmpSuffix), nil)
		writeFile(t, filepath.Join(d.Path(), stateName(5)+tmpSuffix), []byte("ARROW1\x00\x00"))
		writeFile(t, filepath.Join(d.Path(), tableFileName("rules", 9)+tmpSuffix), []byte("AR"))
		writeFile(t, filepath.Join(d.Path(), metaName+tmpSuffix), []byte("{"))

		d = open(t, d.Path())
		if got := d.Recovery().TempFiles; got != 5 {
			t.Fatalf("Open removed %d temporary files, want 5", got)
		}
		entries, _ := os.ReadDir(d.Path())
		for _, e := range entries {
			if filepath.Ext(e.Name()) == tmpSuffix {
				t.Fatalf("%s is left", e.Name())
			}
		}
		if d.LastCommitted() != 5 || !slices.Equal(d.StateBatches(), []int64{3}) || d.HasTable("rules", 9) {
			t.Fatalf("temporary files changed the checkpoint: committed %d, snapshots %v", d.LastCommitted(), d.StateBatches())
		}
		if _, ok := d.Meta(); ok {
			t.Fatal("a temporary META was read")
		}
		checkState(t, d, mem, 3)
		runBatches(t, d, 6)
	})

	t.Run("a crash between the two logs' renames", func(t *testing.T) {
		before := t.TempDir()
		d := open(t, before)
		writeStates(t, d, mem, 2)
		runBatches(t, d, 8)
		d.Close()
		after := copyDir(t, before)
		d = open(t, after)
		writeStates(t, d, mem, 6, 8) // compacts both logs past batch 6
		d.Close()

		for _, mixed := range []string{offsetsName, commitsName} {
			dir := copyDir(t, before)
			// Snapshots as of after, one log compacted and the other not.
			for _, b := range []int64{6, 8} {
				copyFile(t, filepath.Join(after, stateName(b)), filepath.Join(dir, stateName(b)))
			}
			_ = os.Remove(filepath.Join(dir, stateName(2)))
			copyFile(t, filepath.Join(after, mixed), filepath.Join(dir, mixed))
			d := open(t, dir)
			if d.LastCommitted() != 8 {
				t.Fatalf("with only %s compacted, committed %d, want 8", mixed, d.LastCommitted())
			}
			checkState(t, d, mem, 8)
			writeStates(t, d, mem, 9)
			d = reopen(t, d)
			if got := d.Plans(); len(got) != 1 || got[0].Batch != 9 {
				t.Fatalf("the next compaction kept plans %v, want batch 9 only", got)
			}
			d.Close()
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, data)
}

func TestMeta(t *testing.T) {
	ctx := context.Background()
	d := open(t, t.TempDir())
	if _, ok := d.Meta(); ok {
		t.Fatal("a new directory has metadata")
	}
	want := Meta{
		Fingerprint: "sha256:abc",
		Query:       "SELECT page, COUNT(*) FROM clicks GROUP BY page",
		StateSchema: "page VARCHAR, n BIGINT",
		Operators:   []string{"agg-1"},
		CreatedAt:   time.Date(2026, 4, 1, 12, 0, 0, 123456789, time.UTC),
		Extra:       map[string]string{"sink": "table"},
	}
	if err := d.WriteMeta(ctx, want); err != nil {
		t.Fatal(err)
	}
	d = reopen(t, d)
	got, ok := d.Meta()
	if !ok || got.Fingerprint != want.Fingerprint || got.Query != want.Query || got.StateSchema != want.StateSchema ||
		!slices.Equal(got.Operators, want.Operators) || !got.CreatedAt.Equal(want.CreatedAt) || got.Extra["sink"] != "table" {
		t.Fatalf("got meta %+v, want %+v", got, want)
	}
	want.Fingerprint = "sha256:def"
	if err := d.WriteMeta(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Meta(); got.Fingerprint != "sha256:def" {
		t.Fatalf("got fingerprint %q after a rewrite", got.Fingerprint)
	}
	d.Close()
	path := filepath.Join(d.Path(), metaName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 1
	writeFile(t, path, data)
	_, err = Open(ctx, d.Path())
	wantCode(t, err, sqlerr.DataCorrupted)
}

func TestReadersRunBesideTheStreamLoop(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	d := open(t, t.TempDir())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if p, ok := d.LastPlan(); ok {
					// Batch N is planned only after N-1 commits, and
					// commits only grow.
					if committed := d.LastCommitted(); committed < p.Batch-1 {
						t.Errorf("last plan %d with last committed %d", p.Batch, committed)
					}
					if q, ok := d.PlanOf(p.Batch); ok && q.Batch != p.Batch {
						t.Errorf("PlanOf(%d) returned batch %d", p.Batch, q.Batch)
					}
				}
				for _, p := range d.Plans() {
					p.End[0] = -1 // copies: must not disturb anyone
				}
				_ = d.StateBatches()
				_ = d.HasTable("rules", 1)
				_, _ = d.Meta()
			}
		}()
	}
	for b := int64(0); b < 60; b++ {
		runBatches(t, d, b)
		if b%10 == 9 {
			recs := stateRecords(mem, 0, 50, 50)
			err := d.WriteState(ctx, b, stateSchema, recs)
			release(recs)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	samePlans(t, must(d.LastPlan()), testPlan(59))
}
