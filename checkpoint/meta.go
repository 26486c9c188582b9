package checkpoint

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// Meta describes what wrote the checkpoint, so a restart (or CREATE OR
// REPLACE STREAM) can tell whether the saved offsets and state fit the
// query it is about to run.
type Meta struct {
	// Fingerprint identifies the parts of the query the state depends on
	// (sources, group keys, aggregates, windows); equal fingerprints mean
	// the state can be reused.
	Fingerprint string `json:"fingerprint"`
	// Query is the stream's SQL, for messages that name the difference.
	Query string `json:"query"`
	// StateSchema describes the state snapshots' schema (empty for a
	// stateless stream).
	StateSchema string `json:"state_schema,omitempty"`
	// Operators are the ids of the stateful operators, in plan order.
	Operators []string  `json:"operators,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Extra holds anything else the caller wants kept with the checkpoint.
	Extra map[string]string `json:"extra,omitempty"`
}

func (m Meta) clone() Meta {
	m.Operators = slices.Clone(m.Operators)
	m.Extra = maps.Clone(m.Extra)
	return m
}

// META is "SLCMETA1", the CRC-32C of the rest (little-endian uint32), then
// JSON. It is replaced by rename, so it is never torn: a bad checksum is
// corruption.
const (
	metaName  = "META"
	metaMagic = "SLCMETA1"
)

// WriteMeta atomically replaces the checkpoint's metadata.
func (d *Dir) WriteMeta(ctx context.Context, m Meta) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.usable(ctx); err != nil {
		return err
	}
	m = m.clone()
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return sqlerr.New(sqlerr.InternalError, "checkpoint: encode meta: %w", err)
	}
	data := make([]byte, 12, 12+len(body))
	copy(data, metaMagic)
	binary.LittleEndian.PutUint32(data[8:], crc32.Checksum(body, crcTable))
	data = append(data, body...)
	if err := replaceFile(d.path, metaName, data); err != nil {
		return ioError("write meta", err)
	}
	d.mu.Lock()
	d.meta = &m
	d.mu.Unlock()
	return nil
}

// Meta returns the checkpoint's metadata; ok is false if none was written.
func (d *Dir) Meta() (m Meta, ok bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.meta == nil {
		return Meta{}, false
	}
	return d.meta.clone(), true
}

// readMeta reads dir's META, nil if there is none.
func readMeta(dir string) (*Meta, error) {
	path := filepath.Join(dir, metaName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, ioError("read meta", err)
	}
	if len(data) < 12 || string(data[:8]) != metaMagic {
		return nil, corrupted(path, errors.New("bad header"))
	}
	if crc32.Checksum(data[12:], crcTable) != binary.LittleEndian.Uint32(data[8:]) {
		return nil, corrupted(path, errors.New("checksum mismatch"))
	}
	m := &Meta{}
	if err := json.Unmarshal(data[12:], m); err != nil {
		return nil, corrupted(path, err)
	}
	return m, nil
}
