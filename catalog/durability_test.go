package catalog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// populate creates a few tables and writes to them; it returns the users
// table.
func populate(t testing.TB, c *Catalog) *Table {
	t.Helper()
	users := mustCreate(t, c, usersDef())
	for id := range int64(20) {
		mustWrite(t, users, insert([]any{id, "u", id}))
	}
	mustWrite(t, users, addQty(3, 100))
	mustWrite(t, users, func(cur *Snapshot, w *Writer) error {
		o, _ := cur.Lookup([]any{int64(7)})
		return w.Delete(o)
	})
	logs := mustCreate(t, c, logDef())
	mustWrite(t, logs, insert([]any{"a", int64(1)}, []any{"b", nil}, []any{"a", int64(1)}))
	mustWrite(t, logs, func(_ *Snapshot, w *Writer) error { return w.Delete(0) })
	all := mustCreate(t, c, allTypesDef())
	mustWrite(t, all, insert([]any{true, int64(1), int64(2), int64(3), 1.5, 2.5, "s", "vc",
		time.Date(2024, 5, 6, 7, 8, 9, 10000, time.UTC), time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), nil}))
	gone := mustCreate(t, c, counterDef("gone"))
	mustWrite(t, gone, insert([]any{int64(1), int64(1)}))
	if err := c.DropTable(context.Background(), "gone", false); err != nil {
		t.Fatal(err)
	}
	return users
}

// addQty is UPDATE users SET qty = qty + delta WHERE id = key.
func addQty(key, delta int64) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		o, _ := cur.Lookup([]any{key})
		row := cur.Row(o)
		_ = w.Delete(o)
		row[2] = row[2].(int64) + delta
		return w.Insert(row)
	}
}

func TestReopenAfterClose(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir)
	users := populate(t, c)
	maxID := users.ID()
	want := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c2 := openT(t, dir)
	compareStates(t, stateOf(t, c2), want)
	users2, _ := c2.Table("users")
	s := mustWrite(t, users2, addQty(1, 1))
	if got, wantV := s.Version(), want["users"].version+1; got != wantV {
		t.Fatalf("first write after reopen made version %d, want %d", got, wantV)
	}
	fresh := mustCreate(t, c2, counterDef("fresh"))
	if fresh.ID() <= maxID+1 {
		t.Fatalf("a table created after reopen got id %d, which an earlier (dropped) table had", fresh.ID())
	}
}

func TestRecoverAfterCrash(t *testing.T) {
	tests := []struct {
		name string
		// work runs against an open catalog before the directory is copied.
		work func(t *testing.T, c *Catalog)
	}{
		{"acknowledged writes survive a crash", func(t *testing.T, c *Catalog) { populate(t, c) }},
		{"writes after a checkpoint survive a crash", func(t *testing.T, c *Catalog) {
			users := populate(t, c)
			if err := c.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, users, addQty(2, 5))
			if err := c.DropTable(context.Background(), "log", false); err != nil {
				t.Fatal(err)
			}
		}},
		{"a crash between log rotation and the new manifest loses nothing", func(t *testing.T, c *Catalog) {
			users := populate(t, c)
			if _, err := c.wal.rotate(); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, users, addQty(2, 5))
		}},
		{"a crash before any write recovers an empty catalog", func(*testing.T, *Catalog) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{NoAutoCheckpoint: true})
			tt.work(t, c)
			crash := filepath.Join(t.TempDir(), "crash")
			copyDir(t, dir, crash) // c stays open: nothing is flushed by a Close
			c2 := openT(t, crash)
			compareStates(t, stateOf(t, c2), stateOf(t, c))
		})
	}
}

func TestTornLogTailIsDiscarded(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the last segment; lastFrame is where the last
		// statement's frame starts.
		damage   func(data []byte, lastFrame int) []byte
		loseLast bool
	}{
		{"a tail cut by a few bytes loses only the last statement", func(d []byte, _ int) []byte { return d[:len(d)-3] }, true},
		{"a tail cut inside a frame header loses only the last statement", func(d []byte, f int) []byte { return d[:f+5] }, true},
		{"a last frame with a flipped byte loses only the last statement", func(d []byte, _ int) []byte {
			d = slices.Clone(d)
			d[len(d)-2] ^= 0x40
			return d
		}, true},
		{"garbage after the last statement loses nothing", func(d []byte, _ int) []byte {
			return append(slices.Clone(d), []byte("\x17\x00\x00\x00garbage garbage")...)
		}, false},
		{"zeros after the last statement lose nothing", func(d []byte, _ int) []byte {
			return append(slices.Clone(d), make([]byte, 4096)...)
		}, false},
		{"a frame length pointing past the end loses nothing", func(d []byte, _ int) []byte {
			return append(slices.Clone(d), 0xff, 0xff, 0, 0, 1, 2, 3, 4, 5)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{NoAutoCheckpoint: true})
			users := populate(t, c)
			before := stateOf(t, c)
			seg := lastSegment(t, dir)
			info, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, users, addQty(5, 1))
			after := stateOf(t, c)

			crash := filepath.Join(t.TempDir(), "crash")
			copyDir(t, dir, crash)
			crashSeg := filepath.Join(crash, filepath.Base(seg))
			data, err := os.ReadFile(crashSeg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(crashSeg, tt.damage(data, int(info.Size())), 0o644); err != nil {
				t.Fatal(err)
			}

			c2, err := OpenWithOptions(context.Background(), crash, Options{NoAutoCheckpoint: true})
			if err != nil {
				t.Fatalf("Open after a torn tail: %v", err)
			}
			want := after
			if tt.loseLast {
				want = before
			}
			compareStates(t, stateOf(t, c2), want)

			// The log goes on after the repaired tail.
			users2, _ := c2.Table("users")
			s := mustWrite(t, users2, addQty(6, 1))
			if got := s.Version(); got != want["users"].version+1 {
				t.Fatalf("write after recovery made version %d, want %d", got, want["users"].version+1)
			}
			again := stateOf(t, c2)
			if err := c2.Close(); err != nil {
				t.Fatal(err)
			}
			c3 := openT(t, crash)
			compareStates(t, stateOf(t, c3), again)
		})
	}
}

func TestCorruptionIsAnError(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"a damaged frame followed by good ones fails Open", func(t *testing.T, dir string) {
			seg := lastSegment(t, dir)
			data, _ := os.ReadFile(seg)
			data[segHeaderLen+frameHeader+3] ^= 1
			_ = os.WriteFile(seg, data, 0o644)
		}},
		{"a torn segment before the last one fails Open", func(t *testing.T, dir string) {
			seqs, _ := listSegments(dir, 0)
			first := filepath.Join(dir, segName(seqs[0]))
			data, _ := os.ReadFile(first)
			_ = os.WriteFile(first, data[:len(data)-2], 0o644)
		}},
		{"a missing log segment fails Open", func(t *testing.T, dir string) {
			seqs, _ := listSegments(dir, 0)
			_ = os.Remove(filepath.Join(dir, segName(seqs[0])))
		}},
		{"a damaged manifest fails Open", func(t *testing.T, dir string) {
			p := filepath.Join(dir, manifestName)
			data, _ := os.ReadFile(p)
			data[len(data)-3] ^= 1
			_ = os.WriteFile(p, data, 0o644)
		}},
		{"a damaged table file fails Open", func(t *testing.T, dir string) {
			m, _ := readManifest(dir)
			p := filepath.Join(dir, m.Tables[0].File)
			data, _ := os.ReadFile(p)
			data[len(data)/2] ^= 1
			_ = os.WriteFile(p, data, 0o644)
		}},
		{"a log without a manifest fails Open", func(t *testing.T, dir string) {
			_ = os.Remove(filepath.Join(dir, manifestName))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{NoAutoCheckpoint: true})
			users := populate(t, c)
			if err := c.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
			for id := range int64(5) {
				mustWrite(t, users, addQty(id, 1))
			}
			if _, err := c.wal.rotate(); err != nil { // a second segment
				t.Fatal(err)
			}
			for id := range int64(3) {
				mustWrite(t, users, addQty(id, 1))
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, dir)
			_, err := Open(context.Background(), dir)
			wantCode(t, err, codeCorrupted, "")
		})
	}
}

func TestCheckpointAndReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := openT(t, dir, Options{NoAutoCheckpoint: true})
	users := populate(t, c)
	if err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	files := func() []string {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	m1, _ := readManifest(dir)
	if got, want := files(), []string{"LOCK", "MANIFEST", "tbl-1-23.arrow", "tbl-2-3.arrow", "tbl-3-2.arrow", segName(2)}; !slices.Equal(got, want) {
		t.Fatalf("after a checkpoint the directory holds %v, want %v", got, want)
	}

	mustWrite(t, users, addQty(1, 1))
	if err := c.DropTable(ctx, "log", false); err != nil {
		t.Fatal(err)
	}
	if err := c.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	m2, _ := readManifest(dir)
	if got, want := files(), []string{"LOCK", "MANIFEST", "tbl-1-24.arrow", "tbl-3-2.arrow", segName(3)}; !slices.Equal(got, want) {
		t.Fatalf("after a second checkpoint the directory holds %v, want %v", got, want)
	}
	if m2.Tables[1].File != m1.Tables[2].File || m2.Tables[1].CRC32C != m1.Tables[2].CRC32C {
		t.Fatalf("an unchanged table was written again: %+v, was %+v", m2.Tables[1], m1.Tables[2])
	}
	want := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	// Leftovers of a checkpoint that crashed half-way are ignored and removed.
	for _, name := range []string{"tbl-1-99.arrow.tmp", "tbl-1-98.arrow", "MANIFEST.tmp", segName(1)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c2 := openT(t, dir)
	compareStates(t, stateOf(t, c2), want)
	if got := files(); !slices.Equal(got, []string{"LOCK", "MANIFEST", "tbl-1-24.arrow", "tbl-3-2.arrow", segName(3)}) {
		t.Fatalf("leftovers were not removed: %v", got)
	}
}

// TestRestartAfterManyStatementsIsFast checks that background checkpoints
// keep the log (and so the work of a restart) bounded however many
// statements ran.
func TestRestartAfterManyStatementsIsFast(t *testing.T) {
	const (
		rows       = 2000
		statements = 2000
		limit      = 200
	)
	dir := t.TempDir()
	c := openT(t, dir, Options{CheckpointRecords: limit})
	tbl := mustCreate(t, c, counterDef("cfg"))
	var batch [][]any
	for i := range int64(rows) {
		batch = append(batch, []any{i, int64(0)})
	}
	mustWrite(t, tbl, insert(batch...))
	for i := range statements {
		mustWrite(t, tbl, addTo(int64(i%rows), 1))
	}
	// The checkpointer runs in the background; give it a bounded time to
	// catch up with the last kick.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.ckptMu.Lock()
		seq := c.manifest.WALSeq
		c.ckptMu.Unlock()
		if seq > 1 || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
	}
	want := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.WALSeq == 1 {
		t.Fatal("no checkpoint ran")
	}
	seqs, _ := listSegments(dir, m.WALSeq)
	replay := 0
	for _, seq := range seqs {
		data, _ := os.ReadFile(filepath.Join(dir, segName(seq)))
		recs, _, err := scanSegment(data, seq)
		if err != nil {
			t.Fatal(err)
		}
		replay += len(recs)
	}
	if replay > 3*limit {
		t.Fatalf("a restart replays %d of %d statements, want at most %d", replay, statements, 3*limit)
	}
	start := time.Now()
	c2 := openT(t, dir)
	elapsed := time.Since(start)
	compareStates(t, stateOf(t, c2), want)
	t.Logf("restart after %d statements replayed %d records in %v", statements, replay, elapsed)
	if elapsed > 5*time.Second {
		t.Fatalf("restart took %v", elapsed)
	}
}

func TestCloseStopsBackgroundWork(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		c, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after Close", before, after)
	}
}

func TestOpenCreatesTheDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	c := openT(t, dir)
	mustCreate(t, c, usersDef())
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	if got := c2.TableNames(); !slices.Equal(got, []string{"users"}) {
		t.Fatalf("got tables %v", got)
	}
}

func TestLogRecordsRoundTrip(t *testing.T) {
	sh := newShape(7, allTypesDef())
	vdef, _ := validateDef(allTypesDef())
	sh.def = vdef
	st := &stmt{inserts: [][]any{{true, int64(1), int64(2), int64(3), 1.5, 2.5, "s", "vc",
		time.Date(2024, 5, 6, 7, 8, 9, 10000, time.UTC), time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC), nil}}}
	at := time.Unix(0, 123456789).UTC()
	p := encodeWrite(sh, 9, at, st, []string{"k1", "k2"})
	kind, id, r := recordHead(p)
	if kind != recWrite || id != 7 {
		t.Fatalf("got kind %d id %d", kind, id)
	}
	w, err := r.write(sh)
	if err != nil {
		t.Fatal(err)
	}
	if w.version != 9 || !w.at.Equal(at) || !slices.Equal(w.delKeys, []string{"k1", "k2"}) || !equalRows(w.st.inserts, st.inserts) {
		t.Fatalf("got %+v", w)
	}
	for cut := range len(p) - 1 {
		_, _, r := recordHead(p[:cut])
		if r.err == nil {
			if _, err := r.write(sh); err == nil {
				t.Fatalf("a record cut to %d bytes decoded without error", cut)
			}
		}
	}
	c := encodeCreate(3, vdef, at)
	kind, id, r = recordHead(c)
	def, gotAt, err := r.create()
	if kind != recCreate || id != 3 || err != nil || !gotAt.Equal(at) {
		t.Fatalf("create: kind %d id %d at %v err %v", kind, id, gotAt, err)
	}
	if got, want := def, vdef; got.Name != want.Name || !slices.Equal(got.Columns, want.Columns) || !slices.Equal(got.PrimaryKey, want.PrimaryKey) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !bytes.Equal(encodeDrop(5), []byte{recDrop, 5}) {
		t.Fatal("drop encoding changed")
	}
}

func TestLogWriteFailureStopsWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := openT(t, dir)
	users := mustCreate(t, c, usersDef())
	before := mustWrite(t, users, insert([]any{int64(1), "a", int64(1)}))
	_ = c.wal.f.Close() // the disk goes away under the log

	_, err := users.Write(ctx, insert([]any{int64(2), "b", int64(2)}))
	wantCode(t, err, sqlerr.IOError, "")
	if users.Snapshot() != before {
		t.Fatal("a write whose log write failed was published")
	}
	_, err = users.Write(ctx, insert([]any{int64(3), "c", int64(3)}))
	wantCode(t, err, sqlerr.IOError, "")
	wantCode(t, c.CreateTable(ctx, logDef(), false), sqlerr.IOError, "")
	if err := c.Close(); err == nil {
		t.Fatal("Close after a failed log write reported no error")
	}
}
