package stream

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/exec/source"
	"github.com/sluice-sql/sluice/planner/plan"
)

// upsert is a record setting key's row to the JSON value.
func upsert(key, value string) kafka.Message {
	return kafka.Message{Key: []byte(key), Value: []byte(value)}
}

// tombstone is a record deleting key's row.
func tombstone(key string) kafka.Message { return kafka.Message{Key: []byte(key)} }

// feedHarness is a harness whose feeds poll every few milliseconds.
func feedHarness(t *testing.T, tweak ...func(*Config)) *harness {
	t.Helper()
	// Registered first, so run last: after the harness closed the manager.
	t.Cleanup(func() { checkNoFeedGoroutines(t) })
	return newHarness(t, append([]func(*Config){fastFeeds}, tweak...)...)
}

func fastFeeds(c *Config) {
	c.FeedPoll = 2 * time.Millisecond
	c.FeedRetryMax = 20 * time.Millisecond
}

// createFed runs CREATE TABLE ... WITH (...) as the server does.
func (h *harness) createFed(sql string) error {
	st, err := h.bind(sql)
	if err != nil {
		return err
	}
	ct, ok := st.(*plan.CreateTable)
	if !ok {
		return fmt.Errorf("%q bound to %T", sql, st)
	}
	return h.m.CreateTable(h.ctx, ct.Def, ct.IfNotExists)
}

func (h *harness) mustCreateFed(sql string) {
	h.t.Helper()
	if err := h.createFed(sql); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// waitFeed waits until the table's feed satisfies until.
func (h *harness) waitFeed(table string, until func(FeedStatus) bool) FeedStatus {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, waitTimeout)
	defer cancel()
	st, err := h.m.WaitForFeed(ctx, table, until)
	if err != nil {
		h.t.Fatalf("wait for the feed of %s: %v", table, err)
	}
	return st
}

// waitRead waits until the feed has read n records of its topic (applied
// or skipped as bad): its offsets, which start at 0, add up to n.
func (h *harness) waitRead(table string, n int64) FeedStatus {
	h.t.Helper()
	return h.waitFeed(table, func(st FeedStatus) bool { return sumOffsets(st.Offsets) >= n })
}

func sumOffsets(o source.Offsets) int64 {
	n := int64(0)
	for _, v := range o {
		n += v
	}
	return n
}

// checkNoFeedGoroutines fails the test if a feed loop is still running
// after a bounded wait.
func checkNoFeedGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := strings.Count(string(buf), "exec/stream.(*feed).run")
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d feed loops still running", n)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func rulesTable(addr string, more string) string {
	return fmt.Sprintf(`CREATE TABLE rules (page VARCHAR(8) PRIMARY KEY, category TEXT, max_latency INT NOT NULL)
		WITH (connector = 'kafka', brokers = '%s', topic = 'rules', format = 'json'%s)`, addr, more)
}

func TestFeedUpsertsOverwritesAndDeletesByKey(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules",
		upsert("/a", `{"page":"/a","category":"x","max_latency":100}`),
		upsert("/b", `{"page":"/b","category":"y","max_latency":200}`),
		upsert("/c", `{"page":"/c","category":"z","max_latency":300}`))
	st := h.waitRead("rules", 3)
	equal(t, "after three upserts", h.tableRows("rules"), []string{"/a | x | 100", "/b | y | 200", "/c | z | 300"})
	v1 := st.Version
	if v1 < 2 {
		t.Fatalf("feed version %d after a write, want at least 2", v1)
	}

	produceMsgs(t, addr, "rules",
		upsert("/a", `{"page":"/a","category":"x2","max_latency":150}`),
		tombstone("/b"),
		tombstone("/nope"), // deleting a key that is not there changes nothing
		upsert("/d", `{"page":"/d","max_latency":400}`))
	st = h.waitRead("rules", 7)
	equal(t, "after an overwrite, deletes and an upsert", h.tableRows("rules"),
		[]string{"/a | x2 | 150", "/c | z | 300", "/d | NULL | 400"})
	if st.Upserts != 5 || st.Deletes != 2 || st.BadRecords != 0 || st.Status != FeedRunning {
		t.Fatalf("status %+v, want 5 upserts, 2 deletes, none bad, running", st)
	}
	tbl, _ := h.cat.Table("rules")
	snap := tbl.Snapshot()
	if snap.Version() != st.Version || st.Version <= v1 {
		t.Fatalf("table at version %d, feed says %d (before: %d)", snap.Version(), st.Version, v1)
	}
	if o, ok := snap.Mark(feedMark(0)); !ok || o != 7 {
		t.Fatalf("mark %s = %d, %v; want 7", feedMark(0), o, ok)
	}
}

func TestFeedTakesKeysFromTheRecordKey(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "one", "two")
	h := feedHarness(t)
	h.mustCreateFed(fmt.Sprintf(`CREATE TABLE one (id BIGINT PRIMARY KEY, v TEXT) WITH (connector = 'kafka', brokers = '%s', topic = 'one')`, addr))
	h.mustCreateFed(fmt.Sprintf(`CREATE TABLE two (region TEXT, id INT, v TEXT, PRIMARY KEY (region, id)) WITH (connector = 'kafka', brokers = '%s', topic = 'two')`, addr))
	produceMsgs(t, addr, "one",
		upsert("1", `{"v":"from the key"}`),         // no id in the value: the key has it
		upsert(`"2"`, `{"v":"a JSON string key"}`),  // a JSON string
		upsert(`{"id":3}`, `{"v":"an object key"}`), // an object holding the key column
		upsert("4", `{"id":4,"v":"four"}`),
		upsert("5", `{"id":5,"v":"five"}`),
		tombstone(`{"id":4}`),
		tombstone(`"5"`))
	produceMsgs(t, addr, "two",
		upsert(`{"region":"eu","id":1}`, `{"v":"a"}`),
		upsert(`{"region":"us","id":1}`, `{"region":"us","id":1,"v":"b"}`),
		upsert(`{"region":"us","id":2}`, `{"v":"c"}`),
		tombstone(`{"id":2,"region":"us"}`))
	h.waitRead("one", 7)
	h.waitRead("two", 4)
	equal(t, "one", h.tableRows("one"), []string{"1 | from the key", "2 | a JSON string key", "3 | an object key"})
	equal(t, "two", h.tableRows("two"), []string{"eu | 1 | a", "us | 1 | b"})
}

func TestFeedCountsBadRecordsAndGoesOn(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules",
		upsert("/a", `{"page":"/a","max_latency":1}`),
		upsert("/b", `{"page":"/b","max_latency":`),                // malformed JSON
		upsert("/c", `{"page":"/c","max_latency":"slow"}`),         // a string for an INT
		upsert("/d", `{"page":"/d"}`),                              // NULL in a NOT NULL column
		upsert("/toolong", `{"page":"/toolong!","max_latency":1}`), // VARCHAR(8) too long
		kafka.Message{Value: []byte(`{"category":"no key at all","max_latency":1}`)},
		kafka.Message{}, // a delete without a key
		tombstone("/a"), // good
		upsert("/e", `{"page":"/e","max_latency":5}`), // good
		upsert("/f", `{"page":"/f","max_latency":6}`)) // good
	st := h.waitRead("rules", 10)
	equal(t, "the table", h.tableRows("rules"), []string{"/e | NULL | 5", "/f | NULL | 6"})
	if st.BadRecords != 6 || st.Upserts != 3 || st.Deletes != 1 || st.Status != FeedRunning {
		t.Fatalf("status %+v, want 6 bad records, 3 upserts, 1 delete, running", st)
	}
	if !strings.HasPrefix(st.LastBadRecord, "partition 0 offset 6: ") {
		t.Fatalf("last bad record %q, want the one at offset 6", st.LastBadRecord)
	}

	// A round of only bad records writes nothing: no new version.
	before := st.Version
	produceMsgs(t, addr, "rules", upsert("/g", `not json`))
	st = h.waitRead("rules", 11)
	tbl, _ := h.cat.Table("rules")
	if st.BadRecords != 7 || tbl.Snapshot().Version() != before {
		t.Fatalf("after a bad record: %d bad, table version %d (was %d)", st.BadRecords, tbl.Snapshot().Version(), before)
	}
}

func TestFeedReadsEveryPartitionAndPartitionsAddedLater(t *testing.T) {
	_, addr := kafkaBroker(t, 3, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ", max_rows_per_batch = 4"))
	var msgs []kafka.Message
	want := map[string]string{}
	for i := 0; i < 60; i++ {
		page := fmt.Sprintf("/p%d", i%20) // each page three times: the last one wins
		msgs = append(msgs, upsert(page, fmt.Sprintf(`{"page":%q,"max_latency":%d}`, page, i)))
		want[page] = fmt.Sprintf("%s | NULL | %d", page, i)
	}
	produceMsgs(t, addr, "rules", msgs...)
	st := h.waitRead("rules", 60)
	if len(st.Offsets) != 3 {
		t.Fatalf("offsets %v, want 3 partitions", st.Offsets)
	}
	equal(t, "after 60 records on 3 partitions", h.tableRows("rules"), sortedValues(want))

	// Two partitions more: the feed finds them (once the source's Kafka
	// client refreshes its metadata cache, within a second or so).
	addPartitions(t, addr, "rules", 5)
	msgs = nil
	for i := 0; i < 40; i++ {
		page := fmt.Sprintf("/q%d", i)
		msgs = append(msgs, upsert(page, fmt.Sprintf(`{"page":%q,"max_latency":%d}`, page, i)))
		want[page] = fmt.Sprintf("%s | NULL | %d", page, i)
	}
	produceMsgs(t, addr, "rules", msgs...)
	st = h.waitRead("rules", 100)
	if len(st.Offsets) != 5 {
		t.Fatalf("offsets %v, want 5 partitions", st.Offsets)
	}
	equal(t, "after 40 more on 5 partitions", h.tableRows("rules"), sortedValues(want))
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sortStrings(out)
	return out
}

// restartFeeds closes the manager and the catalog and opens them again
// over the same directories, as a server restart does, with the feeds
// restored.
func (h *harness) restartFeeds(catDir, dataDir string) *harness {
	h.t.Helper()
	if err := h.m.Close(); err != nil {
		h.t.Fatal(err)
	}
	if err := h.cat.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.catalogClosed = true
	h2 := newHarnessAt(h.t, catDir, dataDir, fastFeeds)
	h2.restore()
	h2.m.RestoreFeeds(h2.ctx)
	return h2
}

func TestFeedResumesFromItsMarksAfterARestart(t *testing.T) {
	_, addr := kafkaBroker(t, 2, "rules")
	catDir, dataDir := t.TempDir(), t.TempDir()
	t.Cleanup(func() { checkNoFeedGoroutines(t) })
	h := newHarnessAt(t, catDir, dataDir, fastFeeds)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules",
		upsert("/a", `{"page":"/a","max_latency":1}`),
		upsert("/b", `{"page":"/b","max_latency":2}`),
		upsert("/c", `{"page":"/c","max_latency":3}`))
	st := h.waitRead("rules", 3)
	tbl, _ := h.cat.Table("rules")
	version := tbl.Snapshot().Version()
	if st.Version != version {
		t.Fatalf("feed at version %d, table at %d", st.Version, version)
	}

	// Records produced while the server is down are applied after it
	// comes back; those applied before are not applied again.
	h2 := h.restartFeeds(catDir, dataDir)
	equal(t, "after the restart", h2.tableRows("rules"), []string{"/a | NULL | 1", "/b | NULL | 2", "/c | NULL | 3"})
	st = h2.waitFeed("rules", func(st FeedStatus) bool { return len(st.Offsets) == 2 })
	if sumOffsets(st.Offsets) != 3 || st.Upserts != 0 {
		t.Fatalf("after the restart: %+v, want offsets adding up to 3 and nothing applied again", st)
	}
	tbl, _ = h2.cat.Table("rules")
	if v := tbl.Snapshot().Version(); v != version {
		t.Fatalf("the restart made version %d of the table (was %d): something was applied again", v, version)
	}
	produceMsgs(t, addr, "rules",
		tombstone("/a"),
		upsert("/b", `{"page":"/b","max_latency":20}`),
		upsert("/d", `{"page":"/d","max_latency":4}`))
	st = h2.waitRead("rules", 6)
	equal(t, "after more records", h2.tableRows("rules"), []string{"/b | NULL | 20", "/c | NULL | 3", "/d | NULL | 4"})
	if st.Upserts != 2 || st.Deletes != 1 {
		t.Fatalf("after the restart the feed applied %d upserts and %d deletes, want 2 and 1", st.Upserts, st.Deletes)
	}
}

func TestFeedFailsWhenOffsetsItNeedsWereDeleted(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail_on_data_loss=%v", !skip), func(t *testing.T) {
			_, addr := kafkaBroker(t, 1, "rules")
			catDir, dataDir := t.TempDir(), t.TempDir()
			t.Cleanup(func() { checkNoFeedGoroutines(t) })
			h := newHarnessAt(t, catDir, dataDir, fastFeeds)
			more := ""
			if skip {
				more = ", fail_on_data_loss = false"
			}
			h.mustCreateFed(rulesTable(addr, more))
			produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":1}`))
			h.waitRead("rules", 1)
			if err := h.m.Close(); err != nil {
				t.Fatal(err)
			}
			// While the server is down: four more records, and retention
			// deletes all but the last two.
			produceMsgs(t, addr, "rules",
				upsert("/b", `{"page":"/b","max_latency":2}`),
				upsert("/c", `{"page":"/c","max_latency":3}`),
				upsert("/d", `{"page":"/d","max_latency":4}`),
				upsert("/e", `{"page":"/e","max_latency":5}`))
			deleteRecords(t, addr, "rules", 3)
			h2 := h.restartFeeds(catDir, dataDir)
			if !skip {
				st := h2.waitFeed("rules", func(st FeedStatus) bool { return st.Status == FeedFailed })
				if st.LastError == nil || !strings.Contains(st.LastError.Error(), "no longer has offsets [1, 3)") {
					t.Fatalf("error %v, want one naming offsets [1, 3)", st.LastError)
				}
				if sqlerr.Code(st.LastError) != sqlerr.InvalidParameterValue {
					t.Fatalf("error code %s, want 22023", sqlerr.Code(st.LastError))
				}
				equal(t, "the table", h2.tableRows("rules"), []string{"/a | NULL | 1"})
				return
			}
			st := h2.waitRead("rules", 5)
			if st.Skipped != "0:[1,3)" || st.Status != FeedRunning {
				t.Fatalf("status %+v, want offsets 0:[1,3) skipped and running", st)
			}
			equal(t, "the table", h2.tableRows("rules"), []string{"/a | NULL | 1", "/d | NULL | 4", "/e | NULL | 5"})
		})
	}
}

// TestFeedOfATopicCreatedAgain deletes a fed table's topic and creates it
// again with fewer records: the feed fails saying so, or, with
// fail_on_data_loss = false, reads the new topic from its start over the
// table and records the reset.
func TestFeedOfATopicCreatedAgain(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail_on_data_loss=%v", !skip), func(t *testing.T) {
			_, addr := kafkaBroker(t, 1, "rules")
			h := feedHarness(t)
			more := ""
			if skip {
				more = ", fail_on_data_loss = false"
			}
			h.mustCreateFed(rulesTable(addr, more))
			produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":1}`),
				upsert("/b", `{"page":"/b","max_latency":2}`), upsert("/c", `{"page":"/c","max_latency":3}`))
			h.waitRead("rules", 3)
			cl := adminClient(t, addr)
			del := kmsg.NewPtrDeleteTopicsRequest()
			dt := kmsg.NewDeleteTopicsRequestTopic()
			dt.Topic = kmsg.StringPtr("rules")
			del.Topics, del.TopicNames, del.TimeoutMillis = append(del.Topics, dt), []string{"rules"}, 5000
			if _, err := del.RequestWith(context.Background(), cl); err != nil {
				t.Fatal(err)
			}
			cr := kmsg.NewPtrCreateTopicsRequest()
			ct := kmsg.NewCreateTopicsRequestTopic()
			ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "rules", 1, 1
			cr.Topics, cr.TimeoutMillis = append(cr.Topics, ct), 5000
			if _, err := cr.RequestWith(context.Background(), cl); err != nil {
				t.Fatal(err)
			}
			produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":10}`))
			// The feed may look between the deletion and the record (the
			// partition then ends at 0) or after it (at 1).
			if !skip {
				st := h.waitFeed("rules", func(st FeedStatus) bool { return st.Status == FeedFailed })
				if !strings.Contains(fmt.Sprint(st.LastError), "before offset 3 the table has applied") {
					t.Fatalf("error %v", st.LastError)
				}
				return
			}
			st := h.waitFeed("rules", func(st FeedStatus) bool {
				return strings.Contains(st.Skipped, "reset") && st.Offsets.String() == "{0:1}" && st.Status == FeedRunning
			})
			if !strings.HasPrefix(st.Skipped, "0:reset(3>") || st.Status != FeedRunning {
				t.Fatalf("status %+v", st)
			}
			equal(t, "the table", h.tableRows("rules"), []string{"/a | NULL | 10", "/b | NULL | 2", "/c | NULL | 3"})
		})
	}
}

// TestFeedRetriesThroughABrokerOutage makes the broker refuse the feed's
// reads for a while: the feed shows 'retrying' with the error, and goes
// on when the broker answers again, with every record applied once.
func TestFeedRetriesThroughABrokerOutage(t *testing.T) {
	c, addr := kafkaBroker(t, 2, "rules")
	var down atomic.Bool
	c.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		// Producing still works: only the feed's reads fail.
		if k := req.Key(); down.Load() && (k == kmsg.ListOffsets.Int16() || k == kmsg.Fetch.Int16()) {
			return nil, errors.New("broker down (test)"), true
		}
		return nil, nil, false
	})
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":1}`), upsert("/b", `{"page":"/b","max_latency":2}`))
	h.waitRead("rules", 2)

	down.Store(true)
	produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":10}`), upsert("/c", `{"page":"/c","max_latency":3}`))
	st := h.waitFeed("rules", func(st FeedStatus) bool { return st.Status == FeedRetrying })
	if st.LastError == nil || sqlerr.Code(st.LastError) != sqlerr.ConnectionFailure {
		t.Fatalf("retrying with error %v, want a connection failure (08006)", st.LastError)
	}
	equal(t, "while the broker is down", h.tableRows("rules"), []string{"/a | NULL | 1", "/b | NULL | 2"})

	down.Store(false)
	st = h.waitRead("rules", 4)
	equal(t, "after the outage", h.tableRows("rules"), []string{"/a | NULL | 10", "/b | NULL | 2", "/c | NULL | 3"})
	st = h.waitFeed("rules", func(st FeedStatus) bool { return st.Status == FeedRunning })
	if st.Upserts != 4 || st.LastError != nil {
		t.Fatalf("status %+v, want 4 upserts and no error", st)
	}
}

func TestStreamJoiningAFedTableSeesItsChangesFromTheNextBatch(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules", upsert("/home", `{"page":"/home","category":"landing","max_latency":800}`))
	h.waitRead("rules", 1)
	h.mustExec(`CREATE SOURCE clicks (user_id BIGINT, page TEXT, latency_ms INT) WITH (connector = 'log')`)
	h.mustExec(`CREATE STREAM slow WITH (trigger = '1s') AS
		SELECT c.user_id, r.category FROM clicks c JOIN rules r ON c.page = r.page WHERE c.latency_ms > r.max_latency`)
	h.waitIdle()
	h.appendRows("clicks", []any{int64(1), "/home", int64(600)}) // not slow: 600 <= 800
	h.advance(time.Second)
	h.waitBatch("slow", 0)

	produceMsgs(t, addr, "rules", upsert("/home", `{"page":"/home","category":"landing","max_latency":500}`))
	st := h.waitRead("rules", 2)
	h.appendRows("clicks", []any{int64(2), "/home", int64(600)}) // slow now
	h.advance(time.Second)
	h.waitBatch("slow", 1)
	equal(t, "the stream's table", h.tableRows("slow"), []string{"2 | landing"})
	p := h.progress("slow")
	if want := fmt.Sprintf("rules=%d", st.Version); p[1].ConfigVersions != want || p[0].ConfigVersions == want {
		t.Fatalf("config versions %q then %q, want batch 1 at %s", p[0].ConfigVersions, p[1].ConfigVersions, want)
	}

	// A stream reads the table: it cannot be dropped.
	wantCode(t, h.m.DropTables(h.ctx, []string{"rules"}, false), sqlerr.DependentObjectsStillExist)
}

func TestDropTableStopsItsFeed(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	produceMsgs(t, addr, "rules", upsert("/a", `{"page":"/a","max_latency":1}`))
	h.waitRead("rules", 1)
	if err := h.m.DropTables(h.ctx, []string{"rules"}, false); err != nil {
		t.Fatal(err)
	}
	if fs := h.m.Feeds(); len(fs) != 0 {
		t.Fatalf("feeds after DROP: %+v", fs)
	}
	checkNoFeedGoroutines(t)
	if _, err := h.cat.Table("rules"); sqlerr.Code(err) != sqlerr.UndefinedTable {
		t.Fatalf("table after DROP: %v", err)
	}
	// Created again, it is rebuilt from the topic.
	h.mustCreateFed(rulesTable(addr, ""))
	h.waitRead("rules", 1)
	equal(t, "created again", h.tableRows("rules"), []string{"/a | NULL | 1"})
}

func TestCreateFedTableChecksItsOptions(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	tests := []struct {
		name, sql, code string
	}{
		{"an unknown option", rulesTable(addr, ", colour = 'blue'"), sqlerr.SyntaxError},
		{"no brokers", `CREATE TABLE rules (page TEXT PRIMARY KEY) WITH (connector = 'kafka', topic = 'rules')`, sqlerr.InvalidParameterValue},
		{"a bad broker address", `CREATE TABLE rules (page TEXT PRIMARY KEY) WITH (connector = 'kafka', brokers = 'nohost', topic = 'rules')`, sqlerr.InvalidParameterValue},
		{"a format other than json", strings.Replace(rulesTable(addr, ""), "'json'", "'avro'", 1), sqlerr.InvalidParameterValue},
		{"a dead-letter topic", rulesTable(addr, ", dead_letter_topic = 'dlq'"), sqlerr.FeatureNotSupported},
		{"a metadata column of the wrong type", fmt.Sprintf(`CREATE TABLE rules (page TEXT PRIMARY KEY, _offset INT) WITH (connector = 'kafka', brokers = '%s', topic = 'rules')`, addr), sqlerr.DatatypeMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.createFed(tc.sql), tc.code)
			if _, err := h.cat.Table("rules"); err == nil {
				t.Fatal("the table was created")
			}
		})
	}

	// A metadata column the table declares is filled from the record.
	h.mustCreateFed(fmt.Sprintf(`CREATE TABLE rules (page TEXT PRIMARY KEY, _offset BIGINT, _key TEXT) WITH (connector = 'kafka', brokers = '%s', topic = 'rules')`, addr))
	produceMsgs(t, addr, "rules", upsert("k1", `{"page":"/a"}`), upsert("k2", `{"page":"/a"}`))
	h.waitRead("rules", 2)
	equal(t, "the table", h.tableRows("rules"), []string{"/a | 1 | k2"})
	// IF NOT EXISTS leaves it as it is.
	if err := h.createFed(strings.Replace(rulesTable(addr, ""), "CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)); err != nil {
		t.Fatal(err)
	}
	if fs := h.m.Feeds(); len(fs) != 1 {
		t.Fatalf("feeds %+v, want one", fs)
	}
}

func TestCloseStopsFeedsAndRefusesNewOnes(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	h := feedHarness(t)
	h.mustCreateFed(rulesTable(addr, ""))
	h.waitFeed("rules", func(st FeedStatus) bool { return len(st.Offsets) == 1 })
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	checkNoFeedGoroutines(t)
	if fs := h.m.Feeds(); len(fs) != 1 || fs[0].Status != FeedStopped {
		t.Fatalf("feeds after Close: %+v, want one, stopped", fs)
	}
	wantCode(t, h.createFed(strings.Replace(rulesTable(addr, ""), "rules (", "other (", 1)), sqlerr.AdminShutdown)
}

func TestFeedStartingAtLatestKeepsThatStartAcrossARestart(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "rules")
	catDir, dataDir := t.TempDir(), t.TempDir()
	t.Cleanup(func() { checkNoFeedGoroutines(t) })
	h := newHarnessAt(t, catDir, dataDir, fastFeeds)
	produceMsgs(t, addr, "rules", upsert("/old", `{"page":"/old","max_latency":1}`), upsert("/older", `{"page":"/older","max_latency":2}`))
	h.mustCreateFed(rulesTable(addr, ", start_offset = 'latest'"))
	st := h.waitFeed("rules", func(st FeedStatus) bool { return len(st.Offsets) == 1 })
	if st.Offsets[0] != 2 {
		t.Fatalf("a feed starting at latest starts at %v, want {0:2}", st.Offsets)
	}
	// Where it starts is durable at once: a restart does not move it to
	// the latest offset of then, past a record produced while it was down.
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	produceMsgs(t, addr, "rules", upsert("/new", `{"page":"/new","max_latency":3}`))
	h2 := h.restartFeeds(catDir, dataDir)
	h2.waitRead("rules", 3)
	equal(t, "the table", h2.tableRows("rules"), []string{"/new | NULL | 3"})

	// A partition added later holds only newer records: it is read from
	// its start.
	addPartitions(t, addr, "rules", 2)
	var msgs []kafka.Message
	for i := range 10 {
		page := fmt.Sprintf("/n%d", i)
		msgs = append(msgs, upsert(page, fmt.Sprintf(`{"page":%q,"max_latency":%d}`, page, i)))
	}
	produceMsgs(t, addr, "rules", msgs...)
	st = h2.waitRead("rules", 13)
	if len(st.Offsets) != 2 || st.Offsets[1] == 0 {
		t.Fatalf("offsets %v, want records read from partition 1", st.Offsets)
	}
	if rows := h2.tableRows("rules"); len(rows) != 11 {
		t.Fatalf("the table has %d rows, want 11: %v", len(rows), rows)
	}
}
