package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
)

// Frame layout, little endian:
//
//	0  uint32  body length
//	4  uint32  CRC-32C of body, then bytes 8..28 of this header
//	8  int64   offset of the frame's first row
//	16 uint32  row count (bits 0..30, > 0); bit 31 (flagTagged): the body starts with a tag
//	20 int64   append time, Unix nanoseconds
//	28 body    [int64 tag, if flagTagged,] then one Arrow IPC stream:
//	           schema message, one record batch, EOS
//
// The record batch has the declared columns (format 'arrow'), or one
// binary column "value" holding one raw message per row (format 'json';
// see messageSchema). Either way a row is an offset.
//
// Tags (AppendRecordsTagged) came after the first version of the format.
// Row counts never reach bit 31 (maxFrameRows), so a frame written before
// tags existed reads as an untagged frame, and an untagged frame is still
// written byte for byte as it was. The tag is inside the body, so the
// length and CRC cover it and framing (torn tails, findFrame) is the same
// for both kinds.
const (
	frameHeader  = 28
	tagLen       = 8
	flagTagged   = 1 << 31
	maxFrameBody = 1 << 30
	maxFrameRows = 1<<31 - 1
	segmentExt   = ".log"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// messageSchema is the schema of the frame records of a json log: one
// raw message per row.
var messageSchema = arrow.NewSchema([]arrow.Field{{Name: "value", Type: arrow.BinaryTypes.Binary}}, nil)

// frameInfo is the in-memory index entry of one frame.
type frameInfo struct {
	offset int64 // first row
	rows   int64
	pos    int64 // file position of the header
	size   int64 // header + body
}

// segment is one file of the log: rows [base, end).
type segment struct {
	base   int64
	end    int64
	path   string
	size   int64
	newest int64 // latest append time of its frames, Unix nanoseconds
	frames []frameInfo

	tagged   bool  // some frame of the segment has a tag
	tag      int64 // the tag of the newest such frame
	tagFrame int   // that frame's index in frames
}

// Log is Sluice's durable, segmented, append-only log (connector 'log'):
// one partition (0) whose offsets are row numbers from 0. See the package
// documentation for the file format and recovery rules.
type Log struct {
	name   string
	dir    string
	cols   []Column
	schema *arrow.Schema
	opts   LogOptions
	now    func() time.Time
	alloc  memory.Allocator // for encoding appends

	// Format 'json': frames hold messages (messageSchema), which appends
	// encode with enc and reads decode into schema.
	json        bool
	frameSchema *arrow.Schema // of the frames' records: schema or messageSchema
	enc         *JSONEncoder

	// readWorkers and readTaskRows, when positive, replace GOMAXPROCS and
	// jsonTaskMessages in a json log's reads (readJSON); tests set them.
	readWorkers  int
	readTaskRows int

	// wmu serialises appends, rolls, retention and Close. It is held
	// across write and fsync.
	wmu    sync.Mutex
	active *os.File // the last segment, open for writing
	failed error    // set when an fsync or truncate failed: the log refuses writes
	closed bool
	orphan string // a deleted segment's file that could not be removed

	// mu guards the index below; it is held only briefly, so readers do
	// not wait for an appender's fsync.
	mu     sync.Mutex
	segs   []segment // ordered; the last is the active one
	latest int64
	shut   bool
}

var (
	_ Source          = (*Log)(nil)
	_ BadRecordReader = (*Log)(nil)
)

// OpenLog opens the log in dir, creating dir and an empty log if needed.
// It recovers from a crash: a torn or corrupt frame at the end of the last
// segment (no valid frame after it) is cut off; a corrupt frame anywhere
// else is an error (XX001). A log directory must be open in one Log at a
// time, and always with the same format (opts.Format): it is not stored,
// and Read refuses frames of the other format (42804).
func OpenLog(ctx context.Context, dir string, cols []Column, opts LogOptions) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	schema, err := schemaOf(cols)
	if err != nil {
		return nil, err
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	l := &Log{
		name:   opts.Name,
		dir:    dir,
		cols:   append([]Column(nil), cols...),
		schema: schema,
		opts:   opts,
		now:    opts.Now,
		alloc:  memory.NewGoAllocator(),

		json:        opts.Format == LogFormatJSON,
		frameSchema: schema,
	}
	if l.json {
		l.frameSchema = messageSchema
		if l.enc, err = NewJSONEncoder(schema); err != nil {
			return nil, err
		}
	}
	if l.name == "" {
		l.name = strconv.Quote(dir)
	}
	if l.now == nil {
		l.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	if err := l.recover(ctx); err != nil {
		return nil, err
	}
	last := l.segs[len(l.segs)-1]
	f, err := os.OpenFile(last.path, os.O_RDWR, 0)
	if err != nil {
		return nil, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	l.active = f
	return l, nil
}

func segmentPath(dir string, base int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, segmentExt))
}

// recover rebuilds the index from the segment files.
func (l *Log) recover(ctx context.Context) error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	var bases []int64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentExt) {
			continue
		}
		b, err := strconv.ParseInt(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil || b < 0 || name != filepath.Base(segmentPath(l.dir, b)) {
			continue // not a name this log gives its segments
		}
		bases = append(bases, b)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	if len(bases) == 0 {
		if err := createFile(segmentPath(l.dir, 0)); err != nil {
			return sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
		}
		bases = []int64{0}
	}
	for i, b := range bases {
		if err := ctx.Err(); err != nil {
			return err
		}
		if i > 0 && b != l.segs[i-1].end {
			return sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s starts at offset %d, but the segment before it ends at %d",
				l.name, filepath.Base(segmentPath(l.dir, b)), b, l.segs[i-1].end)
		}
		seg, err := l.scanSegment(b, i == len(bases)-1)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, seg)
	}
	l.latest = l.segs[len(l.segs)-1].end
	return l.checkLastTag()
}

// checkLastTag verifies the checksum of the frame LastTag reports when it
// lies in a sealed segment, whose frames recovery does not otherwise
// verify (the last segment's it does): a stream trusts that tag to decide
// whether to append a batch again, so it must not come from a damaged
// frame.
func (l *Log) checkLastTag() error {
	i := len(l.segs) - 1
	for i >= 0 && !l.segs[i].tagged {
		i--
	}
	if i < 0 || i == len(l.segs)-1 {
		return nil
	}
	seg := &l.segs[i]
	fr := seg.frames[seg.tagFrame]
	f, err := os.Open(seg.path)
	if err != nil {
		return sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	defer f.Close()
	ok, err := validFrameAt(f, fr.pos, fr.size-frameHeader)
	if err != nil {
		return sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	if !ok {
		return sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s is corrupt at byte %d: the frame holding the last tag has a checksum mismatch",
			l.name, filepath.Base(seg.path), fr.pos)
	}
	return nil
}

// scanSegment indexes one segment file. In the last segment (last) it
// verifies every CRC and cuts off a torn tail; elsewhere it reads only the
// headers (Read verifies CRCs) and any damage is an error.
//
// Damage in the last segment is a torn tail only when no valid frame
// follows it anywhere in the file: an append is one frame written at the
// end, so a crash can only damage the last one. A valid frame after the
// damage means acknowledged data would be lost by cutting: that is
// corruption, reported rather than repaired.
func (l *Log) scanSegment(base int64, last bool) (segment, error) {
	path := segmentPath(l.dir, base)
	seg := segment{base: base, end: base, path: path}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
	}
	fileSize := st.Size()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [frameHeader]byte
	var body []byte
	pos := int64(0)
	for pos < fileSize {
		bad := ""
		var n uint32
		var off, rows, at, tag int64
		var tagged bool
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			bad = "a torn frame header"
		} else {
			n = binary.LittleEndian.Uint32(hdr[0:])
			off = int64(binary.LittleEndian.Uint64(hdr[8:]))
			rows, tagged = rowsWord(hdr[16:])
			at = int64(binary.LittleEndian.Uint64(hdr[20:]))
			switch {
			case n > maxFrameBody || pos+frameHeader+int64(n) > fileSize:
				bad = "a frame that runs past the end of the file"
			case last:
				body = grow(body, int(n))
				if _, err := io.ReadFull(r, body); err != nil {
					return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
				}
				if frameCRC(body, hdr[8:]) != binary.LittleEndian.Uint32(hdr[4:]) {
					bad = "a frame whose checksum does not match"
				} else if tagged && n > tagLen {
					tag = int64(binary.LittleEndian.Uint64(body))
				}
			case tagged && n > tagLen:
				// Only the tag is read; see recover for how it is checked.
				var t [tagLen]byte
				if _, err := io.ReadFull(r, t[:]); err != nil {
					return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
				}
				tag = int64(binary.LittleEndian.Uint64(t[:]))
				if _, err := r.Discard(int(n) - tagLen); err != nil {
					return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
				}
			default:
				if _, err := r.Discard(int(n)); err != nil {
					return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
				}
			}
			if bad == "" && (off != seg.end || rows <= 0) {
				// Its length (and, in the last segment, its checksum) is
				// fine: this is not a torn write.
				return seg, sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s is corrupt at byte %d: a frame for offset %d with %d rows where offset %d was expected",
					l.name, filepath.Base(path), pos, off, rows, seg.end)
			}
			if bad == "" && tagged && n <= tagLen {
				return seg, sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s is corrupt at byte %d: a tagged frame of %d bytes has no room for its tag and record",
					l.name, filepath.Base(path), pos, n)
			}
		}
		if bad != "" {
			if !last {
				return seg, sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s is corrupt at byte %d: %s",
					l.name, filepath.Base(path), pos, bad)
			}
			next, err := findFrame(f, pos, fileSize, seg.end)
			if err != nil {
				return seg, sqlerr.New(sqlerr.IOError, "open log %s: %w", l.name, err)
			}
			if next >= 0 {
				return seg, sqlerr.New(sqlerr.DataCorrupted, "log %s: segment %s is corrupt at byte %d: %s, followed by a valid frame at byte %d",
					l.name, filepath.Base(path), pos, bad, next)
			}
			// A torn tail: the append that wrote it was never
			// acknowledged. Cut it off.
			if err := f.Truncate(pos); err != nil {
				return seg, sqlerr.New(sqlerr.IOError, "open log %s: truncate torn tail: %w", l.name, err)
			}
			if err := f.Sync(); err != nil {
				return seg, sqlerr.New(sqlerr.IOError, "open log %s: truncate torn tail: %w", l.name, err)
			}
			break
		}
		size := frameHeader + int64(n)
		if tagged {
			seg.tagged, seg.tag, seg.tagFrame = true, tag, len(seg.frames)
		}
		seg.frames = append(seg.frames, frameInfo{offset: off, rows: rows, pos: pos, size: size})
		seg.end += rows
		seg.newest = max(seg.newest, at)
		pos += size
	}
	seg.size = pos
	return seg, nil
}

// findFrame looks for a valid frame that starts after the damaged one at
// byte damaged and could follow it: a first offset above end (the damaged
// frame held at least one row), and no more rows skipped than the bytes
// in between can hold (a row takes at least one bit). It returns the
// position of the first such frame, or -1. Only headers that pass those
// checks have their CRC computed, so a scan over garbage is cheap.
func findFrame(f *os.File, damaged, fileSize, end int64) (int64, error) {
	const chunk = 1 << 20
	buf := make([]byte, chunk+frameHeader)
	for base := damaged + 1; base+frameHeader <= fileSize; base += chunk {
		n := int(min(int64(len(buf)), fileSize-base))
		if _, err := f.ReadAt(buf[:n], base); err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		for i := 0; i < chunk && i+frameHeader <= n; i++ {
			h := buf[i : i+frameHeader]
			p := base + int64(i)
			bodyLen := int64(binary.LittleEndian.Uint32(h[0:]))
			off := int64(binary.LittleEndian.Uint64(h[8:]))
			rows, _ := rowsWord(h[16:])
			if rows == 0 || off <= end || off-end > 8*(p-damaged) ||
				bodyLen > maxFrameBody || p+frameHeader+bodyLen > fileSize || rows > 8*bodyLen {
				continue
			}
			ok, err := validFrameAt(f, p, bodyLen)
			if err != nil {
				return -1, err
			}
			if ok {
				return p, nil
			}
		}
	}
	return -1, nil
}

// validFrameAt reports whether the frame at pos, whose body is bodyLen
// bytes and lies within the file, has a matching CRC.
func validFrameAt(f *os.File, pos, bodyLen int64) (bool, error) {
	frame := make([]byte, frameHeader+bodyLen)
	if _, err := f.ReadAt(frame, pos); err != nil {
		return false, err
	}
	return frameCRC(frame[frameHeader:], frame[8:]) == binary.LittleEndian.Uint32(frame[4:]), nil
}

// rowsWord splits the header word at byte 16 into the row count and the
// tagged flag.
func rowsWord(b []byte) (rows int64, tagged bool) {
	w := binary.LittleEndian.Uint32(b)
	return int64(w &^ flagTagged), w&flagTagged != 0
}

func frameCRC(body, meta []byte) uint32 {
	return crc32.Update(crc32.Checksum(body, crcTable), crcTable, meta[:frameHeader-8])
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Schema implements Source.
func (l *Log) Schema() *arrow.Schema { return l.schema }

// Format returns LogFormatArrow or LogFormatJSON.
func (l *Log) Format() string {
	if l.json {
		return LogFormatJSON
	}
	return LogFormatArrow
}

// Latest implements Source: the offset the next appended row gets.
func (l *Log) Latest(ctx context.Context) (Offsets, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Offsets{0: l.latest}, nil
}

// Earliest implements Source: the first offset of the oldest segment.
func (l *Log) Earliest(ctx context.Context) (Offsets, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Offsets{0: l.segs[0].base}, nil
}

// Append appends rows (Go values as listed in package sqltypes, one per
// column) as one frame and returns the offset of the first. It is atomic:
// a value of the wrong type or out of range fails the whole append before
// anything is written, and a crash before Append returns leaves a torn
// frame that the next OpenLog cuts off. The frame is fsynced before Append
// returns and before any reader can see it. Concurrent appends are
// serialised. Appending no rows returns the latest offset.
//
// After a successful append it applies retention; a failure to delete a
// segment then is not the append's error (EnforceRetention reports it).
//
// A json log stores each row as a JSON message (JSONEncoder), after the
// same checks.
func (l *Log) Append(ctx context.Context, rows [][]any) (first int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return l.latestOffset(), nil
	}
	if len(rows) > maxFrameRows {
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded, "append to log %s: %d rows in one append, the limit is %d", l.name, len(rows), maxFrameRows)
	}
	rec, err := l.buildRecord(rows)
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", l.name, err)
	}
	defer rec.Release()
	return l.appendRows(ctx, rec, 0, false)
}

// AppendJSON appends msgs, raw messages, as one frame of a json log and
// returns the offset of the first; message i gets offset first+i. It does
// not look at them: a message that is not valid JSON, or does not fit
// the columns, is stored all the same, and Read reports it as a bad
// record (ReadWithBad). It is atomic and durable like Append. On a log of
// format 'arrow' it fails with SQLSTATE 42809. Appending no messages
// returns the latest offset.
func (l *Log) AppendJSON(ctx context.Context, msgs [][]byte) (first int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !l.json {
		return 0, sqlerr.New(sqlerr.WrongObjectType, "append JSON messages to log %s: its format is 'arrow' (format = 'json' stores messages)", l.name)
	}
	switch {
	case len(msgs) == 0:
		return l.latestOffset(), nil
	case len(msgs) > maxFrameRows:
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded, "append to log %s: %d messages in one append, the limit is %d", l.name, len(msgs), maxFrameRows)
	}
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	if total > maxFrameBody {
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded, "append to log %s: %d bytes of messages exceed the %d byte frame limit", l.name, total, maxFrameBody)
	}
	bb := array.NewBinaryBuilder(l.alloc, arrow.BinaryTypes.Binary)
	defer bb.Release()
	bb.Reserve(len(msgs))
	bb.ReserveData(total)
	for _, m := range msgs {
		bb.Append(m)
	}
	arr := bb.NewArray()
	defer arr.Release()
	rec := array.NewRecord(messageSchema, []arrow.Array{arr}, int64(len(msgs)))
	defer rec.Release()
	return l.appendRecord(ctx, rec, 0, false)
}

// appendRows appends rec, a record of the log's columns: as it is, or,
// in a json log, as one JSON message per row.
func (l *Log) appendRows(ctx context.Context, rec arrow.Record, tag int64, tagged bool) (int64, error) {
	if !l.json {
		return l.appendRecord(ctx, rec, tag, tagged)
	}
	bb := array.NewBinaryBuilder(l.alloc, arrow.BinaryTypes.Binary)
	defer bb.Release()
	n := int(rec.NumRows())
	bb.Reserve(n)
	cols := rec.Columns()
	var buf []byte
	for i := range n {
		buf = l.enc.Append(buf[:0], cols, i)
		bb.Append(buf)
	}
	arr := bb.NewArray()
	defer arr.Release()
	msgs := array.NewRecord(messageSchema, []arrow.Array{arr}, int64(n))
	defer msgs.Release()
	return l.appendRecord(ctx, msgs, tag, tagged)
}

// AppendRecords appends all rows of recs, in order, as one frame and
// returns the offset of the first. It is atomic like Append: one write,
// one fsync, all rows or none, and no reader sees them before the fsync.
// Every record's columns must have the log's column types (names may
// differ): otherwise it fails with SQLSTATE 42804 before writing
// anything, as it does (22001) for a text value longer than its VARCHAR
// column allows. Records without rows are skipped; appending no rows
// returns the latest offset. recs are not released. A json log stores
// each row as a JSON message (JSONEncoder).
func (l *Log) AppendRecords(ctx context.Context, recs []arrow.Record) (first int64, err error) {
	return l.appendRecords(ctx, recs, 0, false)
}

// AppendRecordsTagged is AppendRecords that also stores tag in the frame,
// atomically with the rows: once it returns, LastTag reports tag (until a
// later tagged append), also after a restart; after a crash either the
// rows and the tag are both in the log or neither is. A stream's log sink
// tags each append with its batch id, so recovery can tell whether batch
// N reached the log (LastTag() >= N) and skip appending it again. Appending
// no rows writes nothing and records no tag: the batch re-run after a
// crash has no rows to append either.
//
// Tags are the appender's business: the log neither orders nor checks
// them, and a log with more than one tagging appender reports the tag of
// whichever appended last.
func (l *Log) AppendRecordsTagged(ctx context.Context, recs []arrow.Record, tag int64) (first int64, err error) {
	return l.appendRecords(ctx, recs, tag, true)
}

// LastTag returns the tag of the newest frame that has one
// (AppendRecordsTagged); ok is false if no frame the log holds has a tag.
// Untagged appends (Append, AppendRecords) do not hide it: after tagged
// append T and then untagged ones, LastTag is still T. After OpenLog it is
// the newest tag that survived recovery (a torn tagged frame is cut off
// with its tag). Retention deletes a segment holding the newest tag only
// when a newer segment holds rows, so a log whose appends are all tagged
// always reports the tag of its last append.
func (l *Log) LastTag() (tag int64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.segs) - 1; i >= 0; i-- {
		if l.segs[i].tagged {
			return l.segs[i].tag, true
		}
	}
	return 0, false
}

func (l *Log) appendRecords(ctx context.Context, recs []arrow.Record, tag int64, tagged bool) (first int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var total int64
	var nonEmpty []arrow.Record
	for i, rec := range recs {
		if err := l.checkRecord(rec); err != nil {
			return 0, fmt.Errorf("append to log %s: record %d: %w", l.name, i, err)
		}
		if rec.NumRows() > 0 {
			total += rec.NumRows()
			nonEmpty = append(nonEmpty, rec)
		}
	}
	switch {
	case total == 0:
		return l.latestOffset(), nil
	case total > maxFrameRows:
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded, "append to log %s: %d rows in one append, the limit is %d", l.name, total, maxFrameRows)
	}
	rec, err := l.joinRecords(nonEmpty, total)
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", l.name, err)
	}
	defer rec.Release()
	return l.appendRows(ctx, rec, tag, tagged)
}

// checkRecord checks that rec's columns have the log's types and that its
// text values fit their VARCHAR widths.
func (l *Log) checkRecord(rec arrow.Record) error {
	if got, want := int(rec.NumCols()), len(l.cols); got != want {
		return sqlerr.New(sqlerr.DatatypeMismatch, "the record has %d columns, the log has %d", got, want)
	}
	for c, col := range l.cols {
		arr := rec.Column(c)
		if !arrow.TypeEqual(arr.DataType(), l.schema.Field(c).Type) {
			return sqlerr.New(sqlerr.DatatypeMismatch, "column %d (%s) of the record has Arrow type %s, but column %s of the log is %s (Arrow type %s)",
				c+1, rec.ColumnName(c), arr.DataType(), col.Name, col.Type, l.schema.Field(c).Type)
		}
		if col.Type.Kind != sqltypes.KindText || col.Type.Width <= 0 {
			continue
		}
		strs := arr.(*array.String)
		for i := range strs.Len() {
			if s := strs.Value(i); strs.IsValid(i) && len(s) > col.Type.Width && utf8.RuneCountInString(s) > col.Type.Width {
				return sqlerr.New(sqlerr.StringDataRightTruncation, "row %d: value too long for type %s of column %s", i, col.Type, col.Name)
			}
		}
	}
	return nil
}

// joinRecords returns recs (all with rows, total in all) as one record of
// the log's schema; the caller releases it.
func (l *Log) joinRecords(recs []arrow.Record, total int64) (arrow.Record, error) {
	if len(recs) == 1 {
		return array.NewRecord(l.schema, recs[0].Columns(), total), nil
	}
	cols := make([]arrow.Array, len(l.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	arrs := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			arrs[i] = r.Column(c)
		}
		var err error
		if cols[c], err = array.Concatenate(arrs, l.alloc); err != nil {
			return nil, fmt.Errorf("concatenate records: %w", err)
		}
	}
	return array.NewRecord(l.schema, cols, total), nil
}

// buildRecord converts rows to a record of the log's schema; the caller
// releases it.
func (l *Log) buildRecord(rows [][]any) (arrow.Record, error) {
	bld := array.NewRecordBuilder(l.alloc, l.schema)
	defer bld.Release()
	bld.Reserve(len(rows))
	for r, row := range rows {
		if len(row) != len(l.cols) {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "row %d has %d values, want %d", r, len(row), len(l.cols))
		}
		for c, v := range row {
			col := l.cols[c]
			if s, ok := v.(string); ok && col.Type.Kind == sqltypes.KindText && col.Type.Width > 0 && utf8.RuneCountInString(s) > col.Type.Width {
				return nil, sqlerr.New(sqlerr.StringDataRightTruncation, "row %d: value too long for type %s of column %s", r, col.Type, col.Name)
			}
			if err := expr.AppendValue(bld.Field(c), v); err != nil {
				return nil, fmt.Errorf("row %d column %s: %w", r, col.Name, err)
			}
		}
	}
	return bld.NewRecord(), nil
}

// latestOffset returns the offset the next appended row gets.
func (l *Log) latestOffset() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latest
}

// appendRecord writes rec, a record of the frames' schema (l.frameSchema)
// with at least one and at most maxFrameRows rows, as one frame (with tag
// if tagged): the part of the appends after their conversions. It encodes
// outside the write lock, then writes, fsyncs, publishes the frame to
// readers and applies retention.
func (l *Log) appendRecord(ctx context.Context, rec arrow.Record, tag int64, tagged bool) (first int64, err error) {
	frame, err := l.encode(rec, tagged)
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", l.name, err)
	}
	rows := rec.NumRows()
	word := uint32(rows)
	if tagged {
		binary.LittleEndian.PutUint64(frame[frameHeader:], uint64(tag))
		word |= flagTagged
	}
	bodyCRC := crc32.Checksum(frame[frameHeader:], crcTable)

	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return 0, sqlerr.New(sqlerr.IOError, "append to log %s: log is closed", l.name)
	}
	if l.failed != nil {
		return 0, sqlerr.New(sqlerr.IOError, "append to log %s: an earlier write failed: %w", l.name, l.failed)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	seg := l.segs[len(l.segs)-1]
	l.mu.Unlock()
	if seg.size >= l.opts.SegmentBytes && len(seg.frames) > 0 {
		if err := l.roll(seg.end); err != nil {
			return 0, err
		}
		l.mu.Lock()
		seg = l.segs[len(l.segs)-1]
		l.mu.Unlock()
	}
	first = seg.end
	at := l.now().UnixNano()
	binary.LittleEndian.PutUint32(frame[0:], uint32(len(frame)-frameHeader))
	binary.LittleEndian.PutUint64(frame[8:], uint64(first))
	binary.LittleEndian.PutUint32(frame[16:], word)
	binary.LittleEndian.PutUint64(frame[20:], uint64(at))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Update(bodyCRC, crcTable, frame[8:frameHeader]))
	if _, err := l.active.WriteAt(frame, seg.size); err != nil {
		if terr := l.active.Truncate(seg.size); terr != nil {
			l.failed = terr
		}
		return 0, sqlerr.New(sqlerr.IOError, "append to log %s: %w", l.name, err)
	}
	if err := l.active.Sync(); err != nil {
		// After a failed fsync the page cache state is unknown: refuse
		// further writes rather than risk acknowledging lost data.
		l.failed = err
		return 0, sqlerr.New(sqlerr.IOError, "append to log %s: fsync: %w", l.name, err)
	}
	l.mu.Lock()
	last := &l.segs[len(l.segs)-1]
	if tagged {
		last.tagged, last.tag, last.tagFrame = true, tag, len(last.frames)
	}
	last.frames = append(last.frames, frameInfo{offset: first, rows: rows, pos: seg.size, size: int64(len(frame))})
	last.size += int64(len(frame))
	last.end += rows
	last.newest = max(last.newest, at)
	l.latest = last.end
	l.mu.Unlock()
	_ = l.enforceRetention()
	return first, nil
}

// encode builds the frame of rec, header (and tag, if tagged) left blank.
func (l *Log) encode(rec arrow.Record, tagged bool) ([]byte, error) {
	var buf bytes.Buffer
	if tagged {
		buf.Write(make([]byte, frameHeader+tagLen))
	} else {
		buf.Write(make([]byte, frameHeader))
	}
	w := ipc.NewWriter(&buf, ipc.WithSchema(l.frameSchema), ipc.WithAllocator(l.alloc))
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, fmt.Errorf("encode frame: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode frame: %w", err)
	}
	if buf.Len()-frameHeader > maxFrameBody {
		return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "append of %d bytes exceeds the %d byte frame limit", buf.Len()-frameHeader, maxFrameBody)
	}
	return buf.Bytes(), nil
}

// roll starts a new segment at offset base. wmu is held. No segment in
// the index starts at base, so a file already there is the leftover of a
// roll that failed: it is emptied and reused.
func (l *Log) roll(base int64) error {
	path := segmentPath(l.dir, base)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return sqlerr.New(sqlerr.IOError, "log %s: start segment: %w", l.name, err)
	}
	if err := f.Sync(); err == nil {
		err = syncDir(l.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return sqlerr.New(sqlerr.IOError, "log %s: start segment: %w", l.name, err)
	}
	// The old segment was fsynced by the append that wrote its last
	// frame: an error closing it loses nothing.
	_ = l.active.Close()
	l.active = f
	l.mu.Lock()
	l.segs = append(l.segs, segment{base: base, end: base, path: path})
	l.mu.Unlock()
	return nil
}

// EnforceRetention deletes the oldest segments that are entirely beyond
// the retention limits (rows or age). The active (last) segment is never
// deleted, nor the newest segment that holds rows (the one before an
// active segment still empty), so the newest rows, and with them the
// newest tag of a log whose appends are all tagged, always survive.
// Append does this too.
func (l *Log) EnforceRetention(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return sqlerr.New(sqlerr.IOError, "log %s: log is closed", l.name)
	}
	return l.enforceRetention()
}

// enforceRetention is EnforceRetention with wmu held.
//
// A segment leaves the index (readers see the new Earliest at once)
// before its file is removed. If the removal fails, the file is kept in
// l.orphan and removed first on the next call; until then no newer
// segment is deleted, so the files on disk stay contiguous and OpenLog
// never finds a gap left by retention (the orphan simply comes back as
// the oldest segment after a restart).
func (l *Log) enforceRetention() error {
	if l.orphan != "" {
		if err := removeSegment(l.orphan, l.dir); err != nil {
			return sqlerr.New(sqlerr.IOError, "log %s: delete segment: %w", l.name, err)
		}
		l.orphan = ""
	}
	if l.opts.RetentionRows <= 0 && l.opts.RetentionAge <= 0 {
		return nil
	}
	now := l.now().UnixNano()
	for {
		l.mu.Lock()
		if len(l.segs) < 2 {
			l.mu.Unlock()
			return nil
		}
		old := l.segs[0]
		if !slices.ContainsFunc(l.segs[1:], func(s segment) bool { return len(s.frames) > 0 }) {
			// The newest rows (and the newest tag) are in old: the active
			// segment is still empty (a roll whose first append failed,
			// or a crash right after a roll).
			l.mu.Unlock()
			return nil
		}
		expired := (l.opts.RetentionRows > 0 && old.end <= l.latest-l.opts.RetentionRows) ||
			(l.opts.RetentionAge > 0 && len(old.frames) > 0 && now-old.newest > int64(l.opts.RetentionAge))
		if !expired {
			l.mu.Unlock()
			return nil
		}
		// Readers that start now see the new earliest offset; readers
		// that already hold the file open finish their read.
		l.segs = append([]segment(nil), l.segs[1:]...)
		l.mu.Unlock()
		if err := removeSegment(old.path, l.dir); err != nil {
			l.orphan = old.path
			return sqlerr.New(sqlerr.IOError, "log %s: delete segment: %w", l.name, err)
		}
	}
}

// removeSegment deletes a segment file and makes the deletion durable.
func removeSegment(path, dir string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(dir)
}

// Read implements Source. It opens only the segments the range touches and
// finds the first frame by binary search in the in-memory index; every
// frame's CRC is checked again as it is read. A json log decodes its
// messages into the declared columns and leaves out those that do not
// decode (ReadWithBad returns them too).
func (l *Log) Read(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, error) {
	recs, _, err := l.ReadWithBad(ctx, mem, start, end, maxRows)
	return recs, err
}

// ReadWithBad implements BadRecordReader: Read, and the messages of the
// range that did not decode, in offset order (partition 0, the message's
// offset, the decoder's error, Value a copy of the message, Key nil).
// A log of format 'arrow' has no bad records.
//
// A json log decodes on up to GOMAXPROCS goroutines (readJSON); the
// records, the bad records and the errors are those of decoding the
// messages one after the other.
func (l *Log) ReadWithBad(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, []BadRecord, error) {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return nil, nil, sqlerr.New(sqlerr.IOError, "read log %s: log is closed", l.name)
	}
	s, e, ok, err := singleRange(l.name, start, end, maxRows, l.segs[0].base, l.latest)
	var segs []segment
	if err == nil && ok {
		// Copy the entries of the segments the range touches: appends and
		// retention replace entries, but never change the frames a copy
		// holds.
		i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].end > s })
		j := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base >= e })
		segs = append(segs, l.segs[i:j]...)
	}
	l.mu.Unlock()
	if err != nil || !ok {
		return nil, nil, err
	}
	if l.json {
		recs, bad, err := l.readJSON(ctx, mem, segs, s, e, maxRows)
		if err != nil {
			return nil, nil, l.readError(ctx, err, s, e)
		}
		return recs, bad, nil
	}
	r := &logRead{b: batcher{mem: mem, schema: l.schema, maxRows: maxRows}}
	for i := range segs {
		if err := l.readSegment(ctx, mem, &segs[i], s, e, r); err != nil {
			r.b.release()
			return nil, nil, l.readError(ctx, err, s, e)
		}
	}
	recs, err := r.b.finish()
	if err != nil {
		return nil, nil, err
	}
	return recs, nil, nil
}

// readError is the error of a read of [s, e) that failed with err: a
// segment file that is gone was deleted by retention after the read took
// its snapshot of the index.
func (l *Log) readError(ctx context.Context, err error, s, e int64) error {
	if errors.Is(err, fs.ErrNotExist) {
		earliest, _ := l.Earliest(ctx)
		return errOffsetsDeleted(l.name, 0, s, e, earliest[0])
	}
	return err
}

// logRead is the state of one pass over the frames of a Read: the
// records gathered so far (an arrow log), or what takes each frame's
// messages (a json log).
type logRead struct {
	b   batcher
	buf []byte // the frame being read

	// json takes the messages of a frame that lie in the range, the
	// first of which has offset first; it does not keep msgs (it may
	// retain slices of it).
	json func(msgs arrow.Record, first int64) error
}

// jsonTaskMessages is about how many messages one task of a parallel
// json read decodes (see jsonTaskRows).
const jsonTaskMessages = 1 << 14

// errReadStopped ends the frame reader of a parallel json read that has
// failed; it never reaches the caller.
var errReadStopped = errors.New("read stopped")

// readJSON reads the messages of [s, e) from segs and decodes them into
// records of at most maxRows rows, and the bad records, in offset order.
//
// The range is cut into tasks of jsonTaskRows consecutive messages (a
// task may span frames). With more than one task and more than one
// GOMAXPROCS, one goroutine reads the frames and cuts the tasks (checking
// every CRC, as an arrow read does), up to GOMAXPROCS workers decode
// tasks with a JSONDecoder each, and the caller gathers the tasks' records
// and bad records in task order, so the result is that of decoding the
// messages one after the other: good rows in offset order cut into
// records of maxRows (a task's records are whole records of maxRows but
// its last; the batcher joins pieces across tasks, which copies only where
// bad messages have shifted the rows), bad records in offset order, and
// the first error in offset order (a read error ends the tasks, and a
// task cannot fail). About two tasks per worker are in flight, so the
// frames held are a small window of the range. On an error or a
// cancelled ctx every goroutine is stopped and waited for, and every
// record released, before readJSON returns.
//
// Otherwise (one task, or GOMAXPROCS 1) the caller decodes each frame's
// messages as it reads them, with one decoder and one builder, as reads
// always did.
func (l *Log) readJSON(ctx context.Context, mem memory.Allocator, segs []segment, s, e int64, maxRows int) ([]arrow.Record, []BadRecord, error) {
	taskRows := l.jsonTaskRows(maxRows)
	workers := l.readWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = int(min(int64(workers), (e-s+int64(taskRows)-1)/int64(taskRows)))
	if workers <= 1 {
		return l.readJSONSerial(ctx, mem, segs, s, e, maxRows)
	}
	return l.readJSONParallel(ctx, mem, segs, s, e, maxRows, taskRows, workers)
}

// jsonTaskRows is how many messages one task decodes: a multiple of
// maxRows up to jsonTaskMessages (or l.readTaskRows), so that without bad
// messages every task yields whole records and nothing is copied to join
// them; jsonTaskMessages itself when maxRows is larger.
func (l *Log) jsonTaskRows(maxRows int) int {
	t := l.readTaskRows
	if t <= 0 {
		t = jsonTaskMessages
	}
	if maxRows <= t {
		return t / maxRows * maxRows
	}
	return t
}

// readJSONSerial is readJSON on the caller's goroutine.
func (l *Log) readJSONSerial(ctx context.Context, mem memory.Allocator, segs []segment, s, e int64, maxRows int) ([]arrow.Record, []BadRecord, error) {
	w, err := l.newJSONWorker(mem, maxRows)
	if err != nil {
		return nil, nil, err
	}
	defer w.rb.Release()
	w.start(e - s)
	r := &logRead{b: batcher{mem: mem, schema: l.schema, maxRows: maxRows}}
	r.json = func(msgs arrow.Record, first int64) error {
		w.decode(msgs, first)
		recs := w.recs
		w.recs = w.recs[:0]
		return addRecords(&r.b, recs)
	}
	for i := range segs {
		if err := l.readSegment(ctx, mem, &segs[i], s, e, r); err != nil {
			r.b.release()
			return nil, nil, err
		}
	}
	w.flush()
	if err := addRecords(&r.b, w.recs); err != nil {
		return nil, nil, err
	}
	recs, err := r.b.finish()
	if err != nil {
		return nil, nil, err
	}
	return recs, w.bad, nil
}

// addRecords hands recs to b in order; on an error it releases what b
// has not taken, and b.
func addRecords(b *batcher, recs []arrow.Record) error {
	for i, rec := range recs {
		if err := b.add(rec); err != nil {
			releaseRecords(recs[i+1:])
			b.release()
			return err
		}
	}
	return nil
}

func releaseRecords(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// jsonTask is a run of consecutive messages of a parallel json read.
type jsonTask struct {
	pieces []arrow.Record // the messages: slices of frame records, in order
	firsts []int64        // the offset of each piece's first message
	n      int            // messages in pieces

	// err ends the read: the frame reader failed after the tasks before
	// this one. Such a task has no messages and is not decoded.
	err error

	// Set by the worker before done is closed.
	recs []arrow.Record // the decoded rows: records of maxRows rows but the last
	bad  []BadRecord
	done chan struct{}
}

// release drops the task's records (on an error path).
func (t *jsonTask) release() {
	releaseRecords(t.pieces)
	releaseRecords(t.recs)
	t.pieces, t.recs = nil, nil
}

// readJSONParallel is readJSON on workers goroutines, plus one reading
// the frames; the caller gathers.
func (l *Log) readJSONParallel(ctx context.Context, mem memory.Allocator, segs []segment, s, e int64, maxRows, taskRows, workers int) ([]arrow.Record, []BadRecord, error) {
	ws := make([]*jsonWorker, 0, workers)
	defer func() {
		for _, w := range ws {
			w.rb.Release()
		}
	}()
	for range workers {
		w, err := l.newJSONWorker(mem, maxRows)
		if err != nil {
			return nil, nil, err
		}
		ws = append(ws, w)
	}

	// order holds the tasks in offset order, for the gatherer; its
	// capacity bounds the tasks in flight (and with them the frames held:
	// two tasks a worker keep the workers busy, more only cost memory). A
	// task goes into order and then into work: every task in work is in
	// order or the one the gatherer waits for, so work never fills and
	// that send never blocks.
	window := 2 * workers
	order := make(chan *jsonTask, window)
	work := make(chan *jsonTask, window+1)
	stop := make(chan struct{}) // closed when the read has failed
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				select {
				case <-stop:
					t.release()
				default:
					w.run(t)
				}
				close(t.done)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(order)
		l.cutJSONTasks(ctx, mem, segs, s, e, taskRows, order, work, stop)
	}()

	b := batcher{mem: mem, schema: l.schema, maxRows: maxRows}
	var bad []BadRecord
	fail := func(held *jsonTask, err error) ([]arrow.Record, []BadRecord, error) {
		close(stop)
		wg.Wait()
		if held != nil {
			held.release()
		}
		for t := range order {
			t.release()
		}
		b.release()
		return nil, nil, err
	}
	for {
		var t *jsonTask
		var ok bool
		select {
		case t, ok = <-order:
		case <-ctx.Done():
			return fail(nil, ctx.Err())
		}
		if !ok {
			break
		}
		if t.err != nil {
			return fail(nil, t.err)
		}
		select {
		case <-t.done:
		case <-ctx.Done():
			return fail(t, ctx.Err())
		}
		bad = append(bad, t.bad...)
		recs := t.recs
		t.recs = nil
		if err := addRecords(&b, recs); err != nil {
			return fail(nil, err)
		}
	}
	// The reader has sent every task and closed work, and every task is
	// done: the workers are leaving.
	wg.Wait()
	recs, err := b.finish()
	if err != nil {
		return nil, nil, err
	}
	return recs, bad, nil
}

// cutJSONTasks reads the frames of [s, e) and sends their messages, in
// tasks of taskRows (the last may be shorter), to order and then work;
// if reading fails, a task holding the error follows the tasks before
// it. It returns when done, or soon after stop is closed, having released
// every task it did not send.
func (l *Log) cutJSONTasks(ctx context.Context, mem memory.Allocator, segs []segment, s, e int64, taskRows int, order, work chan<- *jsonTask, stop <-chan struct{}) {
	send := func(t *jsonTask) bool {
		select {
		case order <- t:
			if t.err == nil {
				work <- t
			}
			return true
		case <-stop:
			return false
		}
	}
	cur := &jsonTask{done: make(chan struct{})}
	r := &logRead{}
	r.json = func(msgs arrow.Record, first int64) error {
		select {
		case <-stop:
			return errReadStopped
		default:
		}
		rows := msgs.NumRows()
		for lo := int64(0); lo < rows; {
			take := min(rows-lo, int64(taskRows-cur.n))
			cur.pieces = append(cur.pieces, msgs.NewSlice(lo, lo+take))
			cur.firsts = append(cur.firsts, first+lo)
			cur.n += int(take)
			lo += take
			if cur.n == taskRows {
				if !send(cur) {
					return errReadStopped
				}
				cur = &jsonTask{done: make(chan struct{})}
			}
		}
		return nil
	}
	var err error
	for i := range segs {
		if err = l.readSegment(ctx, mem, &segs[i], s, e, r); err != nil {
			break
		}
	}
	switch {
	case err == nil && cur.n > 0:
		if !send(cur) {
			cur.release()
		}
	case err == nil:
	default:
		cur.release()
		if err != errReadStopped {
			send(&jsonTask{err: err})
		}
	}
}

// jsonWorker decodes messages with its own decoder (a JSONDecoder is not
// safe for concurrent use) into its own builder.
type jsonWorker struct {
	dec     *JSONDecoder
	rb      *array.RecordBuilder
	bs      []array.Builder
	maxRows int
	left    int64          // messages still to decode, to size the builder
	recs    []arrow.Record // the records made so far: maxRows rows each, but flush's
	bad     []BadRecord
}

func (l *Log) newJSONWorker(mem memory.Allocator, maxRows int) (*jsonWorker, error) {
	dec, err := NewJSONDecoder(l.schema.Fields())
	if err != nil {
		return nil, err
	}
	for i, c := range l.cols {
		if c.Type.Kind == sqltypes.KindText && c.Type.Width > 0 {
			dec.SetTextWidth(i, c.Type.Width)
		}
	}
	rb := array.NewRecordBuilder(mem, l.schema)
	return &jsonWorker{dec: dec, rb: rb, bs: rb.Fields(), maxRows: maxRows}, nil
}

// start prepares the (empty) builder for n messages.
func (w *jsonWorker) start(n int64) {
	w.left = n
	w.rb.Reserve(int(min(n, int64(w.maxRows))))
}

// decode decodes msgs, the first of which has offset first: the rows go
// to the builder, which becomes a record in w.recs whenever it holds
// maxRows rows, and the messages that do not decode to w.bad.
func (w *jsonWorker) decode(msgs arrow.Record, first int64) {
	col := msgs.Column(0).(*array.Binary)
	for i := range col.Len() {
		msg := col.Value(i)
		w.left--
		if err := w.dec.Decode(msg, w.bs); err != nil {
			w.bad = append(w.bad, BadRecord{Partition: 0, Offset: first + int64(i), Err: err.Error(), Value: bytes.Clone(msg)})
			continue
		}
		if w.bs[0].Len() == w.maxRows {
			w.recs = append(w.recs, w.rb.NewRecord())
			w.rb.Reserve(int(min(w.left, int64(w.maxRows))))
		}
	}
}

// flush makes the rows left in the builder a record.
func (w *jsonWorker) flush() {
	if w.bs[0].Len() > 0 {
		w.recs = append(w.recs, w.rb.NewRecord())
	}
}

// run decodes task t: its records and bad records go into t, its pieces
// are released.
func (w *jsonWorker) run(t *jsonTask) {
	w.start(int64(t.n))
	for i, p := range t.pieces {
		w.decode(p, t.firsts[i])
		p.Release()
	}
	t.pieces = nil
	w.flush()
	t.recs, t.bad = w.recs, w.bad
	w.recs, w.bad = nil, nil
}

func (l *Log) readSegment(ctx context.Context, mem memory.Allocator, seg *segment, s, e int64, r *logRead) error {
	f, err := os.Open(seg.path)
	if err != nil {
		// Read tells a missing file (retention) by errors.Is.
		return sqlerr.New(sqlerr.IOError, "read log %s: %w", l.name, err)
	}
	defer f.Close()
	i := sort.Search(len(seg.frames), func(i int) bool {
		fr := seg.frames[i]
		return fr.offset+fr.rows > s
	})
	for ; i < len(seg.frames) && seg.frames[i].offset < e; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		fr := seg.frames[i]
		r.buf = grow(r.buf, int(fr.size))
		buf := r.buf
		if _, err := f.ReadAt(buf, fr.pos); err != nil {
			return sqlerr.New(sqlerr.IOError, "read log %s: %w", l.name, err)
		}
		if frameCRC(buf[frameHeader:], buf[8:]) != binary.LittleEndian.Uint32(buf[4:]) ||
			int64(binary.LittleEndian.Uint64(buf[8:])) != fr.offset {
			return sqlerr.New(sqlerr.DataCorrupted, "read log %s: segment %s is corrupt at byte %d: checksum mismatch",
				l.name, filepath.Base(seg.path), fr.pos)
		}
		body := buf[frameHeader:]
		if _, tagged := rowsWord(buf[16:]); tagged {
			if len(body) <= tagLen {
				return sqlerr.New(sqlerr.DataCorrupted, "read log %s: segment %s is corrupt at byte %d: a tagged frame without a record",
					l.name, filepath.Base(seg.path), fr.pos)
			}
			body = body[tagLen:]
		}
		rec, err := l.decode(mem, body, seg, fr.pos)
		if err != nil {
			return err
		}
		if rec.NumRows() != fr.rows {
			rec.Release()
			return sqlerr.New(sqlerr.DataCorrupted, "read log %s: segment %s at byte %d: frame holds %d rows, header says %d",
				l.name, filepath.Base(seg.path), fr.pos, rec.NumRows(), fr.rows)
		}
		lo, hi := max(s, fr.offset)-fr.offset, min(e, fr.offset+fr.rows)-fr.offset
		if lo != 0 || hi != fr.rows {
			part := rec.NewSlice(lo, hi)
			rec.Release()
			rec = part
		}
		if l.json {
			err = r.json(rec, fr.offset+lo)
			rec.Release()
		} else {
			err = r.b.add(rec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decode reads the one record of a frame body (of the frame at pos of
// seg); the caller releases it. A record of the other format's schema
// means the log was opened with the wrong format: 42804.
func (l *Log) decode(mem memory.Allocator, body []byte, seg *segment, pos int64) (arrow.Record, error) {
	corrupt := func(err error) error {
		return sqlerr.New(sqlerr.DataCorrupted, "read log %s: segment %s at byte %d: %w", l.name, filepath.Base(seg.path), pos, err)
	}
	r, err := ipc.NewReader(bytes.NewReader(body), ipc.WithAllocator(mem))
	if err != nil {
		return nil, corrupt(err)
	}
	defer r.Release()
	if got := r.Schema(); !got.Equal(l.frameSchema) {
		switch {
		case l.json && got.Equal(l.schema):
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "read log %s: segment %s at byte %d holds Arrow records of the columns (format 'arrow'), but the log is opened with format 'json'",
				l.name, filepath.Base(seg.path), pos)
		case !l.json && got.Equal(messageSchema):
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "read log %s: segment %s at byte %d holds JSON messages (format 'json'), but the log is opened with format 'arrow'",
				l.name, filepath.Base(seg.path), pos)
		}
		return nil, corrupt(fmt.Errorf("the frame's schema is %s, want %s", got, l.frameSchema))
	}
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, corrupt(err)
		}
		return nil, corrupt(errors.New("frame holds no record batch"))
	}
	rec := r.Record()
	rec.Retain()
	return rec, nil
}

// Close implements Source. Reads in flight finish; later calls fail.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.mu.Lock()
	l.shut = true
	l.mu.Unlock()
	if err := l.active.Close(); err != nil {
		return sqlerr.New(sqlerr.IOError, "close log %s: %w", l.name, err)
	}
	return nil
}
