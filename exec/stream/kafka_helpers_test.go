package stream

// Kafka test helpers shared by the stream and changelog-feed tests: an
// in-process Kafka-protocol broker (franz-go's kfake), producing,
// consuming and admin requests.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafkaBroker starts an in-process Kafka-protocol broker (kfake) with
// topics seeded with parts partitions each.
func kafkaBroker(t *testing.T, parts int32, topics ...string) (*kfake.Cluster, string) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topics...), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, c.ListenAddrs()[0]
}

// produceMsgs writes msgs, keyed, partitioned by key.
func produceMsgs(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	// A transport of its own: kafka-go's default one caches the topic's
	// partitions for up to 6s.
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Murmur2Balancer{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, AllowAutoTopicCreation: true, Transport: tr}
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// consume reads n records of topic from its start (failing after a
// deadline if fewer arrive).
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: %d records after %s, want %d", topic, len(out), waitTimeout, n)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// adminClient is a franz-go client for admin requests in tests.
func adminClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// addPartitions grows topic to count partitions.
func addPartitions(t *testing.T, addr, topic string, count int32) {
	t.Helper()
	req := kmsg.NewPtrCreatePartitionsRequest()
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = topic, count
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(context.Background(), adminClient(t, addr))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp.Topics {
		if r.ErrorCode != 0 {
			t.Fatalf("create partitions: error code %d", r.ErrorCode)
		}
	}
}

// deleteRecords deletes the records of topic partition 0 before offset,
// as retention would.
func deleteRecords(t *testing.T, addr, topic string, offset int64) {
	t.Helper()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	if _, err := req.RequestWith(context.Background(), adminClient(t, addr)); err != nil {
		t.Fatal(err)
	}
}

// brokerSwitch returns a switch that, while on, makes the broker drop
// the connection of every request (key -1) or of requests of one key,
// as a broker that went away (or refuses produce requests) would.
func brokerSwitch(c *kfake.Cluster, key int16) *atomic.Bool {
	down := new(atomic.Bool)
	fn := func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if down.Load() {
			return nil, errors.New("broker down (test)"), true
		}
		return nil, nil, false
	}
	if key < 0 {
		c.Control(fn)
	} else {
		c.ControlKey(key, fn)
	}
	return down
}
