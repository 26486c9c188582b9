package stream

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// waitTotals waits until the stream has read want input records,
// decoded or not.
func (h *harness) waitTotals(name string, want int64) Status {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		st := h.status(name)
		if got := st.Totals.InputRows + st.Totals.BadRows; got >= want {
			return st
		}
		if st.Status == StatusFailed || time.Now().After(deadline) {
			h.t.Fatalf("stream %s: %d+%d records read, want %d (status %s, %v)", name, st.Totals.InputRows, st.Totals.BadRows, want, st.Status, st.LastError)
		}
		ctx, cancel := context.WithTimeout(h.ctx, time.Until(deadline))
		_, _ = h.m.WaitForBatch(ctx, name, st.LastBatch+1)
		cancel()
	}
}

func TestKafkaInFilterKafkaOutWithBadRecords(t *testing.T) {
	_, addr := kafkaBroker(t, 3, "clicks", "slow", "dlq")
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	var msgs []kafka.Message
	wantOut := map[string]int{} // page -> output messages
	for i := 0; i < 60; i++ {
		page := fmt.Sprintf("/p%d", i%4)
		lat := 100 * (i % 10)
		v := fmt.Sprintf(`{"user_id":%d,"page":%q,"latency_ms":%d}`, i, page, lat)
		switch i {
		case 17:
			v = `{"user_id":17,"page":` // malformed
		case 41:
			v = `{"user_id":"forty-one","page":"/p1","latency_ms":900}` // wrong type
		default:
			if lat > 500 {
				wantOut[page]++
			}
		}
		msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(v)})
	}
	produceMsgs(t, addr, "clicks", msgs...)

	h.mustExec(fmt.Sprintf(`CREATE SOURCE clicks (user_id BIGINT, page TEXT, latency_ms INT) WITH (connector = 'kafka',
		brokers = '%s', topic = 'clicks', format = 'json', dead_letter_topic = 'dlq', max_rows_per_batch = 7)`, addr))
	h.mustExec(fmt.Sprintf(`CREATE STREAM slow WITH (trigger = '0s', sink = 'kafka', brokers = '%s', topic = 'slow', key = 'page') AS
		SELECT user_id, page, latency_ms, _partition AS src_partition FROM clicks WHERE latency_ms > 500`, addr))
	st := h.waitTotals("slow", 60)
	if st.Totals.BadRows != 2 || st.Totals.InputRows != 58 {
		t.Fatalf("totals %+v, want 58 rows and 2 bad", st.Totals)
	}
	n := 0
	for _, c := range wantOut {
		n += c
	}
	if st.Totals.OutputRows != int64(n) {
		t.Fatalf("output rows %d, want %d", st.Totals.OutputRows, n)
	}
	batches := map[int64]bool{}
	for _, p := range h.progress("slow") {
		batches[p.BatchID] = true
	}

	// The output: one JSON message per row, keyed by page (so one page
	// stays on one partition), with the stream and batch in headers.
	got := map[string]int{}
	partOf := map[string]int32{}
	// Keyed records go where Kafka's Java client puts them: franz-go's
	// sticky key partitioner with its default murmur2 hasher.
	javaPartitioner := kgo.StickyKeyPartitioner(nil).ForTopic("slow")
	for _, r := range consume(t, addr, "slow", n) {
		var row struct {
			UserID   int64  `json:"user_id"`
			Page     string `json:"page"`
			Latency  int32  `json:"latency_ms"`
			SrcPart  int32  `json:"src_partition"`
			Unwanted *int   `json:"_key"`
		}
		if err := json.Unmarshal(r.Value, &row); err != nil {
			t.Fatalf("output %q is not JSON: %v", r.Value, err)
		}
		if string(r.Key) != row.Page || row.Latency <= 500 || row.Unwanted != nil {
			t.Fatalf("output key %q value %s", r.Key, r.Value)
		}
		if p, ok := partOf[row.Page]; ok && p != r.Partition {
			t.Fatalf("page %s went to partitions %d and %d", row.Page, p, r.Partition)
		}
		// The partition Kafka's Java client (murmur2) picks for the key.
		if want := javaPartitioner.Partition(&kgo.Record{Key: r.Key}, 3); int32(want) != r.Partition {
			t.Fatalf("key %q went to partition %d; Kafka's default partitioner picks %d", r.Key, r.Partition, want)
		}
		partOf[row.Page] = r.Partition
		got[row.Page]++
		b, err := strconv.ParseInt(header(r, HeaderBatch), 10, 64)
		if header(r, HeaderStream) != "slow" || err != nil || !batches[b] {
			t.Fatalf("headers %v: want stream slow and a committed batch id", r.Headers)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(wantOut) {
		t.Fatalf("output per page %v, want %v", got, wantOut)
	}

	// The bad records: counted per batch, kept in Errors, copied to the
	// dead-letter topic with where they came from and why.
	bad := int64(0)
	for _, p := range h.progress("slow") {
		bad += p.BadRows
	}
	if bad != 2 {
		t.Fatalf("progress counts %d bad rows, want 2", bad)
	}
	errs := h.m.Errors()
	if len(errs) != 2 {
		t.Fatalf("errors %+v, want 2", errs)
	}
	for _, r := range consume(t, addr, "dlq", 2) {
		off, _ := strconv.ParseInt(header(r, HeaderOffset), 10, 64)
		found := false
		for _, e := range errs {
			if e.Offset == off && strconv.Itoa(int(e.Partition)) == header(r, HeaderPartition) && e.Err == header(r, HeaderError) && e.Excerpt == string(r.Value) {
				found = true
			}
		}
		if !found || header(r, HeaderSource) != "clicks" || (string(r.Key) != "17" && string(r.Key) != "41") {
			t.Fatalf("dead letter %q key %q headers %v matches no error row %+v", r.Value, r.Key, r.Headers, errs)
		}
	}
}

// TestKafkaOutageRetriesAndLosesNothing makes the broker drop every
// connection for a while: the stream shows 'retrying' with the error,
// and once the broker answers again it goes on, every record read once.
func TestKafkaOutageRetriesAndLosesNothing(t *testing.T) {
	c, addr := kafkaBroker(t, 2, "in")
	down := brokerSwitch(c, -1)
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'in')`, addr))
	h.mustExec(`CREATE STREAM total WITH (trigger = '0s') AS SELECT n FROM s`)
	batch := func(from, to int) []kafka.Message {
		var m []kafka.Message
		for i := from; i < to; i++ {
			m = append(m, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
		}
		return m
	}
	produceMsgs(t, addr, "in", batch(0, 50)...)
	h.waitTotals("total", 50)

	down.Store(true)
	h.waitStatus("total", StatusRetrying)
	if st := h.status("total"); st.LastError == nil {
		t.Fatal("a retrying stream shows no error")
	}
	// PAUSE while it retries: it stops trying and says so; RESUME
	// makes it try again.
	h.mustExec(`PAUSE STREAM total`)
	h.waitStatus("total", StatusPaused)
	h.mustExec(`RESUME STREAM total`)
	h.waitStatus("total", StatusRetrying)
	down.Store(false)
	produceMsgs(t, addr, "in", batch(50, 120)...)
	h.waitTotals("total", 120)
	if st := h.status("total"); st.Status != StatusRunning {
		t.Fatalf("status %s after the broker came back", st.Status)
	}
	rows := h.tableRows("total")
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r] = true
	}
	if len(rows) != 120 || len(seen) != 120 || !seen["0"] || !seen["119"] {
		t.Fatalf("%d rows, %d distinct, want 0..119 once each", len(rows), len(seen))
	}
}

// TestKafkaPartitionsAddedLaterAreRead adds partitions to a topic a
// stream reads with start_offset = 'latest': records produced to a new
// partition are read from its start.
func TestKafkaPartitionsAddedLaterAreRead(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "grow")
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'grow', start_offset = 'latest')`, addr))
	h.mustExec(`CREATE STREAM c WITH (trigger = '0s') AS SELECT n, _partition AS p FROM s`)
	h.waitIdle() // the stream has looked once: it starts at the end of partition 0
	produceMsgs(t, addr, "grow", kafka.Message{Value: []byte(`{"n":1}`)})
	h.waitTotals("c", 1)

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	addPartitions(t, addr, "grow", 3)
	for i, p := range []int32{2, 1, 2} {
		res := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "grow", Partition: p, Value: []byte(fmt.Sprintf(`{"n":%d}`, 10+i))})
		if err := res.FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	h.waitTotals("c", 4)
	if got, want := strings.Join(h.tableRows("c"), ","), "1 | 0,10 | 2,11 | 1,12 | 2"; got != want {
		t.Fatalf("rows %s, want %s", got, want)
	}
}

// TestKafkaRetentionGapIsDataLoss: offsets the topic deleted before a
// stream read them fail the stream naming them, or, with
// fail_on_data_loss = false, are skipped and recorded.
func TestKafkaRetentionGapIsDataLoss(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "gap")
	var msgs []kafka.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, kafka.Message{Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	produceMsgs(t, addr, "gap", msgs...)
	deleteRecords(t, addr, "gap", 4)
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'gap')`, addr))
	// Both start at the earliest offset left (4); the gap opens later,
	// under streams that have a place.
	h.mustExec(`CREATE STREAM strict WITH (trigger = '0s') AS SELECT n FROM s`)
	h.mustExec(`CREATE STREAM lax WITH (trigger = '0s', fail_on_data_loss = false) AS SELECT n FROM s`)
	h.waitTotals("strict", 6)
	h.waitTotals("lax", 6)
	// Paused, the streams cannot read offset 10 before it is deleted.
	h.mustExec(`PAUSE STREAM strict`)
	h.mustExec(`PAUSE STREAM lax`)
	h.waitIdle()
	produceMsgs(t, addr, "gap", kafka.Message{Value: []byte(`{"n":10}`)}, kafka.Message{Value: []byte(`{"n":11}`)})
	deleteRecords(t, addr, "gap", 11)
	produceMsgs(t, addr, "gap", kafka.Message{Value: []byte(`{"n":12}`)})
	h.mustExec(`RESUME STREAM strict`)
	h.mustExec(`RESUME STREAM lax`)

	st := h.waitStatus("strict", StatusFailed)
	if !strings.Contains(fmt.Sprint(st.LastError), "no longer has offsets [10, 11)") {
		t.Fatalf("strict stream failed with %v, want the gap [10, 11) named", st.LastError)
	}
	h.waitTotals("lax", 8)
	skipped := ""
	for _, p := range h.progress("lax") {
		skipped += p.Skipped
	}
	if got := strings.Join(h.tableRows("lax"), ","); skipped != "0:[10,11)" || got != "11,12,4,5,6,7,8,9" {
		t.Fatalf("lax stream skipped %q, rows %s", skipped, got)
	}
}

// TestKafkaTopicCreatedAgainIsDataLoss deletes a topic a stream has read
// and creates it again with fewer records: a stream fails saying so, or,
// with fail_on_data_loss = false, reads the new topic from its start and
// records the reset.
func TestKafkaTopicCreatedAgainIsDataLoss(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "again")
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'again')`, addr))
	h.mustExec(`CREATE STREAM strict WITH (trigger = '0s') AS SELECT n FROM s`)
	h.mustExec(`CREATE STREAM lax WITH (trigger = '0s', fail_on_data_loss = false) AS SELECT n FROM s`)
	var msgs []kafka.Message
	for i := 0; i < 5; i++ {
		msgs = append(msgs, kafka.Message{Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	produceMsgs(t, addr, "again", msgs...)
	h.waitTotals("strict", 5)
	h.waitTotals("lax", 5)
	h.mustExec(`PAUSE STREAM strict`)
	h.mustExec(`PAUSE STREAM lax`)
	h.waitIdle()

	cl := adminClient(t, addr)
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.TopicNames = []string{"again"}
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr("again")
	del.Topics = append(del.Topics, dt)
	del.TimeoutMillis = 5000
	if _, err := del.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	cr := kmsg.NewPtrCreateTopicsRequest()
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "again", 1, 1
	cr.Topics = append(cr.Topics, ct)
	cr.TimeoutMillis = 5000
	if _, err := cr.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	produceMsgs(t, addr, "again", kafka.Message{Value: []byte(`{"n":100}`)}, kafka.Message{Value: []byte(`{"n":101}`)})
	h.mustExec(`RESUME STREAM strict`)
	h.mustExec(`RESUME STREAM lax`)

	st := h.waitStatus("strict", StatusFailed)
	if !strings.Contains(fmt.Sprint(st.LastError), "ends at offset 2, before offset 5") {
		t.Fatalf("strict stream failed with %v", st.LastError)
	}
	h.waitTotals("lax", 7)
	skipped := ""
	for _, p := range h.progress("lax") {
		skipped += p.Skipped
	}
	if got := strings.Join(h.tableRows("lax"), ","); skipped != "0:reset(5>2)" || got != "0,1,100,101,2,3,4" {
		t.Fatalf("lax stream recorded %q, rows %s", skipped, got)
	}
}

// TestKafkaGroupIDGetsTheCommittedOffsets: with group_id, a stream's
// committed offsets are copied to the consumer group, where lag tools
// read them.
func TestKafkaGroupIDGetsTheCommittedOffsets(t *testing.T) {
	_, addr := kafkaBroker(t, 2, "lag")
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'lag', group_id = 'sluice-lag')`, addr))
	h.mustExec(`CREATE STREAM c WITH (trigger = '0s') AS SELECT n FROM s`)
	var msgs []kafka.Message
	for i := 0; i < 20; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	produceMsgs(t, addr, "lag", msgs...)
	h.waitTotals("c", 20)
	// The copy follows the commit: poll the group (a broker cannot
	// notify) until it has the offsets, or a deadline.
	cl := adminClient(t, addr)
	deadline := time.Now().Add(waitTimeout)
	for {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group = "sluice-lag"
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(0)
		for _, tp := range resp.Topics {
			for _, p := range tp.Partitions {
				if tp.Topic == "lag" && p.ErrorCode == 0 && p.Offset > 0 {
					got += p.Offset
				}
			}
		}
		if got == 0 { // newer versions answer per group
			for _, g := range resp.Groups {
				for _, tp := range g.Topics {
					for _, p := range tp.Partitions {
						if tp.Topic == "lag" && p.ErrorCode == 0 && p.Offset > 0 {
							got += p.Offset
						}
					}
				}
			}
		}
		if got == 20 {
			return
		}
		if got > 20 || time.Now().After(deadline) {
			t.Fatalf("the group's offsets add up to %d, want 20", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKafkaAggregateRestoredWhileBrokerIsDown restarts the server with
// the broker away: the aggregate stream, which must replay batches from
// the topic to rebuild its state, shows 'retrying' instead of failing,
// and once the broker answers it recovers and goes on, every record
// counted once.
func TestKafkaAggregateRestoredWhileBrokerIsDown(t *testing.T) {
	c, addr := kafkaBroker(t, 2, "agg")
	down := brokerSwitch(c, -1)
	catDir, dataDir := t.TempDir(), t.TempDir()
	h := newHarnessAt(t, catDir, dataDir, func(c *Config) { c.Clock = RealClock{}; c.CheckpointEvery = 100 })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (k TEXT, n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'agg', max_rows_per_batch = 10)`, addr))
	h.mustExec(`CREATE STREAM totals WITH (trigger = '0s') AS SELECT k, count(*) AS c, sum(n) AS s FROM s GROUP BY k`)
	msgs := func(from, to int) []kafka.Message {
		var m []kafka.Message
		for i := from; i < to; i++ {
			m = append(m, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"k":"k%d","n":%d}`, i%3, i))})
		}
		return m
	}
	produceMsgs(t, addr, "agg", msgs(0, 60)...)
	h.waitTotals("totals", 60)
	h.waitIdle()

	// Restart with the broker away: no state snapshot yet (every 100
	// batches), so recovery must replay every batch from the topic.
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.cat.Close(); err != nil {
		t.Fatal(err)
	}
	h.catalogClosed = true
	down.Store(true)
	h2 := newHarnessAt(t, catDir, dataDir, func(c *Config) { c.Clock = RealClock{}; c.CheckpointEvery = 100 })
	h2.restore()
	st := h2.waitStatus("totals", StatusRetrying)
	if st.LastError == nil {
		t.Fatal("retrying with no error shown")
	}
	down.Store(false)
	produceMsgs(t, addr, "agg", msgs(60, 90)...)
	h2.waitTotals("totals", 30) // totals count since the restart
	h2.waitIdle()
	want := []string{}
	for k := 0; k < 3; k++ {
		c, sum := 0, 0
		for i := k; i < 90; i += 3 {
			c, sum = c+1, sum+i
		}
		want = append(want, fmt.Sprintf("k%d | %d | %d", k, c, sum))
	}
	if got := strings.Join(h2.tableRows("totals"), ","); got != strings.Join(want, ",") {
		t.Fatalf("totals %s, want %s", got, strings.Join(want, ","))
	}
	if st := h2.status("totals"); st.Status != StatusRunning {
		t.Fatalf("status %s (%v)", st.Status, st.LastError)
	}
}

// TestKafkaSinkOutageRetriesTheBatch makes the broker refuse produce
// requests while a stream writes its first batch: the stream retries in
// status 'retrying', and once produce works every row is in the output,
// each copy with the batch id it was written with.
func TestKafkaSinkOutageRetriesTheBatch(t *testing.T) {
	c, addr := kafkaBroker(t, 2, "in", "out")
	var msgs []kafka.Message
	for i := 0; i < 30; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	produceMsgs(t, addr, "in", msgs...)
	down := brokerSwitch(c, kmsg.Produce.Int16())
	down.Store(true)
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%[1]s', topic = 'in')`, addr))
	h.mustExec(fmt.Sprintf(`CREATE STREAM copy WITH (trigger = '0s', sink = 'kafka', brokers = '%[1]s', topic = 'out') AS SELECT n FROM s`, addr))
	st := h.waitStatus("copy", StatusRetrying)
	if !strings.Contains(fmt.Sprint(st.LastError), "produce to topic out") || st.LastBatch != -1 {
		t.Fatalf("retrying with %v at batch %d", st.LastError, st.LastBatch)
	}
	down.Store(false)
	h.waitTotals("copy", 30)
	seen := map[int]bool{}
	for _, r := range consume(t, addr, "out", 30) {
		var row struct{ N int }
		if err := json.Unmarshal(r.Value, &row); err != nil {
			t.Fatal(err)
		}
		seen[row.N] = true
		if header(r, HeaderBatch) != "0" {
			t.Fatalf("row %d written by batch %s, want 0", row.N, header(r, HeaderBatch))
		}
	}
	if len(seen) != 30 {
		t.Fatalf("%d distinct rows in the output, want 30", len(seen))
	}
}

// TestKafkaLatestOnATopicCreatedLater: a stream with start_offset =
// 'latest' over a topic that does not exist yet reads everything the
// topic gets once it is created.
func TestKafkaLatestOnATopicCreatedLater(t *testing.T) {
	_, addr := kafkaBroker(t, 1, "other")
	h := newHarness(t, func(c *Config) { c.Clock = RealClock{} })
	h.mustExec(fmt.Sprintf(`CREATE SOURCE s (n BIGINT) WITH (connector = 'kafka', brokers = '%s', topic = 'later', start_offset = 'latest')`, addr))
	h.mustExec(`CREATE STREAM c WITH (trigger = '0s') AS SELECT n FROM s`)
	h.waitIdle() // it has looked: no topic
	produceMsgs(t, addr, "later", kafka.Message{Value: []byte(`{"n":0}`)}, kafka.Message{Value: []byte(`{"n":1}`)}, kafka.Message{Value: []byte(`{"n":2}`)})
	h.waitTotals("c", 3)
	if got := strings.Join(h.tableRows("c"), ","); got != "0,1,2" {
		t.Fatalf("rows %s, want 0,1,2", got)
	}
}
