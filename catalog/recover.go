package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// recover loads the manifest and its table files, replays the log
// segments after them, truncates a torn tail off the last segment and
// opens it for appending.
func (c *Catalog) recover(ctx context.Context) error {
	m, err := readManifest(c.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := checkFresh(c.dir); err != nil {
			return corrupted(c.dir, err)
		}
		m = &manifest{Format: formatVersion, WALSeq: 1, NextTableID: 1}
		if err := writeManifest(c.dir, m); err != nil {
			return ioError("write manifest", err)
		}
	case err != nil:
		return corrupted(c.dir, err)
	}
	c.manifest = m

	rp := &replayer{live: make(map[uint64]*Snapshot), nextID: m.NextTableID, env: c.env}
	for i := range m.Tables {
		mt := &m.Tables[i]
		if mt.ID >= m.NextTableID || rp.live[mt.ID] != nil {
			return corrupted(c.dir, fmt.Errorf("manifest lists table id %d twice or beyond next id %d", mt.ID, m.NextTableID))
		}
		s, err := loadTable(c.dir, mt, c.env)
		if err != nil {
			return corrupted(c.dir, err)
		}
		rp.live[mt.ID] = s
	}

	seqs, err := listSegments(c.dir, m.WALSeq)
	if err != nil {
		return ioError("list log segments", err)
	}
	if len(seqs) == 0 {
		seqs = []uint64{m.WALSeq}
		f, err := createSegment(c.dir, m.WALSeq)
		if err != nil {
			return ioError("create log segment", err)
		}
		_ = f.Close()
	}
	if seqs[0] != m.WALSeq {
		return corrupted(c.dir, fmt.Errorf("log segment %d is missing", m.WALSeq))
	}
	var lastSize int64
	var lastRecords int
	for i, seq := range seqs {
		if i > 0 && seq != seqs[i-1]+1 {
			return corrupted(c.dir, fmt.Errorf("log segment %d is missing", seqs[i-1]+1))
		}
		last := i == len(seqs)-1
		path := filepath.Join(c.dir, segName(seq))
		data, err := os.ReadFile(path)
		if err != nil {
			return ioError("read log", err)
		}
		frames, valid, err := scanSegment(data, seq)
		if err != nil {
			return corrupted(c.dir, fmt.Errorf("%s: %w", segName(seq), err))
		}
		if !last && (valid < len(data) || valid < segHeaderLen) {
			return corrupted(c.dir, fmt.Errorf("%s: bad record at offset %d before the last segment", segName(seq), valid))
		}
		for k, p := range frames {
			if k%1024 == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			if err := rp.apply(p); err != nil {
				return corrupted(c.dir, fmt.Errorf("%s: record %d: %w", segName(seq), k, err))
			}
		}
		if last {
			if valid < segHeaderLen {
				// Crashed while creating the segment: nothing in it was
				// ever acknowledged.
				f, err := createSegment(c.dir, seq)
				if err != nil {
					return ioError("recreate log segment", err)
				}
				_ = f.Close()
				valid = segHeaderLen
			} else if valid < len(data) {
				if err := truncateFile(path, int64(valid)); err != nil {
					return ioError("truncate torn log tail", err)
				}
			}
			lastSize, lastRecords = int64(valid), len(frames)
		}
	}
	lastSeq := seqs[len(seqs)-1]
	f, err := os.OpenFile(filepath.Join(c.dir, segName(lastSeq)), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return ioError("open log", err)
	}
	c.wal = newWAL(c.dir, f, lastSeq, lastSize, lastRecords)

	c.nextID = rp.nextID
	for _, s := range rp.live {
		if c.tables[s.shape.def.Name] != nil {
			_ = f.Close()
			return corrupted(c.dir, fmt.Errorf("two tables are named %q", s.shape.def.Name))
		}
		c.tables[s.shape.def.Name] = newTable(c, s)
	}
	if err := removeObsolete(c.dir, m); err != nil {
		_ = f.Close()
		return ioError("remove obsolete files", err)
	}
	return nil
}

// checkFresh reports an error if dir holds catalog files but no manifest.
func checkFresh(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, ok := parseSegName(e.Name()); ok || strings.HasPrefix(e.Name(), "tbl-") {
			return fmt.Errorf("%s exists but %s does not", e.Name(), manifestName)
		}
	}
	return nil
}

// listSegments returns the numbers of the log segments from first on,
// sorted.
func listSegments(dir string, first uint64) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseSegName(e.Name()); ok && seq >= first {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// scanSegment returns the payloads of a segment's records and the length
// of its valid prefix. A bad frame ends the valid prefix (a torn tail)
// unless a good frame follows right after it: that is corruption in the
// middle of the log, an error, as is a good frame with bad records in it.
func scanSegment(data []byte, seq uint64) (records [][]byte, valid int, err error) {
	if len(data) < segHeaderLen {
		return nil, 0, nil
	}
	if string(data[:8]) != segMagic || binary.LittleEndian.Uint64(data[8:]) != seq {
		return nil, 0, errors.New("bad segment header")
	}
	off := segHeaderLen
	for off < len(data) {
		n, ok := frameAt(data, off)
		if !ok {
			if n > 0 {
				if _, next := frameAt(data, off+frameHeader+n); next {
					return nil, 0, fmt.Errorf("corrupt frame at offset %d followed by a valid one", off)
				}
			}
			break
		}
		body := data[off+frameHeader : off+frameHeader+n]
		for len(body) > 0 {
			m, k := binary.Uvarint(body)
			if k <= 0 || m == 0 || m > uint64(len(body)-k) {
				return nil, 0, fmt.Errorf("frame at offset %d has a bad record", off)
			}
			records = append(records, body[k:k+int(m)])
			body = body[k+int(m):]
		}
		off += frameHeader + n
	}
	return records, off, nil
}

// frameAt checks the frame at off. n is its body length when the length
// field is plausible (even if the checksum fails), else 0.
func frameAt(data []byte, off int) (n int, ok bool) {
	if len(data)-off < frameHeader {
		return 0, false
	}
	n = int(binary.LittleEndian.Uint32(data[off:]))
	if n == 0 || n > len(data)-off-frameHeader {
		return 0, false
	}
	body := data[off+frameHeader : off+frameHeader+n]
	return n, crc32.Checksum(body, crcTable) == binary.LittleEndian.Uint32(data[off+4:])
}

func truncateFile(path string, size int64) error {
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

// replayer applies log records to the tables recovered so far.
type replayer struct {
	live   map[uint64]*Snapshot // latest version of each live table, by id
	nextID uint64               // ids below it not in live were dropped
	env    applyEnv
}

var errUnknownTable = errors.New("record for a table that never existed")

func (rp *replayer) apply(p []byte) error {
	kind, id, r := recordHead(p)
	if r.err != nil {
		return r.err
	}
	switch kind {
	case recCreate:
		def, at, err := r.create()
		if err != nil {
			return err
		}
		if id < rp.nextID {
			return nil // in the checkpoint already, or dropped before it
		}
		def, err = validateDef(def)
		if err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		for _, s := range rp.live {
			if s.shape.def.Name == def.Name {
				return fmt.Errorf("create table %q: name in use", def.Name)
			}
		}
		rp.live[id] = emptySnapshot(newShape(id, def), 1, at)
		rp.nextID = id + 1
		return nil
	case recDrop:
		if err := r.done(); err != nil {
			return err
		}
		if _, ok := rp.live[id]; ok {
			delete(rp.live, id)
			return nil
		}
		if id < rp.nextID {
			return nil
		}
		return errUnknownTable
	case recWrite:
		s, ok := rp.live[id]
		if !ok {
			if id < rp.nextID {
				return nil
			}
			return errUnknownTable
		}
		w, err := r.write(s.shape)
		if err != nil {
			return err
		}
		if w.version <= s.version {
			return nil // in the checkpoint already
		}
		if w.version != s.version+1 {
			return fmt.Errorf("table %q: version %d follows version %d", s.shape.def.Name, w.version, s.version)
		}
		st := w.st
		for _, k := range w.delKeys {
			l, ok := s.index.get(k)
			if !ok {
				return fmt.Errorf("table %q: deleted key not found", s.shape.def.Name)
			}
			st.deleted = append(st.deleted, s.ordinalOf(l))
		}
		for _, o := range st.deleted {
			if o < 0 || o >= s.NumRows() {
				return fmt.Errorf("table %q: deleted ordinal %d out of range", s.shape.def.Name, o)
			}
		}
		for _, row := range st.inserts {
			for j := range row {
				v, err := normalize(s.shape.def.Name, &s.shape.def.Columns[j], row[j])
				if err != nil {
					return err
				}
				row[j] = v
			}
		}
		st.seal(s)
		if st.empty() {
			return errors.New("empty write record")
		}
		res, err := s.apply(&st, w.version, w.at, rp.env)
		if err != nil {
			return err
		}
		rp.live[id] = res.next
		return nil
	}
	return fmt.Errorf("unknown record kind %d", kind)
}
