package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// appendTagged appends rows of the log's schema as one tagged frame.
func appendTagged(t *testing.T, l *Log, rows [][]any, tag int64) int64 {
	t.Helper()
	rec := recordOf(t, l.Schema(), rows)
	defer rec.Release()
	first, err := l.AppendRecordsTagged(context.Background(), []arrow.Record{rec}, tag)
	if err != nil {
		t.Fatalf("AppendRecordsTagged: %v", err)
	}
	return first
}

// wantTag fails the test unless LastTag reports tag (ok) or no tag (!ok).
func wantTag(t *testing.T, what string, l *Log, tag int64, ok bool) {
	t.Helper()
	got, gotOK := l.LastTag()
	if got != tag || gotOK != ok {
		t.Fatalf("%s: LastTag = %d, %v; want %d, %v", what, got, gotOK, tag, ok)
	}
}

func TestLogTagsSurviveReopenAndSegments(t *testing.T) {
	for _, segBytes := range []int64{1, 1 << 20} {
		t.Run(fmt.Sprintf("segments of %d bytes", segBytes), func(t *testing.T) {
			mem := checkedAlloc(t)
			dir := t.TempDir()
			opts := LogOptions{SegmentBytes: segBytes}
			l := openLog(t, dir, kv, opts)
			wantTag(t, "a new log", l, 0, false)
			mustAppend(t, l, kvRows(0, 3))
			wantTag(t, "a log of untagged appends", l, 0, false)

			if first := appendTagged(t, l, kvRows(3, 6), 10); first != 3 {
				t.Fatalf("tagged append got offset %d, want 3", first)
			}
			wantTag(t, "after a tagged append", l, 10, true)
			appendTagged(t, l, kvRows(6, 8), 11)
			wantTag(t, "after a second tagged append", l, 11, true)

			// Untagged appends after it do not hide the last tag.
			mustAppend(t, l, kvRows(8, 9))
			rec := recordOf(t, l.Schema(), kvRows(9, 12))
			if _, err := l.AppendRecords(context.Background(), []arrow.Record{rec}); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			wantTag(t, "after untagged appends", l, 11, true)

			// A tagged append of no rows writes nothing, tag included.
			empty := recordOf(t, l.Schema(), nil)
			first, err := l.AppendRecordsTagged(context.Background(), []arrow.Record{empty}, 99)
			empty.Release()
			if err != nil || first != 12 {
				t.Fatalf("a tagged append of no rows = %d, %v; want 12, nil", first, err)
			}
			wantTag(t, "after a tagged append of no rows", l, 11, true)
			if segBytes == 1 {
				if got := len(segFiles(t, dir)); got != 5 {
					t.Fatalf("got %d segments, want 5: one per append", got)
				}
			}
			assertRows(t, "rows", readRows(t, l, mem, 0, 12, 5), kvRows(0, 12))

			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l2 := openLog(t, dir, kv, opts)
			wantTag(t, "after reopen", l2, 11, true)
			assertRows(t, "rows after reopen", readRows(t, l2, mem, 0, 12, 4), kvRows(0, 12))
			assertRows(t, "the rows of one tagged frame", readRows(t, l2, mem, 4, 7, 2), kvRows(4, 7))

			// Tags need not grow.
			appendTagged(t, l2, kvRows(12, 13), -5)
			wantTag(t, "after a smaller tag", l2, -5, true)
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openLog(t, dir, kv, opts)
			wantTag(t, "after a second reopen", l3, -5, true)
			assertRows(t, "rows after a second reopen", readRows(t, l3, mem, 0, 13, 100), kvRows(0, 13))
		})
	}
}

// oldFrame encodes rec as a frame of the format before tags, the way the
// first version of Log.appendRecord did, independently of the current
// code.
func oldFrame(t *testing.T, schema *arrow.Schema, rec arrow.Record, first int64, at time.Time) []byte {
	t.Helper()
	var body bytes.Buffer
	w := ipc.NewWriter(&body, ipc.WithSchema(schema), ipc.WithAllocator(memory.NewGoAllocator()))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	hdr := make([]byte, 28)
	binary.LittleEndian.PutUint32(hdr[0:], uint32(body.Len()))
	binary.LittleEndian.PutUint64(hdr[8:], uint64(first))
	binary.LittleEndian.PutUint32(hdr[16:], uint32(rec.NumRows()))
	binary.LittleEndian.PutUint64(hdr[20:], uint64(at.UnixNano()))
	crc := crc32.Update(crc32.Checksum(body.Bytes(), castagnoli), castagnoli, hdr[8:28])
	binary.LittleEndian.PutUint32(hdr[4:], crc)
	return append(hdr, body.Bytes()...)
}

func TestLogOpensLogsWrittenBeforeTags(t *testing.T) {
	mem := checkedAlloc(t)
	schema, err := schemaOf(kv)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	var old []byte
	for _, r := range [][2]int64{{0, 3}, {3, 5}, {5, 9}} {
		rec := recordOf(t, schema, kvRows(r[0], r[1]))
		old = append(old, oldFrame(t, schema, rec, r[0], clock.Now())...)
		rec.Release()
	}

	// An untagged append still writes the old format, byte for byte.
	fresh := t.TempDir()
	lf := openLog(t, fresh, kv, LogOptions{Now: clock.Now})
	mustAppend(t, lf, kvRows(0, 3))
	mustAppend(t, lf, kvRows(3, 5))
	rec := recordOf(t, schema, kvRows(5, 9))
	if _, err := lf.AppendRecords(context.Background(), []arrow.Record{rec}); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	got, err := os.ReadFile(filepath.Join(fresh, segName(0)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, old) {
		t.Fatalf("untagged appends wrote %d bytes that differ from the %d of the format before tags", len(got), len(old))
	}

	// A log written in the old format opens, reads, and takes tags.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, segName(0)), old, 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, dir, kv, LogOptions{SegmentBytes: 1})
	if got := latest(t, l); got != 9 {
		t.Fatalf("Latest of the old log = %d, want 9", got)
	}
	wantTag(t, "an old log", l, 0, false)
	assertRows(t, "the old log", readRows(t, l, mem, 0, 9, 4), kvRows(0, 9))
	appendTagged(t, l, kvRows(9, 11), 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, dir, kv, LogOptions{SegmentBytes: 1})
	wantTag(t, "an old log after a tagged append", l2, 1, true)
	assertRows(t, "the old log and a tagged append", readRows(t, l2, mem, 0, 11, 4), kvRows(0, 11))
}

func TestLogOpenCutsOffATornTaggedFrame(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the segment whose last frame is last.
		damage func(d []byte, last frameSpan) []byte
		kept   int64
	}{
		{"a frame cut in its record is dropped with its tag", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+last.size-20]
		}, 6},
		{"a frame cut in its tag is dropped", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+frameHeader+tagLen/2]
		}, 6},
		{"a frame cut in its header is dropped", func(d []byte, last frameSpan) []byte {
			return d[:last.pos+10]
		}, 6},
		{"a flipped tag byte drops the frame", func(d []byte, last frameSpan) []byte {
			d[last.pos+frameHeader+1] ^= 0x01
			return d
		}, 6},
		{"a cleared tagged flag drops the frame", func(d []byte, last frameSpan) []byte {
			d[last.pos+19] &^= 0x80
			return d
		}, 6},
		{"garbage after the last frame loses nothing", func(d []byte, _ frameSpan) []byte {
			return append(d, 0xff, 0xff, 0xff, 0xff, 1, 2, 3)
		}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := checkedAlloc(t)
			dir := t.TempDir()
			opts := LogOptions{SegmentBytes: 1 << 20}
			l := openLog(t, dir, kv, opts)
			appendTagged(t, l, kvRows(0, 3), 1)
			appendTagged(t, l, kvRows(3, 6), 2)
			appendTagged(t, l, kvRows(6, 9), 3)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, segName(0))
			fs := frames(t, path)
			if len(fs) != 3 {
				t.Fatalf("got %d frames, want 3", len(fs))
			}
			patchFile(t, path, func(d []byte) []byte { return tt.damage(d, fs[2]) })

			l2 := openLog(t, dir, kv, opts)
			if got := latest(t, l2); got != tt.kept {
				t.Fatalf("Latest after recovery = %d, want %d", got, tt.kept)
			}
			wantTag(t, "after recovery", l2, tt.kept/3, true)
			assertRows(t, "after recovery", readRows(t, l2, mem, 0, tt.kept, 4), kvRows(0, tt.kept))
			appendTagged(t, l2, kvRows(tt.kept, tt.kept+1), 7)
			if err := l2.Close(); err != nil {
				t.Fatal(err)
			}
			l3 := openLog(t, dir, kv, opts)
			wantTag(t, "after a tagged append and a reopen", l3, 7, true)
			assertRows(t, "after a tagged append and a reopen", readRows(t, l3, mem, 0, tt.kept+1, 4), kvRows(0, tt.kept+1))
		})
	}

	t.Run("a torn frame with the only tag leaves no tag", func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir, kv, LogOptions{})
		mustAppend(t, l, kvRows(0, 3))
		appendTagged(t, l, kvRows(3, 6), 1)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, segName(0))
		patchFile(t, path, func(d []byte) []byte { return d[:len(d)-1] })
		l2 := openLog(t, dir, kv, LogOptions{})
		if got := latest(t, l2); got != 3 {
			t.Fatalf("Latest after recovery = %d, want 3", got)
		}
		wantTag(t, "after recovery", l2, 0, false)
	})
}

func TestLogOpenRefusesDamageToTaggedFrames(t *testing.T) {
	tests := []struct {
		name string
		// build appends to a log and returns the damage to do to its
		// files.
		build func(t *testing.T, l *Log, dir string) func()
	}{
		{"a damaged tagged frame followed by a valid one in the last segment", func(t *testing.T, l *Log, dir string) func() {
			for i := int64(0); i < 3; i++ {
				appendTagged(t, l, kvRows(3*i, 3*i+3), i)
			}
			return func() {
				path := filepath.Join(dir, segName(0))
				f := frames(t, path)[1]
				patchFile(t, path, func(d []byte) []byte { d[f.pos+f.size-10] ^= 1; return d })
			}
		}},
		{"a damaged tag in a sealed segment that LastTag would report", func(t *testing.T, l *Log, dir string) func() {
			l.opts.SegmentBytes = 1
			appendTagged(t, l, kvRows(0, 3), 5)
			mustAppend(t, l, kvRows(3, 6))
			mustAppend(t, l, kvRows(6, 9))
			return func() {
				patchFile(t, filepath.Join(dir, segName(0)), func(d []byte) []byte { d[frameHeader] ^= 1; return d })
			}
		}},
		{"a damaged record in a sealed segment's frame that LastTag would report", func(t *testing.T, l *Log, dir string) func() {
			l.opts.SegmentBytes = 1
			appendTagged(t, l, kvRows(0, 3), 5)
			mustAppend(t, l, kvRows(3, 6))
			return func() {
				patchFile(t, filepath.Join(dir, segName(0)), func(d []byte) []byte { d[len(d)-10] ^= 1; return d })
			}
		}},
		{"a tagged frame too short for its tag", func(t *testing.T, l *Log, dir string) func() {
			appendTagged(t, l, kvRows(0, 3), 5)
			return func() {
				// A valid frame (length, CRC) whose body is only a tag.
				path := filepath.Join(dir, segName(0))
				patchFile(t, path, func(d []byte) []byte {
					d = d[:frameHeader+tagLen]
					binary.LittleEndian.PutUint32(d[0:], tagLen)
					binary.LittleEndian.PutUint32(d[4:], frameCRC(d[frameHeader:], d[8:]))
					return d
				})
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openLog(t, dir, kv, LogOptions{})
			damage := tt.build(t, l, dir)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			segs := segFiles(t, dir)
			damage()
			sizes := make([]int64, len(segs))
			for i, s := range segs {
				sizes[i] = fileSize(t, filepath.Join(dir, s))
			}
			_, err := OpenLog(context.Background(), dir, kv, LogOptions{})
			assertCode(t, err, sqlerr.DataCorrupted)
			for i, s := range segs {
				if got := fileSize(t, filepath.Join(dir, s)); got != sizes[i] {
					t.Fatalf("OpenLog changed %s from %d to %d bytes", s, sizes[i], got)
				}
			}
		})
	}
}

// TestLogRetentionKeepsTheNewestTag checks that retention by age, with an
// active segment still empty (a crash right after a roll), keeps the
// segment with the newest rows and tag.
func TestLogRetentionKeepsTheNewestTag(t *testing.T) {
	mem := checkedAlloc(t)
	clock := newFakeClock()
	dir := t.TempDir()
	opts := LogOptions{SegmentBytes: 1, RetentionAge: 10 * time.Minute, Now: clock.Now}
	l := openLog(t, dir, kv, opts)
	for i := int64(0); i < 3; i++ {
		appendTagged(t, l, kvRows(3*i, 3*i+3), i+1)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, segName(9)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, dir, kv, opts)
	clock.Advance(time.Hour)
	if err := l2.EnforceRetention(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{segName(6), segName(9)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	wantTag(t, "after retention", l2, 3, true)
	assertRows(t, "after retention", readRows(t, l2, mem, 6, 9, 10), kvRows(6, 9))

	// Once the active segment has rows, the older one can go.
	appendTagged(t, l2, kvRows(9, 10), 4)
	clock.Advance(time.Hour)
	if err := l2.EnforceRetention(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := segFiles(t, dir), []string{segName(9)}; !slices.Equal(got, want) {
		t.Fatalf("segments = %v, want %v", got, want)
	}
	wantTag(t, "after more retention", l2, 4, true)
}
