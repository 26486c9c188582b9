package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// setMark stages a mark, and rows if any.
func setMark(key string, value int64, rows ...[]any) func(cur *Snapshot, w *Writer) error {
	return func(cur *Snapshot, w *Writer) error {
		w.SetMark(key, value)
		return insert(rows...)(cur, w)
	}
}

// wantMark fails the test unless s has mark key = value (ok) or no mark
// key (!ok).
func wantMark(t testing.TB, what string, s *Snapshot, key string, value int64, ok bool) {
	t.Helper()
	got, gotOK := s.Mark(key)
	if gotOK != ok || got != value {
		t.Fatalf("%s: version %d has mark %q = %d, %v; want %d, %v", what, s.Version(), key, got, gotOK, value, ok)
	}
}

func TestMarksAreCommittedWithTheirVersion(t *testing.T) {
	c := openT(t, t.TempDir())
	users := mustCreate(t, c, usersDef())
	v1 := users.Snapshot()
	wantMark(t, "a new table", v1, "stream:s", 0, false)

	v2 := mustWrite(t, users, setMark("stream:s", 1, []any{int64(1), "a", int64(1)}))
	if v2.Version() != 2 || v2.NumRows() != 1 {
		t.Fatalf("a write of a row and a mark made version %d with %d rows, want version 2 with 1", v2.Version(), v2.NumRows())
	}
	wantMark(t, "a write of a row and a mark", v2, "stream:s", 1, true)

	// A mark without rows is still a change: a new version, same rows.
	v3 := mustWrite(t, users, setMark("stream:s", 2))
	if v3.Version() != 3 || !equalRows(rowsOf(v3), rowsOf(v2)) {
		t.Fatalf("a mark-only write made version %d with rows %v, want version 3 with rows %v", v3.Version(), rowsOf(v3), rowsOf(v2))
	}
	wantMark(t, "a mark-only write", v3, "stream:s", 2, true)
	if _, ok := v3.Lookup([]any{int64(1)}); !ok {
		t.Fatal("a mark-only write lost the primary-key index")
	}

	// Writes that set no mark, or another one, keep the mark.
	v4 := mustWrite(t, users, insert([]any{int64(2), "b", int64(2)}))
	v5 := mustWrite(t, users, setMark("stream:t", -7))
	wantMark(t, "a write without marks", v4, "stream:s", 2, true)
	wantMark(t, "a write of another mark", v5, "stream:s", 2, true)
	wantMark(t, "a write of another mark", v5, "stream:t", -7, true)

	// TRUNCATE keeps marks unless the statement sets them.
	v6 := mustWrite(t, users, func(_ *Snapshot, w *Writer) error {
		w.DeleteAll()
		w.SetMark("stream:t", 8)
		return nil
	})
	if v6.NumRows() != 0 {
		t.Fatalf("TRUNCATE left %d rows", v6.NumRows())
	}
	wantMark(t, "TRUNCATE", v6, "stream:s", 2, true)
	wantMark(t, "TRUNCATE", v6, "stream:t", 8, true)

	// Setting a key twice in one statement keeps the last value.
	v7 := mustWrite(t, users, func(_ *Snapshot, w *Writer) error {
		w.SetMark("stream:s", 10)
		w.SetMark("stream:s", 11)
		return nil
	})
	wantMark(t, "a key set twice", v7, "stream:s", 11, true)

	// Every retained version reads its own marks, through the table too.
	for _, tt := range []struct {
		version uint64
		s, t    int64
		sOK     bool
		tOK     bool
	}{
		{1, 0, 0, false, false}, {2, 1, 0, true, false}, {3, 2, 0, true, false}, {4, 2, 0, true, false},
		{5, 2, -7, true, true}, {6, 2, 8, true, true}, {7, 11, 8, true, true},
	} {
		s, err := users.SnapshotAt(tt.version)
		if err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("SnapshotAt(%d)", tt.version)
		wantMark(t, what, s, "stream:s", tt.s, tt.sOK)
		wantMark(t, what, s, "stream:t", tt.t, tt.tOK)
	}
}

func TestMarksOnATableWithoutPrimaryKey(t *testing.T) {
	dir := t.TempDir()
	c := openT(t, dir, Options{NoAutoCheckpoint: true})
	logs := mustCreate(t, c, logDef())
	mustWrite(t, logs, setMark("stream:s", 1, []any{"a", int64(1)}, []any{"b", int64(2)}))
	mustWrite(t, logs, setMark("stream:s", 2))
	mustWrite(t, logs, func(_ *Snapshot, w *Writer) error {
		w.SetMark("stream:s", 3)
		return w.Delete(0)
	})
	want := stateOf(t, c)
	crash := filepath.Join(t.TempDir(), "crash")
	copyDir(t, dir, crash)
	c2 := openT(t, crash)
	compareStates(t, stateOf(t, c2), want)
	logs2, _ := c2.Table("log")
	wantMark(t, "after replay", logs2.Snapshot(), "stream:s", 3, true)
}

func TestFailedStatementsSetNoMark(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		fn   func(cur *Snapshot, w *Writer) error
		code string // "" when the statement's own error comes back
	}{
		{"a statement whose callback fails", func(_ *Snapshot, w *Writer) error {
			w.SetMark("stream:s", 5)
			return errBoom
		}, ""},
		{"a statement with a bad row", setMark("stream:s", 5, []any{int64(9), "too long", int64(1)}), sqlerr.StringDataRightTruncation},
		{"a statement that breaks the primary key", setMark("stream:s", 5, []any{int64(1), "x", int64(1)}), sqlerr.UniqueViolation},
		{"an empty mark key", setMark("", 5, []any{int64(9), "x", int64(1)}), sqlerr.InvalidParameterValue},
		{"a mark key that is not UTF-8", setMark("stream:\xff", 5), sqlerr.InvalidParameterValue},
		{"a mark key that is too long", setMark(string(make([]byte, maxMarkKey+1)), 5), sqlerr.InvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openT(t, t.TempDir())
			users := mustCreate(t, c, usersDef())
			before := mustWrite(t, users, setMark("stream:s", 1, []any{int64(1), "a", int64(1)}))
			_, err := users.Write(context.Background(), tt.fn)
			if tt.code == "" {
				if !errors.Is(err, errBoom) {
					t.Fatalf("got error %v, want %v", err, errBoom)
				}
			} else {
				wantCode(t, err, tt.code, "")
			}
			if got := users.Snapshot(); got != before {
				t.Fatalf("a failed statement published version %d", got.Version())
			}
			wantMark(t, "after a failed statement", users.Snapshot(), "stream:s", 1, true)
		})
	}
}

func TestMarksSurviveRestart(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// restart turns the directory of an open catalog into one a
		// second catalog opens.
		restart func(t *testing.T, c *Catalog, dir string) string
	}{
		{"a crash, replaying the log", func(t *testing.T, c *Catalog, dir string) string {
			crash := filepath.Join(t.TempDir(), "crash")
			copyDir(t, dir, crash)
			return crash
		}},
		{"a clean close", func(t *testing.T, c *Catalog, dir string) string {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
		{"a crash after a checkpoint, with writes after it", func(t *testing.T, c *Catalog, dir string) string {
			if err := c.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			users, _ := c.Table("users")
			mustWrite(t, users, setMark("stream:s", 4))
			crash := filepath.Join(t.TempDir(), "crash")
			copyDir(t, dir, crash)
			return crash
		}},
		{"a checkpoint that keeps an unchanged table's file", func(t *testing.T, c *Catalog, dir string) string {
			if err := c.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			other := mustCreate(t, c, counterDef("other"))
			mustWrite(t, other, insert([]any{int64(1), int64(1)}))
			if err := c.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			m, err := readManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(m.Tables, func(mt manifestTable) bool { return mt.Name == "users" }); i < 0 || m.Tables[i].Marks["stream:s"] != 3 {
				t.Fatalf("the manifest does not hold the marks of users: %+v", m.Tables)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{NoAutoCheckpoint: true})
			users := populate(t, c)
			mustWrite(t, users, setMark("stream:s", 1, []any{int64(100), "m", int64(1)}))
			mustWrite(t, users, setMark("stream:t", 1<<62))
			mustWrite(t, users, func(_ *Snapshot, w *Writer) error {
				w.DeleteAll()
				w.SetMark("stream:s", 3)
				return nil
			})
			restarted := tt.restart(t, c, dir)
			want := stateOf(t, c)

			c2 := openT(t, restarted, Options{NoAutoCheckpoint: true})
			compareStates(t, stateOf(t, c2), want)
			users2, _ := c2.Table("users")
			s := users2.Snapshot()
			wantMark(t, "after restart", s, "stream:t", 1<<62, true)
			if _, ok := s.Mark("stream:none"); ok {
				t.Fatal("a mark never set exists after restart")
			}

			// The next write after restart builds on the recovered marks,
			// and survives another restart.
			mustWrite(t, users2, setMark("stream:u", 9, []any{int64(200), "n", int64(2)}))
			again := stateOf(t, c2)
			if err := c2.Close(); err != nil {
				t.Fatal(err)
			}
			c3 := openT(t, restarted)
			compareStates(t, stateOf(t, c3), again)
			users3, _ := c3.Table("users")
			wantMark(t, "after a second restart", users3.Snapshot(), "stream:t", 1<<62, true)
			wantMark(t, "after a second restart", users3.Snapshot(), "stream:u", 9, true)
		})
	}
}

// TestTornMarkWriteLosesRowsAndMarkTogether tears the log record of a
// statement that wrote rows and a mark: recovery keeps both or neither.
func TestTornMarkWriteLosesRowsAndMarkTogether(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(data []byte, lastFrame int) []byte
		loseLast bool
	}{
		{"a tail cut by a byte", func(d []byte, _ int) []byte { return d[:len(d)-1] }, true},
		{"a tail cut inside the frame header", func(d []byte, f int) []byte { return d[:f+frameHeader-1] }, true},
		{"a flipped byte in the mark", func(d []byte, _ int) []byte {
			d = slices.Clone(d)
			d[len(d)-1] ^= 0x01
			return d
		}, true},
		{"zeros after the last frame", func(d []byte, _ int) []byte { return append(slices.Clone(d), make([]byte, 64)...) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := openT(t, dir, Options{NoAutoCheckpoint: true})
			users := mustCreate(t, c, usersDef())
			mustWrite(t, users, setMark("stream:s", 1, []any{int64(1), "a", int64(1)}))
			before := stateOf(t, c)
			seg := lastSegment(t, dir)
			info, err := os.Stat(seg)
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, users, setMark("stream:s", 2, []any{int64(2), "b", int64(2)}))
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
			c2 := openT(t, crash, Options{NoAutoCheckpoint: true})
			want, wantID, wantMarkV := after, true, int64(2)
			if tt.loseLast {
				want, wantID, wantMarkV = before, false, 1
			}
			compareStates(t, stateOf(t, c2), want)
			users2, _ := c2.Table("users")
			s := users2.Snapshot()
			_, gotID := s.Lookup([]any{int64(2)})
			if gotID != wantID {
				t.Fatalf("row 2 present = %v, want %v", gotID, wantID)
			}
			wantMark(t, "after recovery", s, "stream:s", wantMarkV, true)
		})
	}
}

// TestConcurrentWritersOfDifferentMarks has writers each append rows
// tagged with their id and set their own mark to the number of rows they
// wrote, while readers check that every version they see agrees: its
// rows of writer g number exactly mark g. Checkpoints run meanwhile, and
// the same holds after a restart.
func TestConcurrentWritersOfDifferentMarks(t *testing.T) {
	const (
		writers = 6
		batches = 60
	)
	dir := t.TempDir()
	c := openT(t, dir, Options{ChunkRows: 16, CheckpointRecords: 50})
	tbl := mustCreate(t, c, logDef())
	key := func(g int) string { return fmt.Sprintf("stream:w%d", g) }
	// consistent reports a version whose rows and marks disagree.
	consistent := func(s *Snapshot) error {
		count := make(map[string]int64)
		for _, row := range rowsOf(s) {
			count[row[0].(string)]++
		}
		for g := range writers {
			n, _ := s.Mark(key(g))
			if count[key(g)] != n {
				return fmt.Errorf("version %d has %d rows of writer %d but its mark is %d", s.Version(), count[key(g)], g, n)
			}
		}
		return nil
	}

	done := make(chan struct{})
	var readers sync.WaitGroup
	readErrs := make(chan error, 2)
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := consistent(tbl.Snapshot()); err != nil {
					readErrs <- err
					return
				}
				runtime.Gosched()
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range int64(batches) {
				_, err := tbl.Write(context.Background(), func(_ *Snapshot, w *Writer) error {
					w.SetMark(key(g), b+1)
					return w.Insert([]any{key(g), b})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	close(readErrs)
	for err := range errs {
		t.Fatal(err)
	}
	for err := range readErrs {
		t.Fatal(err)
	}
	s := tbl.Snapshot()
	if err := consistent(s); err != nil {
		t.Fatal(err)
	}
	for g := range writers {
		wantMark(t, "after all writes", s, key(g), batches, true)
	}
	want := stateOf(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openT(t, dir)
	compareStates(t, stateOf(t, c2), want)
}

func TestWriteRecordsWithMarksRoundTrip(t *testing.T) {
	sh := newShape(7, logDef())
	at := time.Unix(0, 42).UTC()
	st := &stmt{inserts: [][]any{{"a", int64(1)}}, marks: map[string]int64{"stream:b": -3, "stream:a": 1 << 40}}
	p := encodeWrite(sh, 4, at, st, nil)
	_, _, r := recordHead(p)
	w, err := r.write(sh)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.st.marks) != 2 || w.st.marks["stream:a"] != 1<<40 || w.st.marks["stream:b"] != -3 || !equalRows(w.st.inserts, st.inserts) {
		t.Fatalf("got %+v", w)
	}
	if q := encodeWrite(sh, 4, at, st, nil); !slices.Equal(p, q) {
		t.Fatal("encoding marks is not deterministic")
	}
	for cut := range len(p) - 1 {
		_, _, r := recordHead(p[:cut])
		if r.err == nil {
			if _, err := r.write(sh); err == nil {
				t.Fatalf("a record cut to %d bytes decoded without error", cut)
			}
		}
	}

	// A write without marks is encoded as before marks existed: the same
	// bytes without the marks flag and without the marks after the rows.
	plain := encodeWrite(sh, 4, at, &stmt{inserts: st.inserts}, nil)
	f := flagsAt(t, plain)
	if plain[f] != 0 || p[f] != flagMarks || !slices.Equal(plain[:f], p[:f]) || !slices.Equal(plain[f+1:], p[f+1:len(plain)]) {
		t.Fatalf("a write without marks encodes as % x, with marks as % x", plain, p)
	}
	_, _, r = recordHead(plain)
	w, err = r.write(sh)
	if err != nil || w.st.marks != nil {
		t.Fatalf("a write without marks decoded to marks %v, err %v", w.st.marks, err)
	}

	// Unknown flag bits are corruption, not silently ignored.
	bad := slices.Clone(plain)
	bad[flagsAt(t, bad)] |= 1 << 5
	_, _, r = recordHead(bad)
	if _, err := r.write(sh); !errors.Is(err, errCorruptRecord) {
		t.Fatalf("a record with an unknown flag decoded with error %v", err)
	}
}

// flagsAt returns the position of a write record's flags byte: after the
// kind, table id, version and time.
func flagsAt(t *testing.T, p []byte) int {
	t.Helper()
	r := &recReader{b: p}
	r.byte()
	r.uvarint()
	r.uvarint()
	r.varint()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return len(p) - len(r.b)
}
