package catalog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// The write-ahead log is a sequence of segment files wal-<seq>.log. A
// segment starts with a 16-byte header (segMagic, then seq as a
// little-endian uint64) followed by frames:
//
//	uint32 length of body, little-endian
//	uint32 CRC-32C of body, little-endian
//	body: records, each a uvarint length and a payload (see walrec.go)
//
// A record is one committed statement or DDL. A frame is one group
// commit: the records of every commit that waited for the same fsync.
// Commits are grouped so: append only buffers a record and gives it a log
// sequence number (LSN); waitDurable makes the first waiter the leader,
// who writes everything buffered so far as one frame and fsyncs once for
// all of it, while later arrivals buffer behind it for the next leader.
//
// Because a frame is written only after the previous one is fsynced, a
// crash can tear only the last frame; a bad frame followed by a good one
// is corruption. A segment is completed and fsynced before the next one is
// created, so only the last segment may end in a torn frame.

const (
	segMagic     = "SLCWAL01"
	segHeaderLen = 16
	frameHeader  = 8
	maxRecord    = 1 << 30
	maxFrame     = 1<<32 - 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func segName(seq uint64) string { return fmt.Sprintf("wal-%020d.log", seq) }

type wal struct {
	dir string

	mu         sync.Mutex
	cond       *sync.Cond
	f          *os.File // the current segment, opened for appending
	seq        uint64   // the current segment's number
	buf        []byte   // the next frame: a reserved header, then records not yet written
	spare      []byte
	bufRecords int
	appended   uint64 // LSN of the last appended record
	durable    uint64 // LSN up to which records are written and fsynced
	syncing    bool   // a leader is writing; only one at a time
	closed     bool
	err        error // sticky: after a failed write or fsync nothing more is accepted
	segBytes   int64 // size of the current segment including the buffered frame
	segRecords int   // records in the current segment including buffered ones
}

func newWAL(dir string, f *os.File, seq uint64, size int64, records int) *wal {
	w := &wal{dir: dir, f: f, seq: seq, segBytes: size, segRecords: records}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func walError(op string, err error) error {
	return sqlerr.New(sqlerr.IOError, "write-ahead log: %s: %w", op, err)
}

// append buffers one record and returns its LSN. The record is durable
// once waitDurable(lsn) returns nil.
func (w *wal) append(payload []byte) (uint64, error) {
	if len(payload) > maxRecord {
		return 0, sqlerr.New(sqlerr.ProgramLimitExceeded,
			"statement is too large for the write-ahead log (%d bytes, at most %d)", len(payload), maxRecord)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errClosed()
	}
	n := len(w.buf)
	if n == 0 {
		w.buf = append(w.buf, make([]byte, frameHeader)...)
	}
	w.buf = binary.AppendUvarint(w.buf, uint64(len(payload)))
	w.buf = append(w.buf, payload...)
	w.bufRecords++
	w.segBytes += int64(len(w.buf) - n)
	w.segRecords++
	w.appended++
	return w.appended, nil
}

// waitDurable returns once the record with the given LSN is written and
// fsynced, writing it itself if no other goroutine is.
func (w *wal) waitDurable(lsn uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.durable < lsn {
		if w.err != nil {
			return w.err
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		data, target, f := w.takeBuffer()
		w.mu.Unlock()
		err := writeFrame(f, data)
		w.mu.Lock()
		w.giveBack(data)
		w.syncing = false
		if err != nil {
			w.err = walError("write", err)
		} else {
			w.durable = target
		}
		w.cond.Broadcast()
	}
	return nil
}

// takeBuffer makes the caller the leader and hands it the buffered frame.
// w.mu must be held.
func (w *wal) takeBuffer() (data []byte, target uint64, f *os.File) {
	w.syncing = true
	data, target, f = w.buf, w.appended, w.f
	w.buf, w.spare = w.spare[:0], nil
	w.bufRecords = 0
	return data, target, f
}

// giveBack keeps a written buffer for reuse unless it grew large.
func (w *wal) giveBack(data []byte) {
	if cap(data) <= 1<<20 {
		w.spare = data[:0]
	}
}

// writeFrame fills in the frame header reserved at the start of data,
// writes the frame and fsyncs. Empty data only fsyncs.
func writeFrame(f *os.File, data []byte) error {
	if len(data) > 0 {
		body := data[frameHeader:]
		if len(body) > maxFrame {
			return fmt.Errorf("group commit of %d bytes exceeds the frame limit", len(body))
		}
		binary.LittleEndian.PutUint32(data[0:], uint32(len(body)))
		binary.LittleEndian.PutUint32(data[4:], crc32.Checksum(body, crcTable))
	}
	return writeSync(f, data)
}

func writeSync(f *os.File, data []byte) error {
	if len(data) > 0 {
		if _, err := f.Write(data); err != nil {
			return err
		}
	}
	return f.Sync()
}

// flush makes everything appended so far durable.
func (w *wal) flush() error {
	w.mu.Lock()
	lsn := w.appended
	w.mu.Unlock()
	return w.waitDurable(lsn)
}

// rotate makes everything appended so far durable in the current segment
// and starts a new one; records appended from now on go to the new
// segment. It returns the new segment's number. If the new segment cannot
// be created, the log stays usable in the current segment.
func (w *wal) rotate() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.syncing {
		w.cond.Wait()
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errClosed()
	}
	data, target, f := w.takeBuffer()
	seq := w.seq
	w.mu.Unlock()
	err := writeFrame(f, data)
	var nf *os.File
	var cerr error
	if err == nil {
		nf, cerr = createSegment(w.dir, seq+1)
	}
	w.mu.Lock()
	w.giveBack(data)
	w.syncing = false
	defer w.cond.Broadcast()
	if err != nil {
		w.err = walError("write", err)
		return 0, w.err
	}
	w.durable = target
	if cerr != nil {
		return 0, walError("create segment", cerr)
	}
	_ = f.Close() // fsynced above; a close error cannot lose data
	w.f, w.seq = nf, seq+1
	w.segBytes = segHeaderLen + int64(len(w.buf))
	w.segRecords = w.bufRecords
	return w.seq, nil
}

// size returns the bytes and records in the current segment.
func (w *wal) size() (int64, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.segBytes, w.segRecords
}

// currentSeq returns the current segment's number.
func (w *wal) currentSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// close flushes and closes the log. It is safe to call twice.
func (w *wal) close() error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return nil
	}
	ferr := w.flush()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	cerr := w.f.Close()
	if ferr != nil {
		return ferr
	}
	if cerr != nil {
		return walError("close", cerr)
	}
	return nil
}

// createSegment creates segment seq with its header and makes it and its
// directory entry durable.
func createSegment(dir string, seq uint64) (*os.File, error) {
	path := filepath.Join(dir, segName(seq))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	var hdr [segHeaderLen]byte
	copy(hdr[:], segMagic)
	binary.LittleEndian.PutUint64(hdr[8:], seq)
	if err := writeSync(f, hdr[:]); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// syncDir makes renames and file creations in dir durable.
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
