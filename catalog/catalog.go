package catalog

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// Options tunes a catalog. The zero value is the default.
type Options struct {
	// CheckpointBytes starts a background checkpoint once the current log
	// segment holds this many bytes. Default 16 MiB.
	CheckpointBytes int64
	// CheckpointRecords starts a background checkpoint once the current
	// log segment holds this many records (statements and DDL); it bounds
	// replay work at restart. Default 8192.
	CheckpointRecords int
	// ChunkRows is the most rows one Arrow record of a snapshot holds.
	// Default 4096; at most 1<<20.
	ChunkRows int
	// NoAutoCheckpoint turns background checkpoints off; Checkpoint still
	// works.
	NoAutoCheckpoint bool
	// RetainVersions is how many of its latest committed versions each
	// table keeps readable (Table.SnapshotAt, Table.Versions); older
	// versions are kept only while pinned (Table.Pin). The history is not
	// durable: after a restart a table retains only its latest version.
	// Default 64; at least 1.
	RetainVersions int
}

// Validate reports options out of range.
func (o Options) Validate() error {
	switch {
	case o.CheckpointBytes < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "catalog: CheckpointBytes must not be negative")
	case o.CheckpointRecords < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "catalog: CheckpointRecords must not be negative")
	case o.ChunkRows < 0 || o.ChunkRows > maxChunk:
		return sqlerr.New(sqlerr.InvalidParameterValue, "catalog: ChunkRows must be between 1 and %d", maxChunk)
	case o.RetainVersions < 0:
		return sqlerr.New(sqlerr.InvalidParameterValue, "catalog: RetainVersions must not be negative")
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.CheckpointBytes == 0 {
		o.CheckpointBytes = 16 << 20
	}
	if o.CheckpointRecords == 0 {
		o.CheckpointRecords = 8192
	}
	if o.ChunkRows == 0 {
		o.ChunkRows = 4096
	}
	if o.RetainVersions == 0 {
		o.RetainVersions = 64
	}
	return o
}

// Catalog is the set of durable tables in one data directory. Its methods
// are safe for concurrent use.
type Catalog struct {
	dir  string
	opts Options
	env  applyEnv
	wal  *wal
	lock *os.File // holds the directory lock

	ddlMu  sync.Mutex // serialises DDL and checkpoint capture; guards nextID
	nextID uint64

	mu     sync.RWMutex // guards tables
	tables map[string]*Table

	ckptMu   sync.Mutex // serialises checkpoints; guards the fields below
	manifest *manifest  // the installed manifest
	bgErr    error      // the last background checkpoint's error, if it failed

	kick     chan struct{} // asks the checkpointer for a checkpoint
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgDone   chan struct{}

	objMu      sync.Mutex // guards objects and objNextSeq
	objects    map[string]Object
	objNextSeq uint64

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open opens the catalog in dir, creating dir if it does not exist, and
// recovers it: it loads the last checkpoint and replays the write-ahead
// log after it, discarding a torn last record. Only one Catalog may have a
// directory open at a time.
func Open(ctx context.Context, dir string) (*Catalog, error) {
	return OpenWithOptions(ctx, dir, Options{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(ctx context.Context, dir string, opts Options) (*Catalog, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, sqlerr.New(sqlerr.IOError, "catalog: create data directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	c := &Catalog{
		dir:    dir,
		opts:   opts,
		env:    applyEnv{mem: memory.NewGoAllocator(), chunkRows: opts.ChunkRows},
		lock:   lock,
		tables: make(map[string]*Table),
		kick:   make(chan struct{}, 1),
		bgDone: make(chan struct{}),
	}
	if err := c.recover(ctx); err != nil {
		unlockDir(lock)
		return nil, err
	}
	if c.objects, c.objNextSeq, err = readObjects(dir); err != nil {
		unlockDir(lock)
		return nil, err
	}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	go c.checkpointer()
	return c, nil
}

// Dir returns the data directory.
func (c *Catalog) Dir() string { return c.dir }

// Close stops background work, makes every committed write durable and
// releases the directory. Writes after Close fail with 57P01. Close is
// safe to call twice; later calls return nil. It also reports a background
// checkpoint failure no later checkpoint made good (the data is safe in
// the log either way).
func (c *Catalog) Close() error {
	err := error(nil)
	c.closeOnce.Do(func() {
		c.bgCancel()
		<-c.bgDone
		c.closed.Store(true)
		c.ckptMu.Lock()
		bgErr := c.bgErr
		werr := c.wal.close()
		c.ckptMu.Unlock()
		unlockDir(c.lock)
		c.closeErr = errors.Join(werr, bgErr)
		err = c.closeErr
	})
	return err
}

// CreateTable creates a table at version 1. It fails with 42P07 if a
// table of that name exists (unless ifNotExists, when it does nothing),
// and validates def: 42701 for a repeated column, 42P16 for a bad primary
// key or column type. Primary-key columns become NOT NULL.
func (c *Catalog) CreateTable(ctx context.Context, def TableDef, ifNotExists bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	def, err := validateDef(def)
	if err != nil {
		return err
	}
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	if c.closed.Load() {
		return errClosed()
	}
	if _, err := c.Table(def.Name); err == nil {
		if ifNotExists {
			return nil
		}
		return sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", def.Name)
	}
	id := c.nextID
	c.nextID++
	at := time.Now().UTC()
	lsn, err := c.wal.append(encodeCreate(id, def, at))
	if err != nil {
		return err
	}
	if err := c.wal.waitDurable(lsn); err != nil {
		return err
	}
	t := newTable(c, emptySnapshot(newShape(id, def), 1, at))
	c.mu.Lock()
	c.tables[def.Name] = t
	c.mu.Unlock()
	c.maybeCheckpoint()
	return nil
}

// DropTable drops a table. It fails with 42P01 if there is none of that
// name, unless ifExists. Snapshots already taken stay readable.
func (c *Catalog) DropTable(ctx context.Context, name string, ifExists bool) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	c.ddlMu.Lock()
	defer c.ddlMu.Unlock()
	if c.closed.Load() {
		return errClosed()
	}
	t, err := c.Table(name)
	if err != nil {
		if ifExists {
			return nil
		}
		return err
	}
	t.mu.Lock()
	lsn, err := c.wal.append(encodeDrop(t.shape.id))
	if err == nil {
		t.dropped = true
	}
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.wal.waitDurable(lsn); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.tables, name)
	c.mu.Unlock()
	c.maybeCheckpoint()
	return nil
}

// Table returns the named table, or an error with SQLSTATE 42P01. Names
// are matched exactly (case folding is the planner's business).
func (c *Catalog) Table(name string) (*Table, error) {
	c.mu.RLock()
	t, ok := c.tables[name]
	c.mu.RUnlock()
	if !ok {
		return nil, errUndefinedTable(name)
	}
	return t, nil
}

// TableNames returns the names of all tables, sorted.
func (c *Catalog) TableNames() []string {
	c.mu.RLock()
	names := make([]string, 0, len(c.tables))
	for n := range c.tables {
		names = append(names, n)
	}
	c.mu.RUnlock()
	slices.Sort(names)
	return names
}

// maybeCheckpoint asks the checkpointer for a checkpoint when the current
// log segment has grown past the limits.
func (c *Catalog) maybeCheckpoint() {
	if c.opts.NoAutoCheckpoint {
		return
	}
	if c.logIsLong() {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// logIsLong reports whether the current log segment has passed the
// checkpoint limits.
func (c *Catalog) logIsLong() bool {
	bytes, records := c.wal.size()
	return bytes >= c.opts.CheckpointBytes || records >= c.opts.CheckpointRecords
}

// checkpointer runs background checkpoints until Close.
func (c *Catalog) checkpointer() {
	defer close(c.bgDone)
	for {
		select {
		case <-c.bgCtx.Done():
			return
		case <-c.kick:
			if !c.logIsLong() { // a checkpoint ran since the kick
				continue
			}
			err := c.Checkpoint(c.bgCtx)
			if c.bgCtx.Err() != nil {
				return
			}
			c.ckptMu.Lock()
			c.bgErr = err
			c.ckptMu.Unlock()
		}
	}
}
