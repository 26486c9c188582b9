package catalog

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// Object is the durable definition of a source or a stream: the SQL text
// that created it, plus what users changed since (PAUSE, ALTER ... SET).
// The catalog stores objects; it does not interpret them: on start the
// server replays each object's SQL through the planner, oldest first.
type Object struct {
	Kind string `json:"kind"` // "source" or "stream"
	Name string `json:"name"`
	SQL  string `json:"sql"`
	// Seq orders objects by creation; PutObject assigns it to new objects.
	Seq    uint64 `json:"seq"`
	Paused bool   `json:"paused,omitempty"`
	// Options are options set after creation (ALTER STREAM ... SET), which
	// override the ones in SQL.
	Options map[string]string `json:"options,omitempty"`
}

const objectsName = "OBJECTS"

var objectsMagic = []byte("SLUICEOB")

type objectsFile struct {
	NextSeq uint64   `json:"next_seq"`
	Objects []Object `json:"objects"`
}

// Objects returns the stored objects in creation order.
func (c *Catalog) Objects() []Object {
	c.objMu.Lock()
	defer c.objMu.Unlock()
	out := make([]Object, 0, len(c.objects))
	for _, o := range c.objects {
		out = append(out, cloneObject(o))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// PutObject stores o durably (fsynced before it returns), replacing the
// object of the same kind and name and keeping its Seq, or adding it with
// a new Seq.
func (c *Catalog) PutObject(ctx context.Context, o Object) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closed.Load() {
		return errClosed()
	}
	c.objMu.Lock()
	defer c.objMu.Unlock()
	key := o.Kind + "\x00" + o.Name
	next := c.objNextSeq
	if old, ok := c.objects[key]; ok {
		o.Seq = old.Seq
	} else {
		o.Seq = next
		next++
	}
	all := make(map[string]Object, len(c.objects)+1)
	for k, v := range c.objects {
		all[k] = v
	}
	all[key] = cloneObject(o)
	if err := writeObjects(c.dir, next, all); err != nil {
		return err
	}
	c.objects, c.objNextSeq = all, next
	return nil
}

// DeleteObject removes the object of that kind and name durably; removing
// an object that does not exist is not an error.
func (c *Catalog) DeleteObject(ctx context.Context, kind, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.closed.Load() {
		return errClosed()
	}
	c.objMu.Lock()
	defer c.objMu.Unlock()
	key := kind + "\x00" + name
	if _, ok := c.objects[key]; !ok {
		return nil
	}
	all := make(map[string]Object, len(c.objects))
	for k, v := range c.objects {
		if k != key {
			all[k] = v
		}
	}
	if err := writeObjects(c.dir, c.objNextSeq, all); err != nil {
		return err
	}
	c.objects = all
	return nil
}

func cloneObject(o Object) Object {
	if o.Options != nil {
		m := make(map[string]string, len(o.Options))
		for k, v := range o.Options {
			m[k] = v
		}
		o.Options = m
	}
	return o
}

// writeObjects atomically replaces the objects file: magic, CRC-32C of the
// body, JSON body; written to a temporary file, fsynced, renamed.
func writeObjects(dir string, next uint64, objs map[string]Object) error {
	f := objectsFile{NextSeq: next}
	for _, o := range objs {
		f.Objects = append(f.Objects, o)
	}
	sort.Slice(f.Objects, func(i, j int) bool { return f.Objects[i].Seq < f.Objects[j].Seq })
	body, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return sqlerr.New(sqlerr.InternalError, "catalog: encode objects: %w", err)
	}
	data := make([]byte, 12, 12+len(body))
	copy(data, objectsMagic)
	binary.LittleEndian.PutUint32(data[8:], crc32.Checksum(body, crcTable))
	data = append(data, body...)
	tmp := filepath.Join(dir, objectsName+".tmp")
	if err := writeFileSync(tmp, data); err != nil {
		return ioError("write objects", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, objectsName)); err != nil {
		return ioError("install objects", err)
	}
	if err := syncDir(dir); err != nil {
		return ioError("sync data directory", err)
	}
	return nil
}

// readObjects loads the objects file; a missing file is no objects. The
// file is replaced by rename, so it is never torn: a bad checksum is
// corruption (XX001).
func readObjects(dir string) (map[string]Object, uint64, error) {
	data, err := os.ReadFile(filepath.Join(dir, objectsName))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Object{}, 1, nil
	}
	if err != nil {
		return nil, 0, ioError("read objects", err)
	}
	if len(data) < 12 || string(data[:8]) != string(objectsMagic) {
		return nil, 0, corrupted(dir, fmt.Errorf("%s: bad header", objectsName))
	}
	body := data[12:]
	if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[8:]) {
		return nil, 0, corrupted(dir, fmt.Errorf("%s: checksum mismatch", objectsName))
	}
	var f objectsFile
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, 0, corrupted(dir, fmt.Errorf("%s: %w", objectsName, err))
	}
	objs := make(map[string]Object, len(f.Objects))
	for _, o := range f.Objects {
		objs[o.Kind+"\x00"+o.Name] = o
	}
	if f.NextSeq == 0 {
		f.NextSeq = 1
	}
	return objs, f.NextSeq, nil
}
