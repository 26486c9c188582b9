package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// A log (the offsets log and the commit log) is an 8-byte magic followed by
// frames, one per record:
//
//	uint32 n, little-endian: length of body, 1 <= n <= maxRecord
//	uint32 CRC-32C of the 4 length bytes followed by body, little-endian
//	body: n bytes of JSON
//
// Records are appended one at a time, each fsynced before the append
// returns, so a crash can tear only the last frame. Open scans the frames
// and stops at the first one that is short, whose length runs past the end
// of the file or is out of range, or whose checksum fails. If no valid
// frame starts anywhere after that point, the rest is a torn tail and is cut
// off (the file is truncated); if one does, the damage is not at the tail
// and Open fails with XX001.

const (
	frameHeader = 8
	maxRecord   = 64 << 20
	magicLen    = 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends the frame of body to dst.
func appendFrame(dst, body []byte) []byte {
	var hdr [frameHeader]byte
	binary.LittleEndian.PutUint32(hdr[0:], uint32(len(body)))
	crc := crc32.Update(0, crcTable, hdr[0:4])
	crc = crc32.Update(crc, crcTable, body)
	binary.LittleEndian.PutUint32(hdr[4:], crc)
	dst = append(dst, hdr[:]...)
	return append(dst, body...)
}

// frameAt returns the body of the frame at data[off:] and whether that
// frame is whole and valid.
func frameAt(data []byte, off int) ([]byte, bool) {
	if len(data)-off < frameHeader {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(data[off:])
	if n == 0 || n > maxRecord || int64(n) > int64(len(data)-off-frameHeader) {
		return nil, false
	}
	body := data[off+frameHeader : off+frameHeader+int(n)]
	crc := crc32.Update(0, crcTable, data[off:off+4])
	crc = crc32.Update(crc, crcTable, body)
	return body, crc == binary.LittleEndian.Uint32(data[off+4:])
}

// scanFrames splits data (a log without its magic) into record bodies. It
// returns the bodies and the length of the valid prefix; a shorter valid
// prefix than len(data) is a torn tail to cut. Damage followed by a valid
// frame is an error wrapping errDamaged.
func scanFrames(data []byte) (bodies [][]byte, valid int, err error) {
	off := 0
	for off < len(data) {
		body, ok := frameAt(data, off)
		if !ok {
			for next := off + 1; next+frameHeader < len(data); next++ {
				if _, ok := frameAt(data, next); ok {
					return nil, 0, damaged("bad record at byte %d is followed by a valid record at byte %d", off+magicLen, next+magicLen)
				}
			}
			return bodies, off, nil
		}
		bodies = append(bodies, body)
		off += frameHeader + len(body)
	}
	return bodies, off, nil
}

// logFile is one append-only log, open for appending.
type logFile struct {
	path  string
	magic string
	f     *os.File
	size  int64
}

// openLog reads the log at dir/name, creating it if it does not exist and
// cutting a torn tail. It returns the record bodies and the number of bytes
// cut.
func openLog(dir, name, magic string) (*logFile, [][]byte, int64, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := replaceFile(dir, name, []byte(magic)); err != nil {
			return nil, nil, 0, ioError("create "+name, err)
		}
		data = []byte(magic)
	} else if err != nil {
		return nil, nil, 0, ioError("read "+name, err)
	}
	// The file is created whole by rename, so its magic is never torn.
	if len(data) < magicLen || string(data[:magicLen]) != magic {
		return nil, nil, 0, corrupted(path, errors.New("bad header"))
	}
	bodies, valid, err := scanFrames(data[magicLen:])
	if err != nil {
		return nil, nil, 0, corrupted(path, err)
	}
	size := int64(magicLen + valid)
	cut := int64(len(data)) - size
	if cut > 0 {
		if err := truncateSync(path, size); err != nil {
			return nil, nil, 0, ioError("cut torn tail of "+name, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, 0, ioError("open "+name, err)
	}
	// The bodies alias data, which nothing else holds; callers decode them.
	return &logFile{path: path, magic: magic, f: f, size: size}, bodies, cut, nil
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// append writes one record and fsyncs. On failure it tries to cut what it
// may have written, but the caller must treat the log as unusable: after a
// failed fsync the file's content is unknown until it is read again.
func (l *logFile) append(body []byte) error {
	if len(body) > maxRecord {
		return fmt.Errorf("record of %d bytes exceeds the limit of %d", len(body), maxRecord)
	}
	frame := appendFrame(make([]byte, 0, frameHeader+len(body)), body)
	_, err := l.f.Write(frame)
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		_ = l.f.Truncate(l.size)
		return err
	}
	l.size += int64(len(frame))
	return nil
}

// rewrite atomically replaces the log with one holding bodies, and reopens
// it for appending.
func (l *logFile) rewrite(bodies [][]byte) error {
	data := []byte(l.magic)
	for _, b := range bodies {
		data = appendFrame(data, b)
	}
	dir, name := filepath.Split(l.path)
	if err := replaceFile(dir, name, data); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_ = l.f.Close() // every append was fsynced; a close error cannot lose data
	l.f, l.size = f, int64(len(data))
	return nil
}

func (l *logFile) close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
