package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// A snapshot file (state-<batch>.arrow, table-<name>-<version>.arrow) is an
// Arrow IPC file followed by a 32-byte trailer, little-endian:
//
//	0  uint64 length of the Arrow IPC file (everything before the trailer)
//	8  uint64 tag: the batch or version the file is named for
//	16 uint32 CRC-32C of the Arrow IPC file
//	20 uint32 CRC-32C of trailer bytes 0..20
//	24 8 bytes "SLCSNAP1"
//
// It is written as <name>.tmp, fsynced, renamed and the directory fsynced,
// so it appears whole or not at all; a file that fails the trailer checks
// was damaged after it was written.

const (
	trailerLen   = 32
	trailerMagic = "SLCSNAP1"
)

// crcWriter checksums and counts what passes through it. Its Seek only
// reports the position, which is all the Arrow IPC file writer asks of it.
type crcWriter struct {
	w   io.Writer
	n   int64
	crc uint32
}

func (w *crcWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.crc = crc32.Update(w.crc, crcTable, p[:n])
	w.n += int64(n)
	return n, err
}

func (w *crcWriter) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("crcWriter: only Seek(0, io.SeekCurrent) is supported")
	}
	return w.n, nil
}

// checkRecords reports a record whose schema is not schema.
func checkRecords(schema *arrow.Schema, recs []arrow.Record) error {
	if schema == nil {
		return errors.New("no schema")
	}
	for i, r := range recs {
		if r == nil {
			return fmt.Errorf("record %d is nil", i)
		}
		if !r.Schema().Equal(schema) {
			return fmt.Errorf("record %d has schema %s, want %s", i, r.Schema(), schema)
		}
	}
	return nil
}

// writeArrowFile atomically writes dir/name holding schema and recs with a
// trailer tagged tag, and returns the file's size.
func writeArrowFile(dir, name string, tag uint64, schema *arrow.Schema, recs []arrow.Record) (size int64, err error) {
	tmp := filepath.Join(dir, name+tmpSuffix)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &crcWriter{w: bw}
	fw, err := ipc.NewFileWriter(cw, ipc.WithSchema(schema))
	if err != nil {
		return 0, err
	}
	for _, r := range recs {
		if err := fw.Write(r); err != nil {
			return 0, err
		}
	}
	if err := fw.Close(); err != nil {
		return 0, err
	}
	var tr [trailerLen]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(cw.n))
	binary.LittleEndian.PutUint64(tr[8:], tag)
	binary.LittleEndian.PutUint32(tr[16:], cw.crc)
	binary.LittleEndian.PutUint32(tr[20:], crc32.Checksum(tr[:20], crcTable))
	copy(tr[24:], trailerMagic)
	if _, err := bw.Write(tr[:]); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return 0, err
	}
	return cw.n + trailerLen, syncDir(dir)
}

// readArrowFile reads a file written by writeArrowFile with the given tag.
// Records are allocated from mem and belong to the caller. A file that fails
// its checks gives an error wrapping errDamaged; one that cannot be read,
// an *os.PathError.
func readArrowFile(path string, tag uint64, mem memory.Allocator) (*arrow.Schema, []arrow.Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	body, err := checkTrailer(data, tag)
	if err != nil {
		return nil, nil, err
	}
	return decodeIPC(body, mem)
}

// checkTrailer verifies data's trailer and returns the Arrow IPC file
// before it.
func checkTrailer(data []byte, tag uint64) ([]byte, error) {
	if len(data) < trailerLen {
		return nil, damaged("%d bytes is too short for a snapshot file", len(data))
	}
	tr := data[len(data)-trailerLen:]
	if string(tr[24:]) != trailerMagic {
		return nil, damaged("no trailer (truncated or not a snapshot file)")
	}
	if crc32.Checksum(tr[:20], crcTable) != binary.LittleEndian.Uint32(tr[20:]) {
		return nil, damaged("trailer checksum mismatch")
	}
	n := binary.LittleEndian.Uint64(tr[0:])
	if n != uint64(len(data)-trailerLen) {
		return nil, damaged("trailer says %d bytes of data, file has %d", n, len(data)-trailerLen)
	}
	if got := binary.LittleEndian.Uint64(tr[8:]); got != tag {
		return nil, damaged("trailer is tagged %d, file name says %d", got, tag)
	}
	body := data[:n]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(tr[16:]) {
		return nil, damaged("data checksum mismatch")
	}
	return body, nil
}

// decodeIPC reads an Arrow IPC file held in memory. The checksum has
// passed, so a failure here means the writer wrote something the reader
// does not understand; the IPC reader panics on some malformed input, which
// is turned into an error.
func decodeIPC(body []byte, mem memory.Allocator) (schema *arrow.Schema, recs []arrow.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = damaged("arrow ipc: %v", p)
		}
		if err != nil {
			for _, r := range recs {
				r.Release()
			}
			schema, recs = nil, nil
		}
	}()
	r, err := ipc.NewFileReader(bytes.NewReader(body), ipc.WithAllocator(mem))
	if err != nil {
		return nil, nil, damaged("arrow ipc: %v", err)
	}
	defer func() { _ = r.Close() }()
	recs = make([]arrow.Record, 0, r.NumRecords())
	for i := range r.NumRecords() {
		rec, err := r.RecordAt(i)
		if err != nil {
			return nil, recs, damaged("arrow ipc record %d: %v", i, err)
		}
		recs = append(recs, rec)
	}
	return r.Schema(), recs, nil
}
