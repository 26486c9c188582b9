package catalog

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// A checkpoint writes every table's current version to a table file
// tbl-<id>-<version>.arrow (an Arrow IPC file, one record batch per chunk),
// then a new MANIFEST naming those files and the first log segment to
// replay, and finally deletes the log segments and table files the new
// manifest no longer needs. A table whose version is unchanged since the
// last checkpoint keeps its file.
//
// MANIFEST is "SLCMAN01", the CRC-32C of the rest (little-endian uint32),
// then JSON (manifest below). It is replaced by writing MANIFEST.tmp,
// fsyncing it and renaming it over MANIFEST, so a crash leaves either the
// old or the new one, and the files each names are complete and fsynced
// before it is written.
//
// The checkpoint needs no pause of writers. It first rotates the log:
// everything in segments before the new one is then durable and reflected
// in every table's latest version, which it captures next. Records in the
// new segment may be captured too; replay skips them by version (and
// skips DDL of table ids the manifest accounts for).

const (
	manifestName  = "MANIFEST"
	manifestMagic = "SLCMAN01"
	formatVersion = 1
	codeCorrupted = sqlerr.DataCorrupted // data_corrupted
)

type manifest struct {
	Format      int             `json:"format"`
	WALSeq      uint64          `json:"wal_seq"`       // the first log segment to replay
	NextTableID uint64          `json:"next_table_id"` // ids below it not listed were dropped
	Tables      []manifestTable `json:"tables"`
}

type manifestTable struct {
	ID          uint64           `json:"id"`
	Name        string           `json:"name"`
	Columns     []manifestColumn `json:"columns"`
	PrimaryKey  []int            `json:"primary_key"`
	Version     uint64           `json:"version"`
	CommittedAt int64            `json:"committed_at_unix_nano"`
	Rows        int              `json:"rows"`
	File        string           `json:"file"`
	Size        int64            `json:"size"`
	CRC32C      uint32           `json:"crc32c"`
	// Marks are the version's marks (Writer.SetMark); absent when it has
	// none, so manifests from before marks existed read unchanged.
	Marks map[string]int64 `json:"marks,omitempty"`
	// Connector and Options are TableDef's; absent for an ordinary table.
	Connector string            `json:"connector,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
}

type manifestColumn struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
}

func (mt *manifestTable) def() (TableDef, error) {
	def := TableDef{Name: mt.Name, PrimaryKey: mt.PrimaryKey, Connector: mt.Connector, Options: mt.Options}
	for _, c := range mt.Columns {
		t, ok := sqltypes.ParseName(c.Type)
		if !ok {
			return TableDef{}, fmt.Errorf("table %q: unknown column type %q", mt.Name, c.Type)
		}
		def.Columns = append(def.Columns, ColumnDef{Name: c.Name, Type: t, NotNull: c.NotNull})
	}
	return validateDef(def)
}

func corrupted(dir string, err error) error {
	return sqlerr.New(codeCorrupted, "catalog: data directory %s is corrupt: %w", dir, err)
}

func ioError(op string, err error) error {
	return sqlerr.New(sqlerr.IOError, "catalog: %s: %w", op, err)
}

// readManifest reads dir's manifest; os.ErrNotExist if there is none.
func readManifest(dir string) (*manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, err
	}
	if len(data) < 12 || string(data[:8]) != manifestMagic {
		return nil, errors.New("manifest has a bad header")
	}
	if crc32.Checksum(data[12:], crcTable) != binary.LittleEndian.Uint32(data[8:]) {
		return nil, errors.New("manifest checksum mismatch")
	}
	m := &manifest{}
	if err := json.Unmarshal(data[12:], m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != formatVersion {
		return nil, fmt.Errorf("manifest format %d is not supported", m.Format)
	}
	return m, nil
}

// writeManifest atomically replaces dir's manifest.
func writeManifest(dir string, m *manifest) error {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data := make([]byte, 12, 12+len(body))
	copy(data, manifestMagic)
	binary.LittleEndian.PutUint32(data[8:], crc32.Checksum(body, crcTable))
	data = append(data, body...)
	if err := writeFileSync(filepath.Join(dir, manifestName+".tmp"), data); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(dir, manifestName+".tmp"), filepath.Join(dir, manifestName)); err != nil {
		return err
	}
	return syncDir(dir)
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	err = writeSync(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Checkpoint writes every table's current version to table files and a new
// manifest and drops the log before it, so restart time does not grow with
// history. It runs in the background when the log passes
// Options.CheckpointBytes or CheckpointRecords; calling it directly is for
// tests and for a clean shutdown. Writers are not paused.
func (c *Catalog) Checkpoint(ctx context.Context) error {
	c.ckptMu.Lock()
	defer c.ckptMu.Unlock()
	if c.closed.Load() {
		return errClosed()
	}
	if _, records := c.wal.size(); records == 0 && c.wal.currentSeq() == c.manifest.WALSeq {
		return nil // nothing logged since the last checkpoint
	}
	seq, err := c.wal.rotate()
	if err != nil {
		return err
	}

	// Capture every table's latest version; each reflects at least all of
	// the log before segment seq. A table created after the capture of
	// nextID, or dropped after that of its version, has its CREATE or DROP
	// in segment seq or later, which replay applies.
	c.ddlMu.Lock()
	next := &manifest{Format: formatVersion, WALSeq: seq, NextTableID: c.nextID}
	c.mu.RLock()
	tables := make([]*Table, 0, len(c.tables))
	for _, t := range c.tables {
		tables = append(tables, t)
	}
	c.mu.RUnlock()
	c.ddlMu.Unlock()
	var snaps []*Snapshot
	var lsn uint64
	for _, t := range tables {
		t.mu.Lock()
		if !t.dropped {
			snaps = append(snaps, t.pending)
			lsn = max(lsn, t.pendingLSN)
		}
		t.mu.Unlock()
	}
	if err := c.wal.waitDurable(lsn); err != nil {
		return err
	}
	slices.SortFunc(snaps, func(a, b *Snapshot) int { return cmp.Compare(a.shape.id, b.shape.id) })

	prev := make(map[uint64]manifestTable)
	for _, mt := range c.manifest.Tables {
		prev[mt.ID] = mt
	}
	wrote := false
	for _, s := range snaps {
		if err := ctxErr(ctx); err != nil {
			return err
		}
		if mt, ok := prev[s.shape.id]; ok && mt.Version == s.version {
			next.Tables = append(next.Tables, mt)
			continue
		}
		mt, err := writeTableFile(c.dir, s)
		if err != nil {
			return ioError("write checkpoint", err)
		}
		next.Tables = append(next.Tables, mt)
		wrote = true
	}
	if wrote {
		if err := syncDir(c.dir); err != nil {
			return ioError("write checkpoint", err)
		}
	}
	if err := writeManifest(c.dir, next); err != nil {
		return ioError("write manifest", err)
	}
	c.manifest = next
	c.bgErr = nil
	if err := removeObsolete(c.dir, next); err != nil {
		return ioError("remove obsolete files", err)
	}
	return nil
}

func tableFileName(id, version uint64) string { return fmt.Sprintf("tbl-%d-%d.arrow", id, version) }

// writeTableFile writes s to a new table file and describes it.
func writeTableFile(dir string, s *Snapshot) (manifestTable, error) {
	def := &s.shape.def
	mt := manifestTable{
		ID:          s.shape.id,
		Name:        def.Name,
		PrimaryKey:  slices.Clone(def.PrimaryKey),
		Version:     s.version,
		CommittedAt: s.committedAt.UnixNano(),
		Rows:        s.NumRows(),
		File:        tableFileName(s.shape.id, s.version),
		Marks:       maps.Clone(s.marks),
		Connector:   def.Connector,
		Options:     maps.Clone(def.Options),
	}
	for _, c := range def.Columns {
		mt.Columns = append(mt.Columns, manifestColumn{Name: c.Name, Type: c.Type.String(), NotNull: c.NotNull})
	}
	path := filepath.Join(dir, mt.File)
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return mt, err
	}
	defer func() { _ = f.Close() }()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &crcWriter{w: bw}
	fw, err := ipc.NewFileWriter(cw, ipc.WithSchema(s.shape.schema))
	if err != nil {
		return mt, err
	}
	for _, c := range s.chunks {
		if err := fw.Write(c.rec); err != nil {
			return mt, err
		}
	}
	if err := fw.Close(); err != nil {
		return mt, err
	}
	if err := bw.Flush(); err != nil {
		return mt, err
	}
	if err := f.Sync(); err != nil {
		return mt, err
	}
	if err := f.Close(); err != nil {
		return mt, err
	}
	mt.Size, mt.CRC32C = cw.n, cw.crc
	return mt, os.Rename(path+".tmp", path)
}

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

// loadTable reads a table file back into a snapshot with the same chunks.
func loadTable(dir string, mt *manifestTable, env applyEnv) (*Snapshot, error) {
	def, err := mt.def()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, mt.File))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != mt.Size || crc32.Checksum(data, crcTable) != mt.CRC32C {
		return nil, fmt.Errorf("table file %s: size or checksum mismatch", mt.File)
	}
	sh := newShape(mt.ID, def)
	r, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(env.mem))
	if err != nil {
		return nil, fmt.Errorf("table file %s: %w", mt.File, err)
	}
	defer func() { _ = r.Close() }()
	if !r.Schema().Equal(sh.schema) {
		return nil, fmt.Errorf("table file %s: schema %s does not match the table's %s", mt.File, r.Schema(), sh.schema)
	}
	s := emptySnapshot(sh, mt.Version, time.Unix(0, mt.CommittedAt).UTC())
	for k := range mt.Marks {
		if k == "" {
			return nil, fmt.Errorf("table %q: empty mark key", mt.Name)
		}
	}
	if len(mt.Marks) > 0 {
		s.marks = mt.Marks
	}
	for i := range r.NumRecords() {
		rec, err := r.RecordAt(i)
		if err != nil {
			return nil, fmt.Errorf("table file %s: %w", mt.File, err)
		}
		if rec.NumRows() == 0 || rec.NumRows() > int64(maxChunk) {
			return nil, fmt.Errorf("table file %s: record %d has %d rows", mt.File, i, rec.NumRows())
		}
		// IPC keeps the schema it read; use the table's so every version
		// of the table shares one schema value.
		rec = arrowRecord(sh.schema, rec)
		s.chunks = append(s.chunks, chunk{id: s.nextChunkID, rec: rec})
		s.nextChunkID++
	}
	s.starts = chunkStarts(s.chunks)
	if s.NumRows() != mt.Rows {
		return nil, fmt.Errorf("table file %s: %d rows, manifest says %d", mt.File, s.NumRows(), mt.Rows)
	}
	s.rebuildIndex()
	if s.index != nil && s.index.n != s.NumRows() {
		return nil, fmt.Errorf("table file %s: duplicate primary keys", mt.File)
	}
	return s, nil
}

// arrowRecord re-labels rec's columns with schema and counts their nulls
// (see materialize).
func arrowRecord(schema *arrow.Schema, rec arrow.Record) arrow.Record {
	cols := rec.Columns()
	for _, c := range cols {
		c.NullN()
	}
	return array.NewRecord(schema, cols, rec.NumRows())
}

// removeObsolete deletes log segments before m.WALSeq, table files m does
// not name and temporary files.
func removeObsolete(dir string, m *manifest) error {
	keep := make(map[string]bool, len(m.Tables))
	for _, mt := range m.Tables {
		keep[mt.File] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		obsolete := strings.HasSuffix(name, ".tmp")
		if seq, ok := parseSegName(name); ok && seq < m.WALSeq {
			obsolete = true
		}
		if strings.HasPrefix(name, "tbl-") && strings.HasSuffix(name, ".arrow") && !keep[name] {
			obsolete = true
		}
		if obsolete {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func parseSegName(name string) (uint64, bool) {
	var seq uint64
	if len(name) != len(segName(0)) {
		return 0, false
	}
	if _, err := fmt.Sscanf(name, "wal-%020d.log", &seq); err != nil || segName(seq) != name {
		return 0, false
	}
	return seq, true
}
