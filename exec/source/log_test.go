package source

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// allTypes has a column of every type a log stores.
var allTypes = []Column{
	{"id", sqltypes.Int64},
	{"s", sqltypes.Int16},
	{"i", sqltypes.Int32},
	{"r", sqltypes.Float32},
	{"f", sqltypes.Float64},
	{"ok", sqltypes.Bool},
	{"name", sqltypes.Varchar(6)},
	{"t", sqltypes.Text},
	{"ts", sqltypes.Timestamp},
	{"d", sqltypes.Date},
	{"iv", sqltypes.IntervalT},
}

// allTypesRow is row i of a table of allTypes, with NULLs in some rows.
// Its values are as expr.ValueAt returns them.
func allTypesRow(i int64) []any {
	row := []any{
		i,
		i%200 - 100,
		i * 100_003,
		float64(float32(i) + 0.25),
		float64(i) / 3,
		i%3 == 0,
		fmt.Sprintf("é%d", i%10_000),
		strings.Repeat("ab", int(i%4)) + "ü",
		time.UnixMicro(1_700_000_000_000_000 + i*1_000_003).UTC(),
		time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(i)),
		sqltypes.Interval{Months: int32(i % 13), Days: int32(i % 31), Micros: -i * 1_001},
	}
	if i%5 == 2 {
		for c := 1; c < len(row); c += 2 {
			row[c] = nil
		}
	}
	if i%5 == 4 {
		for c := 2; c < len(row); c += 2 {
			row[c] = nil
		}
	}
	return row
}

func allTypesRows(from, to int64) [][]any {
	var out [][]any
	for i := from; i < to; i++ {
		out = append(out, allTypesRow(i))
	}
	return out
}

// kv is the two-column schema most tests use.
var kv = []Column{{"k", sqltypes.Int64}, {"v", sqltypes.Text}}

func kvRow(i int64) []any { return []any{i, fmt.Sprintf("value %d", i)} }

func kvRows(from, to int64) [][]any {
	var out [][]any
	for i := from; i < to; i++ {
		out = append(out, kvRow(i))
	}
	return out
}

func openLog(t *testing.T, dir string, cols []Column, opts LogOptions) *Log {
	t.Helper()
	l, err := OpenLog(context.Background(), dir, cols, opts)
	if err != nil {
		t.Fatalf("OpenLog: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustAppend(t *testing.T, l *Log, rows [][]any) int64 {
	t.Helper()
	first, err := l.Append(context.Background(), rows)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

func latest(t *testing.T, src Source) int64 {
	t.Helper()
	o, err := src.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return o[0]
}

func earliest(t *testing.T, src Source) int64 {
	t.Helper()
	o, err := src.Earliest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return o[0]
}

// segFiles lists the segment files of dir by name.
func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), segmentExt) && !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

func segName(base int64) string { return fmt.Sprintf("%020d.log", base) }

// frameSpan is where a frame lies in its segment file.
type frameSpan struct{ pos, size int64 }

// frames walks the frame headers of a segment file.
func frames(t *testing.T, path string) []frameSpan {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []frameSpan
	for pos := int64(0); pos < int64(len(data)); {
		size := frameHeader + int64(binary.LittleEndian.Uint32(data[pos:]))
		out = append(out, frameSpan{pos, size})
		pos += size
	}
	return out
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// patchFile applies f to the contents of path.
func patchFile(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLogRoundTripsEveryTypeAcrossSegments(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, allTypes, LogOptions{SegmentBytes: 2048})
	var want [][]any
	for i, n := range []int64{1, 5, 13, 2, 40, 7, 1, 30, 3, 17} {
		from := int64(len(want))
		first := mustAppend(t, l, allTypesRows(from, from+n))
		if first != from {
			t.Fatalf("append %d: first offset %d, want %d", i, first, from)
		}
		want = append(want, allTypesRows(from, from+n)...)
	}
	if files := segFiles(t, dir); len(files) < 3 {
		t.Fatalf("got segments %v, want at least 3 with 2 KiB segments", files)
	}
	if got := latest(t, l); got != int64(len(want)) {
		t.Fatalf("Latest = %d, want %d", got, len(want))
	}
	for _, maxRows := range []int{1, 3, 16, 1000} {
		got := readRows(t, l, mem, 0, int64(len(want)), maxRows)
		assertRows(t, fmt.Sprintf("maxRows %d", maxRows), got, want)
	}
}

func TestLogReadsAnyRangeAcrossFramesAndSegments(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	// Frames of 3, 1, 4, 1, 5 and 2 rows; small segments so that most
	// frames are a segment of their own and some share one.
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 600})
	var n int64
	for _, size := range []int64{3, 1, 4, 1, 5, 2} {
		mustAppend(t, l, kvRows(n, n+size))
		n += size
	}
	if files := segFiles(t, dir); len(files) < 3 {
		t.Fatalf("got segments %v, want at least 3", files)
	}
	if f0 := frames(t, filepath.Join(dir, segFiles(t, dir)[0])); len(f0) < 2 {
		t.Fatalf("the first segment holds %d frames, want at least 2 to read across a frame boundary inside a segment", len(f0))
	}
	for s := int64(0); s <= n; s++ {
		for e := s; e <= n; e++ {
			for _, maxRows := range []int{1, 2, 5, 100} {
				got := readRows(t, l, mem, s, e, maxRows)
				assertRows(t, fmt.Sprintf("[%d, %d) maxRows %d", s, e, maxRows), got, kvRows(s, e))
			}
		}
	}
}

func TestLogLatestAndEarliest(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 1, RetentionAge: time.Hour, Now: clock.Now})
	if got, want := latest(t, l), int64(0); got != want {
		t.Fatalf("Latest of an empty log = %d, want %d", got, want)
	}
	if got, want := earliest(t, l), int64(0); got != want {
		t.Fatalf("Earliest of an empty log = %d, want %d", got, want)
	}
	// Appending nothing changes nothing and returns Latest.
	if first := mustAppend(t, l, nil); first != 0 {
		t.Fatalf("empty Append returned %d, want 0", first)
	}
	mustAppend(t, l, kvRows(0, 4))
	clock.Advance(2 * time.Hour)
	mustAppend(t, l, kvRows(4, 6)) // deletes the segment of rows 0..3
	if got, want := latest(t, l), int64(6); got != want {
		t.Fatalf("Latest = %d, want %d", got, want)
	}
	if got, want := earliest(t, l), int64(4); got != want {
		t.Fatalf("Earliest after retention = %d, want %d", got, want)
	}
	if first := mustAppend(t, l, nil); first != 6 {
		t.Fatalf("empty Append returned %d, want 6", first)
	}
}

func TestLogReopenRecoversTheSameData(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, allTypes, LogOptions{SegmentBytes: 1500})
	for from := int64(0); from < 60; from += 12 {
		mustAppend(t, l, allTypesRows(from, from+12))
	}
	segsBefore := segFiles(t, dir)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append(context.Background(), allTypesRows(60, 61)); err == nil {
		t.Fatal("Append after Close succeeded")
	}
	if _, err := l.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 1}, 10); err == nil {
		t.Fatal("Read after Close succeeded")
	}

	l2 := openLog(t, dir, allTypes, LogOptions{SegmentBytes: 1500})
	if got := segFiles(t, dir); !slices.Equal(got, segsBefore) {
		t.Fatalf("reopening changed the segments from %v to %v", segsBefore, got)
	}
	if got := latest(t, l2); got != 60 {
		t.Fatalf("Latest after reopen = %d, want 60", got)
	}
	assertRows(t, "after reopen", readRows(t, l2, mem, 0, 60, 25), allTypesRows(0, 60))
	if first := mustAppend(t, l2, allTypesRows(60, 65)); first != 60 {
		t.Fatalf("first append after reopen got offset %d, want 60", first)
	}
	assertRows(t, "after reopen and append", readRows(t, l2, mem, 0, 65, 25), allTypesRows(0, 65))
}

func TestLogOpenCutsOffATornTail(t *testing.T) {
	garbage := make([]byte, 3000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name string
		// damage changes the last segment file, whose last frame is at
		// last; kept is how many of the 9 rows survive.
		damage func(data []byte, last frameSpan) []byte
		kept   int64
	}{
		{"a frame cut in its body is dropped", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+last.size/2]
		}, 6},
		{"a frame cut in its header is dropped", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+frameHeader-3]
		}, 6},
		{"a frame cut after its header is dropped", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+frameHeader]
		}, 6},
		{"garbage after the last frame is dropped", func(d []byte, last frameSpan) []byte {
			return append(d, garbage...)
		}, 9},
		{"zeros after the last frame are dropped", func(d []byte, last frameSpan) []byte {
			return append(d, make([]byte, 4096)...)
		}, 9},
		{"a flipped CRC byte in the last frame drops it", func(d []byte, last frameSpan) []byte {
			d[last.pos+5] ^= 0x40
			return d
		}, 6},
		{"a flipped body byte in the last frame drops it", func(d []byte, last frameSpan) []byte {
			d[last.pos+last.size-9] ^= 0x01
			return d
		}, 6},
		{"a last frame whose length runs past the end is dropped", func(d []byte, last frameSpan) []byte {
			binary.LittleEndian.PutUint32(d[last.pos:], uint32(last.size)+100)
			return d
		}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedAlloc(t)
			dir := t.TempDir()
			// Segments roll after 2 frames: rows 0..5 fill the first
			// segment; 6..8 are the only frame of the second.
			l := openLog(t, dir, kv, LogOptions{SegmentBytes: 700})
			mustAppend(t, l, kvRows(0, 3))
			mustAppend(t, l, kvRows(3, 6))
			if got := len(segFiles(t, dir)); got != 1 {
				t.Fatalf("got %d segments after two appends, want 1 (is SegmentBytes right?)", got)
			}
			mustAppend(t, l, kvRows(6, 9))
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			files := segFiles(t, dir)
			if len(files) != 2 {
				t.Fatalf("got segments %v, want 2", files)
			}
			path := filepath.Join(dir, files[1])
			fs := frames(t, path)
			lastFrame := fs[len(fs)-1]
			patchFile(t, path, func(d []byte) []byte { return tt.damage(d, lastFrame) })

			l2 := openLog(t, dir, kv, LogOptions{SegmentBytes: 700})
			if got := latest(t, l2); got != tt.kept {
				t.Fatalf("Latest after recovery = %d, want %d", got, tt.kept)
			}
			wantSize := lastFrame.pos + lastFrame.size
			if tt.kept == 6 {
				wantSize = lastFrame.pos
			}
			if got := fileSize(t, path); got != wantSize {
				t.Fatalf("last segment is %d bytes after recovery, want %d", got, wantSize)
			}
			assertRows(t, "after recovery", readRows(t, l2, mem, 0, tt.kept, 4), kvRows(0, tt.kept))
			if first := mustAppend(t, l2, kvRows(tt.kept, tt.kept+2)); first != tt.kept {
				t.Fatalf("append after recovery got offset %d, want %d", first, tt.kept)
			}
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openLog(t, dir, kv, LogOptions{SegmentBytes: 700})
			assertRows(t, "after a second reopen", readRows(t, l3, mem, 0, tt.kept+2, 4), kvRows(0, tt.kept+2))
		})
	}
}

func TestLogOpenRefusesCorruptionItCannotCut(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the files of a log of three segments of three
		// frames of 2 rows each (rows 0..17).
		damage func(t *testing.T, dir string, segs []string)
	}{
		{"a flipped body byte in a middle frame of the last segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[2])
			f := frames(t, path)[1]
			patchFile(t, path, func(d []byte) []byte { d[f.pos+f.size-10] ^= 1; return d })
		}},
		{"a flipped CRC byte in the first frame of the last segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[2])
			patchFile(t, path, func(d []byte) []byte { d[4] ^= 1; return d })
		}},
		{"a shortened length in a middle frame of the last segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[2])
			f := frames(t, path)[1]
			patchFile(t, path, func(d []byte) []byte {
				binary.LittleEndian.PutUint32(d[f.pos:], uint32(f.size-frameHeader-8))
				return d
			})
		}},
		{"a length past the end in the first frame of the last segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[2])
			patchFile(t, path, func(d []byte) []byte {
				binary.LittleEndian.PutUint32(d[0:], uint32(len(d)))
				return d
			})
		}},
		{"a zeroed header in a middle frame of the last segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[2])
			f := frames(t, path)[1]
			patchFile(t, path, func(d []byte) []byte { clear(d[f.pos : f.pos+frameHeader]); return d })
		}},
		{"a valid frame with the wrong offset in the last segment", func(t *testing.T, dir string, segs []string) {
			// Swap the last two frames: each is intact but out of place.
			path := filepath.Join(dir, segs[2])
			fs := frames(t, path)
			a, b := fs[1], fs[2]
			patchFile(t, path, func(d []byte) []byte {
				out := slices.Clone(d[:a.pos])
				out = append(out, d[b.pos:b.pos+b.size]...)
				return append(out, d[a.pos:a.pos+a.size]...)
			})
		}},
		{"a middle segment cut short", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[1])
			patchFile(t, path, func(d []byte) []byte { return d[:len(d)-5] })
		}},
		{"a middle segment with garbage at its end", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[1])
			patchFile(t, path, func(d []byte) []byte { return append(d, 1, 2, 3, 4, 5, 6, 7, 8, 9) })
		}},
		{"a wrong offset in a frame header of a middle segment", func(t *testing.T, dir string, segs []string) {
			path := filepath.Join(dir, segs[1])
			f := frames(t, path)[1]
			patchFile(t, path, func(d []byte) []byte { d[f.pos+8]++; return d })
		}},
		{"a missing middle segment", func(t *testing.T, dir string, segs []string) {
			if err := os.Remove(filepath.Join(dir, segs[1])); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := buildThreeSegments(t, dir)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			segs := segFiles(t, dir)
			sizes := make([]int64, len(segs))
			for i, s := range segs {
				sizes[i] = fileSize(t, filepath.Join(dir, s))
			}
			tt.damage(t, dir, segs)
			for i, s := range segs {
				if st, err := os.Stat(filepath.Join(dir, s)); err == nil {
					sizes[i] = st.Size()
				}
			}
			_, err := OpenLog(context.Background(), dir, kv, LogOptions{SegmentBytes: 1000})
			assertCode(t, err, sqlerr.DataCorrupted)
			// Nothing was cut off.
			for i, s := range segs {
				if st, err := os.Stat(filepath.Join(dir, s)); err == nil && st.Size() != sizes[i] {
					t.Fatalf("OpenLog changed %s from %d to %d bytes", s, sizes[i], st.Size())
				}
			}
		})
	}
}

// buildThreeSegments writes a log of three segments of three frames of 2
// rows each: rows 0..17, kv schema.
func buildThreeSegments(t *testing.T, dir string) *Log {
	t.Helper()
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 1000})
	for i := int64(0); i < 18; i += 2 {
		mustAppend(t, l, kvRows(i, i+2))
	}
	segs := segFiles(t, dir)
	if len(segs) != 3 {
		t.Fatalf("got segments %v, want 3", segs)
	}
	for _, s := range segs {
		if n := len(frames(t, filepath.Join(dir, s))); n != 3 {
			t.Fatalf("segment %s has %d frames, want 3 (is SegmentBytes right?)", s, n)
		}
	}
	return l
}

func TestLogReadReportsCorruptionOfASealedSegment(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := buildThreeSegments(t, dir)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segFiles(t, dir)
	path := filepath.Join(dir, segs[1]) // rows 6..11
	f := frames(t, path)[1]             // rows 8..9
	patchFile(t, path, func(d []byte) []byte { d[f.pos+f.size-10] ^= 0x10; return d })

	// OpenLog reads only the headers of sealed segments.
	l2 := openLog(t, dir, kv, LogOptions{SegmentBytes: 1000})
	_, err := tryReadRows(l2, mem, 0, 18, 100)
	assertCode(t, err, sqlerr.DataCorrupted, segs[1])
	_, err = tryReadRows(l2, mem, 9, 10, 100)
	assertCode(t, err, sqlerr.DataCorrupted)
	// The rest reads fine.
	assertRows(t, "before the damage", readRows(t, l2, mem, 0, 8, 3), kvRows(0, 8))
	assertRows(t, "after the damage", readRows(t, l2, mem, 10, 18, 3), kvRows(10, 18))
}

func TestLogRetentionByRowsDeletesOldSegments(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	const keep = 10
	opts := LogOptions{Name: "events", SegmentBytes: 1000, RetentionRows: keep}
	l := openLog(t, dir, kv, opts)
	var n int64
	for range 20 {
		mustAppend(t, l, kvRows(n, n+2))
		n += 2
		// Retention guarantees the last keep rows, deletes a segment
		// only once all its rows are keep behind, and never touches the
		// active segment.
		files := segFiles(t, dir)
		e := earliest(t, l)
		if files[0] != segName(e) {
			t.Fatalf("at Latest %d: Earliest %d, but the oldest segment file is %s", n, e, files[0])
		}
		if n-e < min(keep, n) {
			t.Fatalf("at Latest %d: Earliest %d keeps fewer than %d rows", n, e, keep)
		}
		if len(files) > 1 {
			var next int64
			fmt.Sscanf(files[1], "%d.log", &next)
			if next <= n-keep {
				t.Fatalf("at Latest %d: segment %s should have been deleted (next segment starts at %d)", n, files[0], next)
			}
		}
	}
	e := earliest(t, l)
	if e == 0 {
		t.Fatal("retention deleted nothing")
	}
	assertRows(t, "from Earliest", readRows(t, l, mem, e, n, 7), kvRows(e, n))

	for _, r := range []struct{ s, e int64 }{{0, 1}, {0, n}, {e - 1, e + 1}} {
		_, err := l.Read(context.Background(), mem, Offsets{0: r.s}, Offsets{0: r.e}, 10)
		assertDeleted(t, err, OffsetsDeletedError{Source: "events", Partition: 0, Start: r.s, End: r.e, Earliest: e})
	}

	// A restart sees the same window.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, dir, kv, opts)
	if got := earliest(t, l2); got != e {
		t.Fatalf("Earliest after reopen = %d, want %d", got, e)
	}
	assertRows(t, "after reopen", readRows(t, l2, mem, e, n, 100), kvRows(e, n))
}

func TestLogRetentionByAgeDeletesOldSegmentsButNeverTheActiveOne(t *testing.T) {
	mem := checkedAlloc(t)
	clock := newFakeClock()
	dir := t.TempDir()
	// One frame per segment, one minute apart: segment i holds rows
	// 2i, 2i+1 appended at minute i.
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 1, RetentionAge: 10 * time.Minute, Now: clock.Now})
	for i := int64(0); i < 5; i++ {
		mustAppend(t, l, kvRows(2*i, 2*i+2))
		clock.Advance(time.Minute)
	}
	// Now is minute 5: nothing is older than 10 minutes.
	if got := len(segFiles(t, dir)); got != 5 {
		t.Fatalf("got %d segments, want 5", got)
	}
	ctx := context.Background()
	clock.Advance(5*time.Minute + time.Second) // minute 10:01: segment 0 is expired
	if err := l.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{segName(2), segName(4), segName(6), segName(8)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	clock.Advance(2 * time.Minute) // minute 12:01: segments 1 and 2 too
	if err := l.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{segName(6), segName(8)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	clock.Advance(24 * time.Hour) // everything is expired: the active segment stays
	if err := l.EnforceRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{segName(8)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	if got := earliest(t, l); got != 8 {
		t.Fatalf("Earliest = %d, want 8", got)
	}
	assertRows(t, "the active segment", readRows(t, l, mem, 8, 10, 10), kvRows(8, 10))
	_, err := l.Read(ctx, mem, Offsets{0: 7}, Offsets{0: 10}, 10)
	assertDeleted(t, err, OffsetsDeletedError{Source: fmt.Sprintf("%q", dir), Start: 7, End: 10, Earliest: 8})

	// Append applies retention too, on its own clock reading.
	mustAppend(t, l, kvRows(10, 12))
	clock.Advance(11 * time.Minute)
	mustAppend(t, l, kvRows(12, 14))
	if got, want := segFiles(t, dir), []string{segName(12)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
}

func TestLogRetentionKeepsFilesContiguousWhenADeletionFails(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 1})
	for i := int64(0); i < 5; i++ {
		mustAppend(t, l, kvRows(2*i, 2*i+2))
	}
	// Make the oldest segment undeletable: a non-empty directory in place
	// of its file cannot be removed (not even by root).
	first := filepath.Join(dir, segName(0))
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(first, "pin"), 0o755); err != nil {
		t.Fatal(err)
	}
	l.opts.RetentionRows = 3 // segments 0, 2, 4 (rows 0..5) are expired; 6 is not
	ctx := context.Background()
	if err := l.EnforceRetention(ctx); err == nil {
		t.Fatal("EnforceRetention succeeded, want the deletion error")
	}
	if got := earliest(t, l); got != 2 {
		t.Fatalf("Earliest = %d, want 2: the segment left the index", got)
	}
	// Retrying still fails, and deletes nothing newer: the files stay a
	// contiguous run that OpenLog accepts.
	if err := l.EnforceRetention(ctx); err == nil {
		t.Fatal("second EnforceRetention succeeded, want the deletion error")
	}
	if got, want := segFiles(t, dir), []string{segName(2), segName(4), segName(6), segName(8)}; !slices.Equal(got, want) {
		t.Fatalf("segment files = %v, want %v", got, want)
	}
	if err := os.RemoveAll(first); err != nil {
		t.Fatal(err)
	}
	if err := l.EnforceRetention(ctx); err != nil {
		t.Fatalf("EnforceRetention after the obstacle went: %v", err)
	}
	if got, want := segFiles(t, dir), []string{segName(6), segName(8)}; !slices.Equal(got, want) {
		t.Fatalf("segment files = %v, want %v", got, want)
	}
	if got := earliest(t, l); got != 6 {
		t.Fatalf("Earliest = %d, want 6", got)
	}
	assertRows(t, "retained", readRows(t, l, mem, 6, 10, 10), kvRows(6, 10))
}

func TestLogFailedAppendLeavesNothingVisible(t *testing.T) {
	cols := []Column{{"k", sqltypes.Int64}, {"small", sqltypes.Int16}, {"name", sqltypes.Varchar(3)}}
	good := func(i int64) []any { return []any{i, int64(1), "abc"} }
	mem := checkedAlloc(t)
	schema, _ := schemaOf(cols)
	wrongType := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	tests := []struct {
		name   string
		append func(ctx context.Context, l *Log) (int64, error)
		code   string
	}{
		{"a value of the wrong type in the last row", func(ctx context.Context, l *Log) (int64, error) {
			return l.Append(ctx, [][]any{good(0), good(1), {int64(2), "x", "abc"}})
		}, sqlerr.DatatypeMismatch},
		{"a smallint out of range", func(ctx context.Context, l *Log) (int64, error) {
			return l.Append(ctx, [][]any{good(0), {int64(1), int64(40000), "abc"}})
		}, sqlerr.NumericValueOutOfRange},
		{"a value too long for its varchar", func(ctx context.Context, l *Log) (int64, error) {
			return l.Append(ctx, [][]any{good(0), {int64(1), int64(1), "abcd"}})
		}, sqlerr.StringDataRightTruncation},
		{"a row with too few values", func(ctx context.Context, l *Log) (int64, error) {
			return l.Append(ctx, [][]any{good(0), {int64(1)}})
		}, sqlerr.InvalidParameterValue},
		{"a canceled context", func(ctx context.Context, l *Log) (int64, error) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return l.Append(ctx, [][]any{good(0)})
		}, ""},
		{"records of the wrong type", func(ctx context.Context, l *Log) (int64, error) {
			ok := recordOf(t, schema, [][]any{good(0)})
			defer ok.Release()
			bad := recordOf(t, wrongType, [][]any{good(1)})
			defer bad.Release()
			return l.AppendRecords(ctx, []arrow.Record{ok, bad})
		}, sqlerr.DatatypeMismatch},
		{"a record with a column too few", func(ctx context.Context, l *Log) (int64, error) {
			short := arrow.NewSchema(schema.Fields()[:2], nil)
			rec := recordOf(t, short, [][]any{{int64(0), int64(1)}})
			defer rec.Release()
			return l.AppendRecords(ctx, []arrow.Record{rec})
		}, sqlerr.DatatypeMismatch},
		{"a record with a value too long for its varchar", func(ctx context.Context, l *Log) (int64, error) {
			rec := recordOf(t, schema, [][]any{good(0), {int64(1), int64(1), "abcé"}})
			defer rec.Release()
			return l.AppendRecords(ctx, []arrow.Record{rec})
		}, sqlerr.StringDataRightTruncation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, cols, LogOptions{})
			mustAppend(t, l, [][]any{good(100)})
			path := filepath.Join(dir, segName(0))
			size := fileSize(t, path)
			_, err := tt.append(context.Background(), l)
			if tt.code == "" {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
			} else {
				assertCode(t, err, tt.code)
			}
			if got := latest(t, l); got != 1 {
				t.Fatalf("Latest = %d after a failed append, want 1", got)
			}
			if got := fileSize(t, path); got != size {
				t.Fatalf("the segment grew from %d to %d bytes", size, got)
			}
			if _, err := l.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 2}, 10); err == nil {
				t.Fatal("reading past Latest succeeded")
			}
			// The log still works.
			if first := mustAppend(t, l, [][]any{good(101)}); first != 1 {
				t.Fatalf("next append got offset %d, want 1", first)
			}
			assertRows(t, "after the failure", readRows(t, l, mem, 0, 2, 10), [][]any{good(100), good(101)})
		})
	}
}

// recordOf builds a record of schema from rows; the caller releases it.
func recordOf(t *testing.T, schema *arrow.Schema, rows [][]any) arrow.Record {
	t.Helper()
	rec, err := makeRecord(schema, rows)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func makeRecord(schema *arrow.Schema, rows [][]any) (arrow.Record, error) {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			if err := appendValue(b.Field(c), v); err != nil {
				return nil, err
			}
		}
	}
	return b.NewRecord(), nil
}

func TestLogWriteErrorPoisonsTheLogAndLosesNothing(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, kv, LogOptions{})
	mustAppend(t, l, kvRows(0, 3))
	// Pull the file out from under the log: the write fails, and so does
	// cutting it back, so the log must refuse every later write.
	l.active.Close()
	if _, err := l.Append(context.Background(), kvRows(3, 5)); err == nil {
		t.Fatal("Append to a closed file succeeded")
	} else {
		assertCode(t, err, sqlerr.IOError)
	}
	if got := latest(t, l); got != 3 {
		t.Fatalf("Latest = %d after a failed write, want 3", got)
	}
	_, err := l.Append(context.Background(), kvRows(3, 5))
	assertCode(t, err, sqlerr.IOError, "earlier write failed")
	assertRows(t, "readable", readRows(t, l, mem, 0, 3, 10), kvRows(0, 3))
	l.Close() // reports the file already closed

	l2 := openLog(t, dir, kv, LogOptions{})
	if got := latest(t, l2); got != 3 {
		t.Fatalf("Latest after reopen = %d, want 3", got)
	}
	if first := mustAppend(t, l2, kvRows(3, 5)); first != 3 {
		t.Fatalf("append after reopen got offset %d, want 3", first)
	}
	assertRows(t, "after reopen", readRows(t, l2, mem, 0, 5, 10), kvRows(0, 5))
}

func TestLogAppendRecordsWritesOneFrame(t *testing.T) {
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l := openLog(t, dir, allTypes, LogOptions{})
	mustAppend(t, l, allTypesRows(0, 2))

	// The records' field names differ from the log's; one is a slice at
	// an odd offset (bitmaps not byte-aligned), one is empty.
	fields := make([]arrow.Field, len(allTypes))
	for i, c := range allTypes {
		fields[i] = arrow.Field{Name: fmt.Sprintf("x%d", i), Type: c.Type.Arrow(), Nullable: true}
	}
	other := arrow.NewSchema(fields, nil)
	a := recordOf(t, other, allTypesRows(2, 7))
	defer a.Release()
	whole := recordOf(t, other, allTypesRows(0, 30))
	defer whole.Release()
	b := whole.NewSlice(7, 20) // rows 7..19
	defer b.Release()
	empty := recordOf(t, other, nil)
	defer empty.Release()

	first, err := l.AppendRecords(context.Background(), []arrow.Record{a, empty, b})
	if err != nil {
		t.Fatalf("AppendRecords: %v", err)
	}
	if first != 2 {
		t.Fatalf("first = %d, want 2", first)
	}
	if got := len(frames(t, filepath.Join(dir, segName(0)))); got != 2 {
		t.Fatalf("the segment has %d frames, want 2: one per append", got)
	}
	// A single record goes in without a copy of its columns.
	first, err = l.AppendRecords(context.Background(), []arrow.Record{b.NewSlice(0, 1)})
	if err != nil || first != 20 {
		t.Fatalf("AppendRecords of one record = %d, %v, want 20", first, err)
	}
	want := append(allTypesRows(0, 20), allTypesRow(7))
	assertRows(t, "rows", readRows(t, l, mem, 0, 21, 8), want)

	// Nothing to append: Latest, and nothing written.
	for _, recs := range [][]arrow.Record{nil, {empty}} {
		first, err := l.AppendRecords(context.Background(), recs)
		if err != nil || first != 21 {
			t.Fatalf("AppendRecords of no rows = %d, %v, want 21, nil", first, err)
		}
	}
	if got := len(frames(t, filepath.Join(dir, segName(0)))); got != 3 {
		t.Fatalf("the segment has %d frames, want 3", got)
	}
	// The input records are untouched.
	assertRows(t, "input record", rows([]arrow.Record{a}), allTypesRows(2, 7))
}

func TestLogConcurrentAppendsAndReads(t *testing.T) {
	for _, opts := range []LogOptions{
		{SegmentBytes: 4096},
		{SegmentBytes: 2048, RetentionRows: 300},
	} {
		t.Run(fmt.Sprintf("retention %d rows", opts.RetentionRows), func(t *testing.T) {
			testConcurrent(t, opts)
		})
	}
}

// testConcurrent runs writers (Append, AppendRecords and
// AppendRecordsTagged) and readers at once. Every writer's rows are
// (writer, seq); afterwards every row a reader saw must be the row the
// writers placed at that offset, and LastTag the tag of the newest tagged
// append.
func testConcurrent(t *testing.T, opts LogOptions) {
	mem := checkedAlloc(t)
	cols := []Column{{"w", sqltypes.Int64}, {"seq", sqltypes.Int64}}
	schema, _ := schemaOf(cols)
	l := openLog(t, t.TempDir(), cols, opts)
	const writers, appends, readers = 4, 40, 4
	ctx := context.Background()

	var mu sync.Mutex
	placed := map[int64][2]int64{} // offset -> (writer, seq)
	tags := map[int64]int64{}      // first offset of a tagged append -> its tag
	var wg sync.WaitGroup
	errs := make(chan error, writers+readers)
	for w := range int64(writers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := int64(0)
			for a := range appends {
				n := int64(1 + a%5)
				var rs [][]any
				for i := range n {
					rs = append(rs, []any{w, seq + i})
				}
				var first int64
				var err error
				tag := w<<32 | int64(a)
				if a%2 == 0 {
					first, err = l.Append(ctx, rs)
				} else {
					var rec arrow.Record
					if rec, err = makeRecord(schema, rs); err == nil {
						if a%4 == 1 {
							first, err = l.AppendRecords(ctx, []arrow.Record{rec})
						} else {
							first, err = l.AppendRecordsTagged(ctx, []arrow.Record{rec}, tag)
						}
						rec.Release()
					}
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if a%4 == 3 {
					tags[first] = tag
				}
				for i := range n {
					placed[first+i] = [2]int64{w, seq + i}
				}
				mu.Unlock()
				seq += n
			}
		}()
	}
	done := make(chan struct{})
	seen := make([]map[int64][2]int64, readers)
	var rwg sync.WaitGroup
	for r := range readers {
		seen[r] = map[int64][2]int64{}
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				l.LastTag()
				e, _ := l.Earliest(ctx)
				lt, _ := l.Latest(ctx)
				s := e[0] + int64(i)%max(1, lt[0]-e[0]+1)
				recs, err := l.Read(ctx, mem, Offsets{0: s}, lt, 1+i%7)
				if err != nil {
					var del *OffsetsDeletedError
					if errors.As(err, &del) && opts.RetentionRows > 0 {
						continue
					}
					errs <- err
					return
				}
				for j, row := range rows(recs) {
					seen[r][s+int64(j)] = [2]int64{row[0].(int64), row[1].(int64)}
				}
				release(recs)
			}
		}()
	}
	wg.Wait()
	close(done)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := int64(len(placed))
	if got := latest(t, l); got != total {
		t.Fatalf("Latest = %d, want %d rows appended", got, total)
	}
	for off := range total {
		if _, ok := placed[off]; !ok {
			t.Fatalf("no append returned offset %d", off)
		}
	}
	// Each writer's rows are in its order, each exactly once.
	last := map[int64]int64{}
	for off := range total {
		p := placed[off]
		if prev, ok := last[p[0]]; ok && p[1] != prev+1 {
			t.Fatalf("offset %d holds writer %d seq %d after seq %d", off, p[0], p[1], prev)
		}
		last[p[0]] = p[1]
	}
	newest := slices.Max(slices.Collect(maps.Keys(tags)))
	if got, ok := l.LastTag(); !ok || got != tags[newest] {
		t.Fatalf("LastTag = %d, %v; want %d, the tag of the append at offset %d", got, ok, tags[newest], newest)
	}
	reads := 0
	for _, m := range seen {
		for off, got := range m {
			if want := placed[off]; got != want {
				t.Fatalf("a reader saw %v at offset %d, but %v was appended there", got, off, want)
			}
			reads++
		}
	}
	if reads == 0 {
		t.Fatal("readers saw no rows")
	}
	// Whatever retention left reads back as written.
	e := earliest(t, l)
	got := readRows(t, l, mem, e, total, 50)
	for i, row := range got {
		if want := placed[e+int64(i)]; row[0] != want[0] || row[1] != want[1] {
			t.Fatalf("offset %d holds %v, want %v", e+int64(i), row, want)
		}
	}
}

func TestLogClosesItsFiles(t *testing.T) {
	before := openFDs()
	if before < 0 {
		t.Skip("cannot count open files here")
	}
	mem := checkedAlloc(t)
	dir := t.TempDir()
	l, err := OpenLog(context.Background(), dir, kv, LogOptions{SegmentBytes: 1, RetentionRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 20; i += 2 {
		if _, err := l.Append(context.Background(), kvRows(i, i+2)); err != nil {
			t.Fatal(err)
		}
	}
	readRows(t, l, mem, earliest(t, l), 20, 3)
	_, err = l.Read(context.Background(), mem, Offsets{0: 0}, Offsets{0: 20}, 3)
	assertCode(t, err, sqlerr.InvalidParameterValue)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if after := openFDs(); after != before {
		t.Fatalf("%d files open before, %d after Close", before, after)
	}
}

func TestLogReadRejectsBadRanges(t *testing.T) {
	mem := checkedAlloc(t)
	l := openLog(t, t.TempDir(), kv, LogOptions{Name: "src"})
	mustAppend(t, l, kvRows(0, 5))
	ctx := context.Background()
	tests := []struct {
		name       string
		start, end Offsets
		maxRows    int
	}{
		{"maxRows of zero", Offsets{0: 0}, Offsets{0: 1}, 0},
		{"an end past Latest", Offsets{0: 0}, Offsets{0: 6}, 10},
		{"a start after the end", Offsets{0: 3}, Offsets{0: 2}, 10},
		{"a negative start", Offsets{0: -1}, Offsets{0: 2}, 10},
		{"a partition the log does not have", Offsets{0: 0, 1: 0}, Offsets{0: 1, 1: 1}, 10},
		{"an end without a start", Offsets{}, Offsets{0: 1}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Read(ctx, mem, tt.start, tt.end, tt.maxRows)
			assertCode(t, err, sqlerr.InvalidParameterValue, "src")
		})
	}
	for _, r := range []struct{ start, end Offsets }{{Offsets{0: 3}, Offsets{0: 3}}, {Offsets{0: 3}, Offsets{}}} {
		recs, err := l.Read(ctx, mem, r.start, r.end, 10)
		if err != nil || len(recs) != 0 {
			t.Fatalf("Read(%v, %v) = %d records, %v; want none", r.start, r.end, len(recs), err)
		}
	}
}

func TestOpenLogRejectsBadDefinitions(t *testing.T) {
	tests := []struct {
		name string
		cols []Column
		opts LogOptions
		code string
	}{
		{"no columns", nil, LogOptions{}, sqlerr.InvalidTableDefinition},
		{"a duplicate column", []Column{{"a", sqltypes.Int64}, {"A", sqltypes.Text}}, LogOptions{}, sqlerr.DuplicateColumn},
		{"a column without a type", []Column{{"a", sqltypes.Unknown}}, LogOptions{}, sqlerr.InvalidTableDefinition},
		{"negative segment bytes", kv, LogOptions{SegmentBytes: -1}, sqlerr.InvalidParameterValue},
		{"negative retention rows", kv, LogOptions{RetentionRows: -1}, sqlerr.InvalidParameterValue},
		{"negative retention age", kv, LogOptions{RetentionAge: -time.Second}, sqlerr.InvalidParameterValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			_, err := OpenLog(context.Background(), dir, tt.cols, tt.opts)
			assertCode(t, err, tt.code)
			if _, err := os.Stat(dir); err == nil {
				t.Fatal("a rejected OpenLog created the directory")
			}
		})
	}
}
