// Package stream runs Sluice's continuous queries: the sources they read,
// one micro-batch loop per stream, their sinks, progress and
// subscriptions.
//
// A Manager owns every source and stream of a server. Definitions are
// durable in the catalog (catalog.Object, holding the creating SQL); on
// start the server replays them through the planner and hands the bound
// plans back with Restore set. Each stream then recovers from its own
// checkpoint (recovery.go): offsets, state, the table versions its last
// plan pinned.
//
// A stream's loop (see Stream) plans batch N as end offsets per source
// partition (bounded by max_rows_per_batch), reads the source into Arrow
// records, runs the part of its plan below the aggregate over them
// (package exec operators, with the source as a plan.Input leaf), folds
// the result into its aggregate state (exec.StreamAgg), emits changed or
// final groups through the part of the plan above the aggregate, writes
// the sink (one atomic write), and then commits: offsets, watermark,
// progress, subscribers.
//
// Sources and sinks on Kafka brokers (kafka.go) can be away: a stream
// retries what reaches them (planning, reading, the Kafka sink, dead
// letters, an aggregate's recovery) with backoff in status 'retrying',
// and goes on where it was. Records a source could not decode are
// counted per batch, kept in sluice_errors and copied to the source's
// dead-letter topic.
//
// The Manager also runs the feeds of changelog-fed tables (changelog.go):
// one goroutine per table applying its Kafka topic, each fetch round one
// catalog write whose marks hold the offsets reached. The table's
// definition (with its options) is durable in the catalog itself, so on
// start RestoreFeeds finds the fed tables and each feed goes on from its
// marks.
package stream

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// Config configures a Manager.
type Config struct {
	// Catalog holds tables (sink tables, config tables) and the durable
	// definitions of sources and streams. Required.
	Catalog *catalog.Catalog
	// Dir holds the sources' data (Dir/sources/...). Required.
	Dir string
	// Clock is processing time. Default RealClock.
	Clock Clock
	// Mem allocates the streams' Arrow buffers. Default Go allocator.
	Mem memory.Allocator
	// Logger receives stream failures. Default slog.Default().
	Logger *slog.Logger
	// ProgressRows is how many progress rows each stream keeps. Default 100.
	ProgressRows int
	// SubscriberBuffer bounds the records a subscriber may fall behind
	// before it is cut off. Default 256.
	SubscriberBuffer int
	// CheckpointEvery is how many batches an aggregate runs between state
	// snapshots (recovery replays the batches after the newest). Default 10.
	CheckpointEvery int
	// Hook, when set, is called by every stream's loop at named points of
	// a batch: "planned" (its plan is in the checkpoint, nothing read
	// yet), "sunk" (the sink has the batch, the commit is not written),
	// "committed", and "snapshot" (before a state snapshot is written).
	// Crash tests use it to kill the server at those moments.
	Hook func(point string)
	// FeedPoll is how often the feed of a changelog-fed table that has
	// caught up asks its topic for new records (changelog.go). Default
	// 200ms. Feeds run in real time, whatever Clock says.
	FeedPoll time.Duration
	// FeedRetryMax bounds the backoff of a feed retrying after an error
	// (it starts at 100ms and doubles). Default 5s.
	FeedRetryMax time.Duration
}

// Manager owns the sources and streams of a server. It is safe for
// concurrent use.
type Manager struct {
	cfg Config

	mu      sync.Mutex
	sources map[string]*sourceEntry
	streams map[string]*Stream
	closed  bool

	errMu   sync.Mutex
	errRows []ErrorRow // sluice_errors, oldest first

	feeds feedSet // the feeds of changelog-fed tables (changelog.go)
}

// sourceEntry is an open source.
type sourceEntry struct {
	def catalog.SourceDef
	src source.Source
	log *source.Log // nil unless connector 'log'
	dir string
	// owner is the stream whose log sink this source is ("" for CREATE
	// SOURCE): it is created and dropped with the stream.
	owner string
}

// NewManager returns a manager with no sources or streams.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Catalog == nil || cfg.Dir == "" {
		return nil, fmt.Errorf("stream: a manager needs a catalog and a directory")
	}
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Mem == nil {
		cfg.Mem = memory.NewGoAllocator()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ProgressRows <= 0 {
		cfg.ProgressRows = 100
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 10
	}
	if cfg.SubscriberBuffer <= 0 {
		cfg.SubscriberBuffer = 256
	}
	return &Manager{cfg: cfg, sources: map[string]*sourceEntry{}, streams: map[string]*Stream{}}, nil
}

func (m *Manager) sourceDir(name string) string {
	return filepath.Join(m.cfg.Dir, "sources", "s_"+url.PathEscape(name))
}

// openSource opens the connector of def.
func (m *Manager) openSource(ctx context.Context, def catalog.SourceDef) (*sourceEntry, error) {
	cols := make([]source.Column, len(def.Columns))
	for i, c := range def.Columns {
		cols[i] = source.Column{Name: c.Name, Type: c.Type}
	}
	e := &sourceEntry{def: def}
	switch def.Connector {
	case "log":
		opts, err := source.ParseLogOptions(def.Options)
		if err != nil {
			return nil, err
		}
		e.dir = m.sourceDir(def.Name)
		l, err := source.OpenLog(ctx, e.dir, cols, opts)
		if err != nil {
			return nil, err
		}
		e.src, e.log = l, l
	case "datagen":
		opts, err := source.ParseDatagenOptions(cols, def.Options)
		if err != nil {
			return nil, err
		}
		d, err := source.NewDatagen(cols, opts, m.cfg.Clock.Now)
		if err != nil {
			return nil, err
		}
		e.src = d
	case "nexmark":
		opts, err := source.ParseNexmarkOptions(def.Options)
		if err != nil {
			return nil, err
		}
		opts.Name = def.Name
		x, err := source.NewNexmark(cols, opts, m.cfg.Clock.Now)
		if err != nil {
			return nil, err
		}
		e.src = x
	case "kafka":
		opts, err := source.ParseKafkaOptions(def.Options)
		if err != nil {
			return nil, err
		}
		k, err := source.NewKafka(def.Name, cols, opts)
		if err != nil {
			return nil, err
		}
		e.src = k
	default:
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unknown connector %q", def.Connector)
	}
	return e, nil
}

// CreateSource opens a new source and, unless restore is set (the server
// replaying stored definitions on start), stores its definition (sql).
// Connector options are validated here: 42601 for an unknown option,
// 22023 for a bad value.
func (m *Manager) CreateSource(ctx context.Context, def catalog.SourceDef, sql string, restore bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed()
	}
	if _, ok := m.sources[def.Name]; ok {
		return sqlerr.New(sqlerr.DuplicateTable, "source %q already exists", def.Name)
	}
	if !restore {
		// A fresh source starts empty, whatever an earlier source of the
		// same name left behind.
		if err := os.RemoveAll(m.sourceDir(def.Name)); err != nil {
			return sqlerr.New(sqlerr.IOError, "clear the directory of source %q: %w", def.Name, err)
		}
	}
	e, err := m.openSource(ctx, def)
	if err != nil {
		return err
	}
	if !restore {
		if err := m.cfg.Catalog.PutObject(ctx, catalog.Object{Kind: "source", Name: def.Name, SQL: sql}); err != nil {
			e.src.Close()
			return err
		}
	}
	m.sources[def.Name] = e
	return nil
}

// SourceDef returns the definition of a source.
func (m *Manager) SourceDef(name string) (catalog.SourceDef, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.sources[name]
	if !ok {
		return catalog.SourceDef{}, false
	}
	return e.def, true
}

// DropSource closes and removes a source and its data. A source a stream
// reads is refused with 2BP01; a stream's log sink goes with its stream.
func (m *Manager) DropSource(ctx context.Context, name string, ifExists bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.sources[name]
	if !ok {
		if ifExists {
			return nil
		}
		return sqlerr.New(sqlerr.UndefinedTable, "source %q does not exist", name)
	}
	if e.owner != "" {
		return sqlerr.New(sqlerr.DependentObjectsStillExist, "source %q is the log sink of stream %q: drop the stream instead", name, e.owner)
	}
	if readers := m.readersOf(name); len(readers) > 0 {
		err := sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop source %q because stream %q reads it", name, readers[0])
		err.Hint = "drop the streams that read it first"
		return err
	}
	return m.dropSourceLocked(ctx, e)
}

func (m *Manager) dropSourceLocked(ctx context.Context, e *sourceEntry) error {
	if e.owner == "" {
		if err := m.cfg.Catalog.DeleteObject(ctx, "source", e.def.Name); err != nil {
			return err
		}
	}
	delete(m.sources, e.def.Name)
	err := e.src.Close()
	if e.dir != "" {
		if rerr := os.RemoveAll(e.dir); rerr != nil && err == nil {
			err = sqlerr.New(sqlerr.IOError, "remove the data of source %q: %w", e.def.Name, rerr)
		}
	}
	return err
}

// readersOf lists the streams that read a source, sorted.
func (m *Manager) readersOf(name string) []string {
	var out []string
	for n, s := range m.streams {
		if s.spec.Source == name {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// AppendRows appends rows to a log source (INSERT INTO source).
func (m *Manager) AppendRows(ctx context.Context, name string, rows [][]any) error {
	m.mu.Lock()
	e, ok := m.sources[name]
	m.mu.Unlock()
	if !ok {
		return sqlerr.New(sqlerr.UndefinedTable, "source %q does not exist", name)
	}
	if e.log == nil {
		return sqlerr.New(sqlerr.WrongObjectType, "cannot insert into source %q: connector %q generates its rows; only connector 'log' takes INSERT", name, e.def.Connector)
	}
	if e.owner != "" {
		return sqlerr.New(sqlerr.WrongObjectType, "cannot insert into source %q: it is the log sink of stream %q", name, e.owner)
	}
	if _, err := e.log.Append(ctx, rows); err != nil {
		return err
	}
	m.notifyReaders(name)
	return nil
}

// AppendJSON appends raw messages to a log source of format 'json', one
// row each, as a producer writing JSON would (sluice bench fills its json
// query's source this way). The messages are not checked here: one that
// does not decode is a bad record of the batch that reads it.
func (m *Manager) AppendJSON(ctx context.Context, name string, msgs [][]byte) error {
	m.mu.Lock()
	e, ok := m.sources[name]
	m.mu.Unlock()
	if !ok {
		return sqlerr.New(sqlerr.UndefinedTable, "source %q does not exist", name)
	}
	if e.log == nil || e.owner != "" {
		return sqlerr.New(sqlerr.WrongObjectType, "cannot append JSON messages to source %q: it is not a log source of its own", name)
	}
	if _, err := e.log.AppendJSON(ctx, msgs); err != nil {
		return err
	}
	m.notifyReaders(name)
	return nil
}

// notifyReaders tells the streams that read a source it has new rows.
func (m *Manager) notifyReaders(source string) {
	m.mu.Lock()
	var readers []*Stream
	for _, s := range m.streams {
		if s.spec.Source == source {
			readers = append(readers, s)
		}
	}
	m.mu.Unlock()
	for _, s := range readers {
		s.notifyData()
	}
}

// SourceInfo describes a source for SHOW SOURCES.
type SourceInfo struct {
	Def      catalog.SourceDef
	Earliest source.Offsets
	Latest   source.Offsets
	Err      error
}

// Sources describes every source, sorted by name.
func (m *Manager) Sources(ctx context.Context) []SourceInfo {
	m.mu.Lock()
	entries := make([]*sourceEntry, 0, len(m.sources))
	for _, e := range m.sources {
		entries = append(entries, e)
	}
	m.mu.Unlock()
	sort.Slice(entries, func(i, j int) bool { return entries[i].def.Name < entries[j].def.Name })
	out := make([]SourceInfo, len(entries))
	for i, e := range entries {
		out[i].Def = e.def
		out[i].Earliest, out[i].Err = e.src.Earliest(ctx)
		if out[i].Err == nil {
			out[i].Latest, out[i].Err = e.src.Latest(ctx)
		}
	}
	return out
}

// Close stops every stream (a running batch finishes first) and closes
// every source.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	streams := make([]*Stream, 0, len(m.streams))
	for _, s := range m.streams {
		streams = append(streams, s)
	}
	m.mu.Unlock()
	m.stopFeeds()
	for _, s := range streams {
		s.stopAndWait()
		s.endSubscriptions()
		s.closeState()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	for _, e := range m.sources {
		if cerr := e.src.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}

func errClosed() error {
	return sqlerr.New(sqlerr.AdminShutdown, "the server is shutting down")
}

// outputColumns returns a plan's output columns as table columns.
func outputColumns(n plan.Node) []catalog.ColumnDef {
	cols := n.Columns()
	out := make([]catalog.ColumnDef, len(cols))
	for i, c := range cols {
		out[i] = catalog.ColumnDef{Name: c.Name, Type: c.Type}
	}
	return out
}
