package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec/expr"
)

// kafkaCluster starts an in-process Kafka-protocol broker with topic
// seeded with parts partitions.
func kafkaCluster(t *testing.T, parts int32, topics ...string) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topics...), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// produceTo writes msgs to the partitions their Partition fields name.
func produceTo(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll,
		Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition })}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func clickCols() []Column {
	return []Column{
		{Name: "ts", Type: sqltypes.Timestamp}, {Name: "user_id", Type: sqltypes.Int64},
		{Name: "page", Type: sqltypes.Text}, {Name: "latency_ms", Type: sqltypes.Int32},
		{Name: "_key", Type: sqltypes.Text}, {Name: "_partition", Type: sqltypes.Int32},
		{Name: "_offset", Type: sqltypes.Int64}, {Name: "_timestamp", Type: sqltypes.Timestamp},
	}
}

// rowsText prints records' rows as "v1|v2|...", NULL as "∅".
func rowsText(recs []arrow.Record) []string {
	var out []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			vals := make([]string, r.NumCols())
			for c := range vals {
				col := r.Column(c)
				if col.IsNull(i) {
					vals[c] = "∅"
					continue
				}
				if r.Schema().Field(c).Name == "_timestamp" {
					vals[c] = "ts" // broker time: checked separately
					continue
				}
				vals[c] = fmt.Sprint(expr.ValueAt(col, i))
			}
			out = append(out, strings.Join(vals, "|"))
		}
	}
	return out
}

func TestKafkaOptions(t *testing.T) {
	cases := []struct {
		name string
		opts map[string]string
		code string
		msg  string
	}{
		{"an unknown option is 42601 naming it", map[string]string{"brokers": "h:1", "topic": "t", "colour": "red"}, sqlerr.SyntaxError, `"colour"`},
		{"a missing topic is 22023", map[string]string{"brokers": "h:1"}, sqlerr.InvalidParameterValue, "topic"},
		{"missing brokers are 22023", map[string]string{"topic": "t"}, sqlerr.InvalidParameterValue, "brokers"},
		{"a broker without a port is 22023", map[string]string{"brokers": "localhost", "topic": "t"}, sqlerr.InvalidParameterValue, "localhost"},
		{"a format other than json is 22023", map[string]string{"brokers": "h:1", "topic": "t", "format": "avro"}, sqlerr.InvalidParameterValue, "avro"},
		{"max_bytes above 1 MiB is refused", map[string]string{"brokers": "h:1", "topic": "t", "max_bytes": "2000000"}, sqlerr.InvalidParameterValue, "max_bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseKafkaOptions(c.opts)
			if err == nil || sqlerr.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v (%s), want %s mentioning %s", err, sqlerr.Code(err), c.code, c.msg)
			}
		})
	}
	o, err := ParseKafkaOptions(map[string]string{"brokers": "a:1, b:2", "topic": "t", "format": "JSON", "connector": "kafka", "event_time": "ts", "dead_letter_topic": "dlq"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Brokers, ","); got != "a:1,b:2" || o.Topic != "t" || o.Format != "json" || o.DeadLetterTopic != "dlq" {
		t.Fatalf("got %+v", o)
	}
}

func TestKafkaReadsPartitionsInOrderWithPseudoColumns(t *testing.T) {
	_, addr := kafkaCluster(t, 3, "clicks")
	var msgs []kafka.Message
	for i := 0; i < 9; i++ {
		msgs = append(msgs, kafka.Message{Partition: i % 3, Key: []byte(fmt.Sprintf("u%d", i)),
			Value: []byte(fmt.Sprintf(`{"ts":"2026-11-21T10:00:0%dZ","user_id":%d,"page":"/p%d","latency_ms":%d}`, i, i, i, 100*i))})
	}
	produceTo(t, addr, "clicks", msgs...)

	k, err := NewKafka("clicks", clickCols(), KafkaOptions{Brokers: []string{addr}, Topic: "clicks"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	latest, err := k.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := latest.String(), "{0:3 1:3 2:3}"; got != want {
		t.Fatalf("latest %s, want %s", got, want)
	}
	earliest, err := k.Earliest(ctx)
	if err != nil || earliest.String() != "{0:0 1:0 2:0}" {
		t.Fatalf("earliest %v %v", earliest, err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs, bad, err := k.ReadWithBad(ctx, mem, Offsets{0: 1, 1: 0, 2: 2}, latest, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(recs)
	if len(bad) != 0 {
		t.Fatalf("bad records %v", bad)
	}
	got := rowsText(recs)
	want := []string{
		"2026-11-21 10:00:03 +0000 UTC|3|/p3|300|u3|0|1|ts",
		"2026-11-21 10:00:06 +0000 UTC|6|/p6|600|u6|0|2|ts",
		"2026-11-21 10:00:01 +0000 UTC|1|/p1|100|u1|1|0|ts",
		"2026-11-21 10:00:04 +0000 UTC|4|/p4|400|u4|1|1|ts",
		"2026-11-21 10:00:07 +0000 UTC|7|/p7|700|u7|1|2|ts",
		"2026-11-21 10:00:08 +0000 UTC|8|/p8|800|u8|2|2|ts",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range recs {
		if r.NumRows() > 2 {
			t.Fatalf("a record of %d rows, maxRows 2", r.NumRows())
		}
		ts := r.Column(7).(*array.Timestamp)
		for i := 0; i < ts.Len(); i++ {
			if d := time.Since(ts.Value(i).ToTime(arrow.Microsecond)); ts.IsNull(i) || d < 0 || d > time.Minute {
				t.Fatalf("_timestamp %v is not the produce time", ts.Value(i).ToTime(arrow.Microsecond))
			}
		}
	}
}

func TestKafkaBadRecordsAreReportedNotRows(t *testing.T) {
	_, addr := kafkaCluster(t, 1, "clicks")
	produceTo(t, addr, "clicks",
		kafka.Message{Value: []byte(`{"user_id":1,"page":"/a"}`)},
		kafka.Message{Key: []byte("k"), Value: []byte(`{"user_id":2,"page":`)},
		kafka.Message{Value: []byte(`{"user_id":"three","page":"/c"}`)},
		kafka.Message{Value: nil},
		kafka.Message{Value: []byte(`{"user_id":5,"page":"/e","latency_ms":7}`)},
	)
	k, err := NewKafka("clicks", clickCols(), KafkaOptions{Brokers: []string{addr}, Topic: "clicks"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs, bad, err := k.ReadWithBad(context.Background(), mem, Offsets{0: 0}, Offsets{0: 5}, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(recs)
	if got := rowsText(recs); len(got) != 2 || !strings.HasPrefix(got[0], "∅|1|/a|∅|∅|0|0|") || !strings.HasPrefix(got[1], "∅|5|/e|7|∅|0|4|") {
		t.Fatalf("rows %q", got)
	}
	if len(bad) != 3 {
		t.Fatalf("bad %+v, want 3", bad)
	}
	for i, want := range []struct {
		off int64
		key string
		err string
	}{{1, "k", "JSON"}, {2, "", "user_id"}, {3, "", "no value"}} {
		b := bad[i]
		if b.Partition != 0 || b.Offset != want.off || string(b.Key) != want.key || !strings.Contains(b.Err, want.err) {
			t.Errorf("bad[%d] = %+v, want offset %d key %q error mentioning %q", i, b, want.off, want.key, want.err)
		}
	}
	if string(bad[0].Value) != `{"user_id":2,"page":` {
		t.Errorf("bad value %q is not the raw record", bad[0].Value)
	}
}

func TestKafkaTombstonesBecomeDeletedRows(t *testing.T) {
	_, addr := kafkaCluster(t, 1, "rules")
	produceTo(t, addr, "rules", kafka.Message{Key: []byte("/a"), Value: []byte(`{"page":"/a","max":1}`)}, kafka.Message{Key: []byte("/a")})
	cols := []Column{{Name: "page", Type: sqltypes.Text}, {Name: "max", Type: sqltypes.Int64}, {Name: "_key", Type: sqltypes.Text}, {Name: "_deleted", Type: sqltypes.Bool}}
	k, err := NewKafka("rules", cols, KafkaOptions{Brokers: []string{addr}, Topic: "rules", Tombstones: true})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	recs, bad, err := k.ReadWithBad(context.Background(), memory.NewGoAllocator(), Offsets{0: 0}, Offsets{0: 2}, 10)
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	defer releaseAll(recs)
	if got, want := strings.Join(rowsText(recs), ","), "/a|1|/a|false,∅|∅|/a|true"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestKafkaDeletedOffsetsAreDataLoss(t *testing.T) {
	_, addr := kafkaCluster(t, 1, "t")
	for i := 0; i < 10; i++ {
		produceTo(t, addr, "t", kafka.Message{Value: []byte(fmt.Sprintf(`{"user_id":%d}`, i))})
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 6
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	if _, err := req.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	k, err := NewKafka("t", clickCols(), KafkaOptions{Brokers: []string{addr}, Topic: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := context.Background()
	if e, err := k.Earliest(ctx); err != nil || e[0] != 6 {
		t.Fatalf("earliest %v %v, want 6", e, err)
	}
	_, err = k.Read(ctx, memory.NewGoAllocator(), Offsets{0: 2}, Offsets{0: 10}, 100)
	var od *OffsetsDeletedError
	if !errors.As(err, &od) || sqlerr.Code(err) != sqlerr.InvalidParameterValue || od.Earliest != 6 || od.Start != 2 {
		t.Fatalf("got %v, want an OffsetsDeletedError from 2 with earliest 6", err)
	}
	recs, err := k.Read(ctx, memory.NewGoAllocator(), Offsets{0: 6}, Offsets{0: 10}, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(recs)
	if n := len(rowsText(recs)); n != 4 {
		t.Fatalf("%d rows after the gap, want 4", n)
	}
}

func TestKafkaUnreachableBrokerIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	k, err := NewKafka("t", clickCols(), KafkaOptions{Brokers: []string{addr}, Topic: "t", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	_, err = k.Latest(context.Background())
	if !IsUnavailable(err) || sqlerr.Code(err) != sqlerr.ConnectionFailure || !strings.Contains(err.Error(), addr) {
		t.Fatalf("got %v (%s), want an 08006 unavailable error naming the broker", err, sqlerr.Code(err))
	}
}

// TestKafkaReadsPastTransactionMarkersAndSmallFetches reads a partition
// holding a committed transaction (a record and its commit marker), a
// record larger than max_bytes and a small one, in fetches of at most 300
// bytes: every record comes back, none is skipped.
func TestKafkaReadsPastTransactionMarkersAndSmallFetches(t *testing.T) {
	_, addr := kafkaCluster(t, 1, "tx")
	ctx := context.Background()
	tx, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("sluice-test"), kgo.DefaultProduceTopic("tx"))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(ctx, &kgo.Record{Value: []byte(`{"user_id":1}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	produceTo(t, addr, "tx",
		kafka.Message{Value: []byte(fmt.Sprintf(`{"user_id":2,"page":"/%s"}`, strings.Repeat("x", 600)))},
		kafka.Message{Value: []byte(`{"user_id":3}`)})
	k, err := NewKafka("tx", clickCols(), KafkaOptions{Brokers: []string{addr}, Topic: "tx", MaxBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	latest, err := k.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if latest[0] != 4 {
		t.Fatalf("latest %v, want 4 (a record, its commit marker, two records)", latest)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs, bad, err := k.ReadWithBad(ctx, mem, Offsets{0: 0}, latest, 100)
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	defer releaseAll(recs)
	var users []string
	for _, row := range rowsText(recs) {
		users = append(users, strings.Split(row, "|")[1]+"@"+strings.Split(row, "|")[6])
	}
	if got, want := strings.Join(users, " "), "1@0 2@2 3@3"; got != want {
		t.Fatalf("user@offset %s, want %s", got, want)
	}
}
