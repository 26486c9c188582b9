package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
	"github.com/sluice-sql/sluice/exec/source"
)

// Changelog-fed tables. CREATE TABLE t (... PRIMARY KEY ...) WITH
// (connector = 'kafka', brokers, topic, format = 'json') makes a config
// table whose rows a Kafka topic owns: each record upserts the row of its
// primary key, and a record with a null value (a tombstone) deletes the
// row of its key. Statements cannot change such a table (the binder
// refuses them with 42809); its feed is its only writer.
//
// A feed is one goroutine per table. Each round it asks the topic for its
// latest offsets, reads what it has not applied (at most
// max_rows_per_batch records per partition), folds the records into the
// last operation per key, and applies them in ONE catalog write that also
// sets the table's marks "kafka:<partition>" to the next offset of every
// partition read. Marks are atomic with rows, so the table and its
// position in the topic never disagree: after a restart the feed goes on
// from the marks, applying nothing twice and skipping nothing. Each write
// is a new table version like any other, so streams that join the table
// see a round's changes whole, from the batch planned after it commits.
//
// A round that changes no row (only bad records, or deletes of keys that
// are not there) writes nothing: its offsets are carried by the next
// write. After a restart such records are read again, which changes
// nothing again (the table has not changed since).
//
// Kafka cannot tell a reader that records arrived, so an idle feed polls
// every Config.FeedPoll. The feed runs in real time whatever Config.Clock
// says: that clock drives the triggers of streams. Errors reaching the
// brokers (and any other error but the two below) are retried with
// backoff, doubling up to Config.FeedRetryMax, with status 'retrying' and
// the error in sluice_table_feeds; the feed resumes from its marks and
// loses nothing. Offsets retention deleted before the feed applied them
// fail the feed (status 'failed', the offsets named), unless the table
// says fail_on_data_loss = false: then it skips to the earliest offset
// left and records the gap. A dropped table's feed stops.
//
// Records are decoded by the Kafka source (source.Kafka, with
// Tombstones): a record that is not JSON, or whose fields do not fit the
// columns, is a bad record, counted and skipped. So is a record the table
// cannot take: no primary key (neither in the value nor in the key), a
// NULL in a NOT NULL column, a VARCHAR too long. A tombstone's key is the
// record key: the primary-key value as text ("42", or JSON: "\"a\"", or
// an object {"id": 42} holding the primary-key columns, which a key of
// several columns must be). A value whose primary-key columns are NULL
// takes them from the key the same way.

// Feed statuses.
const (
	FeedRunning  = "running"  // applying records, or caught up and polling
	FeedRetrying = "retrying" // the last round failed; trying again with backoff
	FeedFailed   = "failed"   // stopped for good: offsets it needs are gone
	FeedStopped  = "stopped"  // the server is shutting down, or the table was dropped
)

// Feed defaults.
const (
	defaultFeedPoll     = 200 * time.Millisecond
	defaultFeedRetryMax = retryMax
	defaultFeedMaxRows  = 10000
	feedReadChunk       = 4096
)

// feedMarkPrefix starts the catalog marks holding a fed table's next
// offset per partition: "kafka:0", "kafka:1", ...
const feedMarkPrefix = "kafka:"

func feedMark(p int32) string { return feedMarkPrefix + strconv.Itoa(int(p)) }

// feedStartedMark records that a table with start_offset = 'latest' has
// made its first look at its topic: partitions it finds later are read
// from their start.
const feedStartedMark = feedMarkPrefix + "started"

// FeedStatus is a fed table's feed, as sluice_table_feeds shows it.
type FeedStatus struct {
	Table     string
	Connector string
	Topic     string
	Status    string
	// Offsets are, per partition, the next offset to read: every record
	// before it has been applied (or skipped as bad).
	Offsets source.Offsets
	// Version is the table's version after the feed's last round: the
	// feed is the table's only writer.
	Version uint64
	// Upserts, Deletes and BadRecords count the records applied and
	// skipped since the feed started: every upsert and delete record,
	// even one a later record of the same key overwrote before it was
	// written (records read again after a restart that changed nothing
	// are counted again).
	Upserts, Deletes, BadRecords int64
	// LastBadRecord says where the last bad record was and what was wrong.
	LastBadRecord string
	// LastError is the error of the last round while retrying or failed.
	LastError error
	// Skipped names offsets retention deleted before the feed applied them,
	// skipped with fail_on_data_loss = false: "0:[10,25)".
	Skipped string
}

// feedSet holds the running feeds of a Manager; the zero value is empty.
type feedSet struct {
	mu sync.Mutex
	m  map[string]*feed
}

// feedOptions are a fed table's options, parsed.
type feedOptions struct {
	kafka          source.KafkaOptions
	maxRows        int64
	failOnDataLoss bool
	startLatest    bool
}

// parseFeedOptions checks a fed table's definition and options: 42601
// for an unknown option, 22023 for a bad value, 42P16 without a primary
// key, 0A000 for what a table cannot have (a dead-letter topic).
func parseFeedOptions(def catalog.TableDef) (feedOptions, error) {
	o := feedOptions{maxRows: defaultFeedMaxRows, failOnDataLoss: true}
	if !strings.EqualFold(def.Connector, "kafka") {
		return o, sqlerr.New(sqlerr.InvalidParameterValue, "table %q: unknown connector %q (a table can be fed only by 'kafka')", def.Name, def.Connector)
	}
	if len(def.PrimaryKey) == 0 {
		return o, sqlerr.New(sqlerr.InvalidTableDefinition, "table %q fed by connector 'kafka' needs a PRIMARY KEY", def.Name)
	}
	rest := map[string]string{}
	for k, v := range def.Options {
		switch strings.ToLower(k) {
		case "max_rows_per_batch":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return o, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"max_rows_per_batch\": %q (want a positive integer)", v)
			}
			o.maxRows = n
		case "fail_on_data_loss":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "on", "yes", "1":
				o.failOnDataLoss = true
			case "false", "off", "no", "0":
				o.failOnDataLoss = false
			default:
				return o, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"fail_on_data_loss\": %q (want true or false)", v)
			}
		case "start_offset":
			switch strings.ToLower(v) {
			case "earliest":
			case "latest":
				o.startLatest = true
			default:
				return o, sqlerr.New(sqlerr.InvalidParameterValue, "invalid value for option \"start_offset\": %q (want 'earliest' or 'latest')", v)
			}
		case "event_time", "watermark_delay":
			return o, sqlerr.New(sqlerr.SyntaxError, "unrecognized table option %q", k)
		default:
			rest[k] = v
		}
	}
	kopts, err := source.ParseKafkaOptions(rest)
	if err != nil {
		return o, err
	}
	if kopts.DeadLetterTopic != "" {
		return o, sqlerr.New(sqlerr.FeatureNotSupported, "option \"dead_letter_topic\" is not supported for a table: its bad records are counted in sluice_table_feeds")
	}
	kopts.Tombstones = true
	o.kafka = kopts
	return o, nil
}

// feed applies one changelog topic to one table.
type feed struct {
	m    *Manager
	def  catalog.TableDef
	opts feedOptions
	src  *source.Kafka
	// Columns of the source's records: the table's first, then the
	// pseudo-columns the feed needs that the table does not declare.
	ncols                           int // the table's columns
	keyCol, delCol, partCol, offCol int

	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex // guards the fields below
	st      FeedStatus
	pos     source.Offsets // next offset to read per partition
	changed chan struct{}  // closed and replaced when st changes
}

// newFeed opens a feed's source; it reads nothing yet.
func (m *Manager) newFeed(def catalog.TableDef) (*feed, error) {
	opts, err := parseFeedOptions(def)
	if err != nil {
		return nil, err
	}
	f := &feed{m: m, def: def, opts: opts, ncols: len(def.Columns), pos: source.Offsets{}, changed: make(chan struct{}),
		st: FeedStatus{Table: def.Name, Connector: "kafka", Topic: opts.kafka.Topic, Status: FeedRunning, Offsets: source.Offsets{}}}
	cols := make([]source.Column, 0, len(def.Columns)+4)
	for _, c := range def.Columns {
		cols = append(cols, source.Column{Name: c.Name, Type: c.Type})
	}
	pseudo := func(name string, t sqltypes.Type) int {
		if i := def.ColumnIndex(name); i >= 0 {
			return i
		}
		cols = append(cols, source.Column{Name: name, Type: t})
		return len(cols) - 1
	}
	f.keyCol = pseudo("_key", sqltypes.Text)
	f.delCol = pseudo("_deleted", sqltypes.Bool)
	f.partCol = pseudo("_partition", sqltypes.Int32)
	f.offCol = pseudo("_offset", sqltypes.Int64)
	if f.src, err = source.NewKafka("table "+def.Name, cols, opts.kafka); err != nil {
		return nil, err
	}
	return f, nil
}

// CreateTable creates a table fed by its connector (def.Connector, from
// CREATE TABLE ... WITH) and starts its feed. Its options are checked
// first (42601 for an unknown one, 22023 for a bad value); a broker that
// cannot be reached is not an error here: the feed retries it. With
// ifNotExists, a table of that name that exists is left as it is.
func (m *Manager) CreateTable(ctx context.Context, def catalog.TableDef, ifNotExists bool) error {
	f, err := m.newFeed(def)
	if err != nil {
		return err
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		_ = f.src.Close()
		return errClosed()
	}
	cat := m.cfg.Catalog
	if err := cat.CreateTable(ctx, def, false); err != nil {
		_ = f.src.Close()
		if ifNotExists && sqlerr.Code(err) == sqlerr.DuplicateTable {
			return nil
		}
		return err
	}
	if err := m.startFeed(f); err != nil {
		_ = cat.DropTable(ctx, def.Name, true)
		return err
	}
	return nil
}

// RestoreFeeds starts the feed of every fed table in the catalog (on
// start, after a restart): each goes on from its marks. A feed that
// cannot start (its options no longer parse) is listed as failed, with
// the reason.
func (m *Manager) RestoreFeeds(ctx context.Context) {
	cat := m.cfg.Catalog
	for _, name := range cat.TableNames() {
		t, err := cat.Table(name)
		if err != nil {
			continue
		}
		def := t.Def()
		if def.Connector == "" {
			continue
		}
		f, err := m.newFeed(def)
		if err == nil {
			err = m.startFeed(f)
		}
		if err != nil {
			m.cfg.Logger.Error("could not start the feed of table", "table", name, "err", err)
			m.failedFeed(def, err)
		}
	}
}

// failedFeed lists a feed that could not start.
func (m *Manager) failedFeed(def catalog.TableDef, err error) {
	f := &feed{m: m, def: def, done: make(chan struct{}), changed: make(chan struct{}),
		st: FeedStatus{Table: def.Name, Connector: def.Connector, Topic: def.Options["topic"], Status: FeedFailed, LastError: err}}
	close(f.done)
	f.cancel = func() {}
	m.feeds.mu.Lock()
	defer m.feeds.mu.Unlock()
	if m.feeds.m == nil {
		m.feeds.m = map[string]*feed{}
	}
	m.feeds.m[def.Name] = f
}

// startFeed registers f and starts its loop.
func (m *Manager) startFeed(f *feed) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		_ = f.src.Close()
		return errClosed()
	}
	m.feeds.mu.Lock()
	defer m.feeds.mu.Unlock()
	if m.feeds.m == nil {
		m.feeds.m = map[string]*feed{}
	}
	if _, ok := m.feeds.m[f.def.Name]; ok {
		_ = f.src.Close()
		return sqlerr.New(sqlerr.DuplicateObject, "table %q already has a feed", f.def.Name)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	m.feeds.m[f.def.Name] = f
	go f.run(ctx)
	return nil
}

// stopFeed stops a table's feed (its running round is cancelled: nothing
// it read is applied unless its write already committed) and forgets it.
// It returns the feed's definition, nil when the table has no feed.
func (m *Manager) stopFeed(name string) *catalog.TableDef {
	m.feeds.mu.Lock()
	f, ok := m.feeds.m[name]
	delete(m.feeds.m, name)
	m.feeds.mu.Unlock()
	if !ok {
		return nil
	}
	f.stopAndWait()
	return &f.def
}

// stopFeeds stops every feed (Close).
func (m *Manager) stopFeeds() {
	m.feeds.mu.Lock()
	all := make([]*feed, 0, len(m.feeds.m))
	for _, f := range m.feeds.m {
		all = append(all, f)
	}
	m.feeds.mu.Unlock()
	for _, f := range all {
		f.cancel()
	}
	for _, f := range all {
		f.stopAndWait()
	}
}

// DropTables drops tables (DROP TABLE), stopping the feeds of fed ones
// first. Unless ifExists, every table must exist before any is dropped
// (42P01). A table a stream reads, or the sink table of a stream, is
// refused with 2BP01, before any is dropped.
func (m *Manager) DropTables(ctx context.Context, names []string, ifExists bool) error {
	cat := m.cfg.Catalog
	for _, n := range names {
		if _, err := cat.Table(n); err != nil {
			if ifExists {
				continue
			}
			return err
		}
		if _, ok := m.StreamColumns(n); ok {
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop table %q because it is the sink of stream %q: DROP STREAM drops it", n, n)
		}
		if readers := m.TableReaders(n); len(readers) > 0 {
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop table %q because stream %q reads it", n, readers[0])
		}
	}
	for _, n := range names {
		def := m.stopFeed(n)
		if err := cat.DropTable(ctx, n, ifExists); err != nil {
			if def != nil {
				if _, terr := cat.Table(n); terr == nil {
					// Still there: it keeps its feed.
					if f, ferr := m.newFeed(*def); ferr == nil {
						_ = m.startFeed(f)
					}
				}
			}
			return err
		}
	}
	return nil
}

// Feeds describes every feed, sorted by table.
func (m *Manager) Feeds() []FeedStatus {
	m.feeds.mu.Lock()
	all := make([]*feed, 0, len(m.feeds.m))
	for _, f := range m.feeds.m {
		all = append(all, f)
	}
	m.feeds.mu.Unlock()
	out := make([]FeedStatus, len(all))
	for i, f := range all {
		out[i] = f.status()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// WaitForFeed waits until the table's feed status satisfies until (or
// ctx is done, or the feed is gone) and returns it. A feed that failed or
// stopped without satisfying until is an error.
func (m *Manager) WaitForFeed(ctx context.Context, table string, until func(FeedStatus) bool) (FeedStatus, error) {
	m.feeds.mu.Lock()
	f, ok := m.feeds.m[table]
	m.feeds.mu.Unlock()
	if !ok {
		return FeedStatus{}, sqlerr.New(sqlerr.UndefinedTable, "table %q has no feed", table)
	}
	for {
		f.mu.Lock()
		ch := f.changed
		st := f.statusLocked()
		f.mu.Unlock()
		if until(st) {
			return st, nil
		}
		if st.Status == FeedFailed || st.Status == FeedStopped {
			return st, sqlerr.New(sqlerr.Code(st.LastError), "the feed of table %q is %s: %v", table, st.Status, st.LastError)
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("the feed of table %q is %s at offsets %s (last error %v): %w", table, st.Status, st.Offsets, st.LastError, ctx.Err())
		case <-ch:
		}
	}
}

func (f *feed) status() FeedStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusLocked()
}

func (f *feed) statusLocked() FeedStatus {
	st := f.st
	st.Offsets = f.st.Offsets.Clone()
	return st
}

// update changes the status under the lock and wakes the waiters.
func (f *feed) update(fn func(st *FeedStatus)) {
	f.mu.Lock()
	fn(&f.st)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

func (f *feed) stopAndWait() {
	f.cancel()
	<-f.done
}

func (f *feed) poll() time.Duration {
	if d := f.m.cfg.FeedPoll; d > 0 {
		return d
	}
	return defaultFeedPoll
}

func (f *feed) retryMax() time.Duration {
	if d := f.m.cfg.FeedRetryMax; d > 0 {
		return d
	}
	return defaultFeedRetryMax
}

// run is the feed's loop: rounds, an idle poll when caught up, backoff
// after errors.
func (f *feed) run(ctx context.Context) {
	defer close(f.done)
	defer func() { _ = f.src.Close() }()
	backoff := time.Duration(0)
	for {
		more, err := f.round(ctx)
		if ctx.Err() != nil {
			f.update(func(st *FeedStatus) { st.Status = FeedStopped })
			return
		}
		var wait time.Duration
		switch {
		case err == nil:
			backoff = 0
			f.update(func(st *FeedStatus) { st.Status, st.LastError = FeedRunning, nil })
			if more {
				continue
			}
			wait = f.poll()
		case isDataLoss(err):
			f.m.cfg.Logger.Error("table feed failed", "table", f.def.Name, "err", err)
			f.update(func(st *FeedStatus) { st.Status, st.LastError = FeedFailed, err })
			return
		case sqlerr.Code(err) == sqlerr.UndefinedTable || sqlerr.Code(err) == sqlerr.AdminShutdown:
			// The table was dropped, or the catalog closed, under the feed.
			f.update(func(st *FeedStatus) { st.Status, st.LastError = FeedStopped, err })
			return
		default:
			if backoff == 0 {
				f.m.cfg.Logger.Warn("table feed retrying", "table", f.def.Name, "err", err)
			}
			backoff = nextBackoff(backoff, f.retryMax())
			f.update(func(st *FeedStatus) { st.Status, st.LastError = FeedRetrying, err })
			wait = backoff
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.update(func(st *FeedStatus) { st.Status = FeedStopped })
			return
		case <-t.C:
		}
	}
}

// errDataLoss marks a feed's data-loss error.
type errDataLoss struct{ err error }

func (e *errDataLoss) Error() string { return e.err.Error() }
func (e *errDataLoss) Unwrap() error { return e.err }

func isDataLoss(err error) bool {
	var d *errDataLoss
	return errors.As(err, &d)
}

// round applies what the topic has beyond the feed's offsets, at most
// maxRows records per partition; more is true when it read something
// (there may be more to read at once).
func (f *feed) round(ctx context.Context) (more bool, err error) {
	tbl, err := f.m.cfg.Catalog.Table(f.def.Name)
	if err != nil {
		return false, err
	}
	if tbl.Def().Connector == "" {
		// Dropped, and created again as an ordinary table.
		return false, sqlerr.New(sqlerr.UndefinedTable, "table %q is no longer fed", f.def.Name)
	}
	latest, err := f.src.Latest(ctx)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	start := f.pos.Clone()
	f.mu.Unlock()
	// Where to start in a partition the feed has not read since it
	// started: its mark, else its start. start_offset = 'latest' holds for
	// the partitions the table's first look finds (that look is made
	// durable at once, with the mark feedStartedMark); a partition added
	// later is read from its start, as it holds only newer records.
	snap := tbl.Snapshot()
	var earliest source.Offsets
	_, looked := snap.Mark(feedStartedMark)
	decided := f.opts.startLatest && !looked // the first look: durable at once
	for p, l := range latest {
		if _, ok := start[p]; ok {
			continue
		}
		if o, ok := snap.Mark(feedMark(p)); ok {
			start[p] = o
			continue
		}
		if decided {
			start[p] = l
			continue
		}
		if earliest == nil {
			if earliest, err = f.src.Earliest(ctx); err != nil {
				return false, err
			}
		}
		start[p] = earliest[p]
	}
	end := make(source.Offsets, len(start))
	rows := int64(0)
	for p, s := range start {
		l, ok := latest[p]
		if !ok {
			end[p] = s
			continue
		}
		if l < s {
			// The topic went back (deleted and created again): data
			// loss, as for a stream; or, with fail_on_data_loss =
			// false, read again from its start, upserting over the
			// table, and recorded.
			if f.opts.failOnDataLoss {
				return false, &errDataLoss{sqlerr.New(sqlerr.InvalidParameterValue,
					"table %q: partition %d of topic %q ends at offset %d, before offset %d the table has applied (was the topic deleted and created again? drop and create the table again to rebuild it, or create it with fail_on_data_loss = false to read the topic again)",
					f.def.Name, p, f.opts.kafka.Topic, l, s)}
			}
			if earliest == nil {
				if earliest, err = f.src.Earliest(ctx); err != nil {
					return false, err
				}
			}
			reset := skippedReset(p, s, l)
			f.m.cfg.Logger.Warn("table feed reads a partition that went back from its start", "table", f.def.Name, "reset", reset)
			f.update(func(st *FeedStatus) { st.Skipped = addSkipped(st.Skipped, reset) })
			s = earliest[p]
			start[p] = s
		}
		e := min(l, s+f.opts.maxRows)
		end[p] = e
		rows += e - s
	}
	if rows == 0 {
		version := snap.Version()
		if decided {
			if version, err = f.apply(ctx, tbl, nil, end, true); err != nil {
				return false, err
			}
		}
		f.setPos(end, version)
		return false, nil
	}
	recs, bad, err := f.src.ReadWithBad(ctx, f.m.cfg.Mem, start, end, feedReadChunk)
	if err != nil {
		var od *source.OffsetsDeletedError
		if !errors.As(err, &od) {
			return false, err
		}
		if f.opts.failOnDataLoss {
			return false, &errDataLoss{sqlerr.New(sqlerr.Code(err),
				"table %q: topic %q partition %d no longer has offsets [%d, %d): retention deleted them before the feed applied them (drop and create the table again to rebuild it, or create it with fail_on_data_loss = false to skip them)",
				f.def.Name, f.opts.kafka.Topic, od.Partition, od.Start, od.Earliest)}
		}
		// Skip to what is left; applied with the next write.
		skip := skippedGap(od.Partition, od.Start, od.Earliest)
		f.m.cfg.Logger.Warn("table feed skipped deleted offsets", "table", f.def.Name, "offsets", skip)
		f.mu.Lock()
		f.pos = start
		f.pos[od.Partition] = od.Earliest
		f.mu.Unlock()
		f.update(func(st *FeedStatus) { st.Skipped = addSkipped(st.Skipped, skip) })
		return true, nil
	}
	defer releaseAll(recs)
	ops := f.collect(recs, bad)
	version, err := f.apply(ctx, tbl, ops, end, decided)
	if err != nil {
		return false, err
	}
	f.setPos(end, version)
	return true, nil
}

// setPos records the offsets reached and the table's version after the
// round.
func (f *feed) setPos(end source.Offsets, version uint64) {
	f.mu.Lock()
	f.pos = end.Clone()
	f.mu.Unlock()
	f.update(func(st *FeedStatus) {
		st.Offsets = end.Clone()
		st.Version = version
	})
}

// feedOp is the last change a round makes to one key.
type feedOp struct {
	key []any // primary-key values, in PrimaryKey order
	row []any // the new row; nil deletes the key
}

// feedOps are a round's changes, one per key, in the order the keys
// first appeared.
type feedOps struct {
	order []string
	byKey map[string]*feedOp
	// Records: upserts and deletes (each counts, even when a later record
	// of the round overwrites it), and bad ones.
	upserts, deletes, bad int64
}

// collect folds a round's records into the last change per key, and
// counts the bad ones (the source's and those the table cannot take).
func (f *feed) collect(recs []arrow.Record, bad []source.BadRecord) *feedOps {
	ops := &feedOps{byKey: map[string]*feedOp{}}
	var lastBad string
	note := func(p int32, off int64, msg string) {
		ops.bad++
		lastBad = fmt.Sprintf("partition %d offset %d: %s", p, off, msg)
	}
	for _, b := range bad {
		note(b.Partition, b.Offset, b.Err)
	}
	pk := f.def.PrimaryKey
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			p := int32(expr.ValueAt(r.Column(f.partCol), i).(int64))
			off := expr.ValueAt(r.Column(f.offCol), i).(int64)
			keyText, hasKey := expr.ValueAt(r.Column(f.keyCol), i).(string)
			deleted, _ := expr.ValueAt(r.Column(f.delCol), i).(bool)
			var op feedOp
			if deleted {
				if !hasKey {
					note(p, off, "a record with a null value (a delete) needs a key")
					continue
				}
				key, err := f.keyFromText(keyText)
				if err != nil {
					note(p, off, err.Error())
					continue
				}
				op.key = key
			} else {
				row := make([]any, f.ncols)
				for c := range row {
					row[c] = expr.ValueAt(r.Column(c), i)
				}
				missing := false
				for _, k := range pk {
					missing = missing || row[k] == nil
				}
				if missing && hasKey {
					key, err := f.keyFromText(keyText)
					if err != nil {
						note(p, off, "the value has no primary key and "+err.Error())
						continue
					}
					for j, k := range pk {
						if row[k] == nil {
							row[k] = key[j]
						}
					}
				}
				if err := f.def.CheckRow(row); err != nil {
					note(p, off, err.Error())
					continue
				}
				op.row = row
				op.key = make([]any, len(pk))
				for j, k := range pk {
					op.key[j] = row[k]
				}
			}
			if op.row == nil {
				ops.deletes++
			} else {
				ops.upserts++
			}
			ks := f.keyString(op.key)
			if prev, ok := ops.byKey[ks]; ok {
				*prev = op
				continue
			}
			ops.order = append(ops.order, ks)
			ops.byKey[ks] = &op
		}
	}
	if lastBad != "" {
		f.update(func(st *FeedStatus) { st.LastBadRecord = lastBad })
	}
	return ops
}

// apply writes a round's changes and the offsets reached (as marks) in
// one catalog write, and returns the table's version after it (the one it
// made, or the current one when nothing changed and nothing had to be
// written). force writes the marks even without a change: the first look
// of a table that starts at the latest offsets.
func (f *feed) apply(ctx context.Context, tbl *catalog.Table, ops *feedOps, end source.Offsets, force bool) (uint64, error) {
	snap, err := tbl.Write(ctx, func(cur *catalog.Snapshot, w *catalog.Writer) error {
		changed := false
		if ops != nil {
			for _, ks := range ops.order {
				op := ops.byKey[ks]
				if ord, ok := cur.Lookup(op.key); ok {
					if err := w.Delete(ord); err != nil {
						return err
					}
					changed = true
				}
				if op.row == nil {
					continue
				}
				if err := w.Insert(op.row); err != nil {
					return err
				}
				changed = true
			}
		}
		if changed || force {
			for p, o := range end {
				w.SetMark(feedMark(p), o)
			}
		}
		if force && f.opts.startLatest {
			w.SetMark(feedStartedMark, 1)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if ops != nil {
		f.update(func(st *FeedStatus) {
			st.Upserts += ops.upserts
			st.Deletes += ops.deletes
			st.BadRecords += ops.bad
		})
	}
	return snap.Version(), nil
}

// keyFromText reads a record key as the table's primary-key values: a
// JSON object holding the primary-key columns by name, or, for a key of
// one column, its text (a JSON string is unquoted).
func (f *feed) keyFromText(s string) ([]any, error) {
	pk := f.def.PrimaryKey
	texts := make([]string, len(pk))
	trimmed := strings.TrimSpace(s)
	obj := map[string]any(nil)
	if strings.HasPrefix(trimmed, "{") {
		d := json.NewDecoder(strings.NewReader(trimmed))
		d.UseNumber()
		if err := d.Decode(&obj); err != nil {
			obj = nil
		}
	}
	switch {
	case obj != nil && (len(pk) > 1 || hasColumn(obj, f.def.Columns[pk[0]].Name)):
		for j, k := range pk {
			name := f.def.Columns[k].Name
			v, ok := obj[name]
			if !ok || v == nil {
				return nil, fmt.Errorf("the key %s has no value for primary-key column %q", excerpt(s), name)
			}
			switch v := v.(type) {
			case string:
				texts[j] = v
			case json.Number:
				texts[j] = v.String()
			case bool:
				texts[j] = strconv.FormatBool(v)
			default:
				return nil, fmt.Errorf("the key %s has a %T for primary-key column %q", excerpt(s), v, name)
			}
		}
	case len(pk) > 1:
		return nil, fmt.Errorf("the key %s is not a JSON object holding the primary-key columns", excerpt(s))
	case strings.HasPrefix(trimmed, `"`):
		if err := json.Unmarshal([]byte(trimmed), &texts[0]); err != nil {
			return nil, fmt.Errorf("the key %s is not a JSON string: %v", excerpt(s), err)
		}
	default:
		texts[0] = s
	}
	key := make([]any, len(pk))
	for j, k := range pk {
		c := f.def.Columns[k]
		v, err := sqltypes.ParseText(c.Type, texts[j])
		if err != nil {
			return nil, fmt.Errorf("the key %s does not fit primary-key column %q: %v", excerpt(s), c.Name, err)
		}
		key[j] = v
	}
	return key, nil
}

func hasColumn(obj map[string]any, name string) bool {
	_, ok := obj[name]
	return ok
}

// excerpt quotes the start of a key for an error message.
func excerpt(s string) string {
	const n = 100
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strconv.Quote(s)
}

// keyString encodes primary-key values (of the key columns' types) as a
// map key, equal for values the table's index takes as equal: REAL at
// float32 precision, -0 as 0, every NaN alike, times to the microsecond.
func (f *feed) keyString(vals []any) string {
	var b strings.Builder
	for j, v := range vals {
		t := f.def.Columns[f.def.PrimaryKey[j]].Type
		switch v := v.(type) {
		case float64:
			if t.Kind == sqltypes.KindFloat32 {
				v = float64(float32(v))
			}
			switch {
			case v == 0:
				v = 0
			case math.IsNaN(v):
				v = math.NaN()
			}
			fmt.Fprintf(&b, "f%x|", math.Float64bits(v))
		case time.Time:
			fmt.Fprintf(&b, "t%d|", v.UnixMicro())
		case string:
			fmt.Fprintf(&b, "s%d:%s|", len(v), v)
		default:
			fmt.Fprintf(&b, "%T:%v|", v, v)
		}
	}
	return b.String()
}
