package stream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	kafka "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/planner"
)

// TestMain lets the Kafka benchmark run its broker in a child process
// (this test binary again, with kfakeChildEnv set), so that the
// benchmark's CPU figures are the client side's alone.
func TestMain(m *testing.M) {
	if os.Getenv(kfakeChildEnv) != "" {
		runKfakeChild()
		return
	}
	os.Exit(m.Run())
}

const kfakeChildEnv = "SLUICE_TEST_KFAKE_CHILD"

// runKfakeChild serves a kfake cluster with the topics named in the
// environment variable ("topic:partitions,..."), prints its address and
// runs until its stdin closes.
func runKfakeChild() {
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}
	for _, t := range strings.Split(os.Getenv(kfakeChildEnv), ",") {
		name, parts, _ := strings.Cut(t, ":")
		n, _ := strconv.Atoi(parts)
		opts = append(opts, kfake.SeedTopics(int32(max(n, 1)), name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(c.ListenAddrs()[0])
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Close()
}

// kfakeProcess starts a broker in a child process (see TestMain) and
// returns its address; it stops when the benchmark ends.
func kfakeProcess(b *testing.B, topics string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), kfakeChildEnv+"="+topics)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("kfake child: %v", err)
	}
	return strings.TrimSpace(line)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClicks produces n clicks messages (JSON, as DESIGN.md's clicks
// source) to topic over parts partitions.
func benchClicks(b *testing.B, addr, topic string, n int) {
	b.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond,
		BatchSize: 10000, BatchBytes: 1 << 20, RequiredAcks: kafka.RequireOne}
	defer w.Close()
	const chunk = 10000
	msgs := make([]kafka.Message, 0, chunk)
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(strconv.Itoa(i % 1000)), Value: []byte(fmt.Sprintf(
			`{"ts":"2026-11-21T10:%02d:%02d.%03dZ","user_id":%d,"page":"/page/%d","latency_ms":%d}`,
			(i/60000)%60, (i/1000)%60, i%1000, i%100000, i%64, (i*7919)%1000))})
		if len(msgs) == chunk || i == n-1 {
			if err := w.WriteMessages(context.Background(), msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
}

// BenchmarkKafkaJSONFilter measures Kafka JSON in -> filter -> Kafka JSON
// out through a stream (source, planner, operators, sink, checkpoint),
// next to a baseline that reads the same messages with kafka-go and
// writes them back unchanged. Both run against a kfake broker in a child
// process, so the CPU figures are this process's: the client side. It reports messages per second
// of wall time and per CPU-second (messages/s per core), and the ratio.
//
//	go test ./exec/stream -run XXX -bench KafkaJSONFilter -benchtime 1x
func BenchmarkKafkaJSONFilter(b *testing.B) {
	const n = 400_000
	const parts = 2
	addr := kfakeProcess(b, fmt.Sprintf("clicks:%d", parts))
	benchClicks(b, addr, "clicks", n)
	ctx := context.Background()

	for i := 0; i < b.N; i++ {
		// Baseline: plain kafka-go, fetch every partition in 1 MiB
		// requests and write every message to another topic.
		cpu0, t0 := cpuTime(), time.Now()
		out := &kafka.Writer{Addr: kafka.TCP(addr), Topic: fmt.Sprintf("base%d", i), Balancer: &kafka.Murmur2Balancer{},
			BatchTimeout: time.Millisecond, BatchSize: 1 << 14, BatchBytes: 1 << 20, RequiredAcks: kafka.RequireAll, AllowAutoTopicCreation: true}
		cl := &kafka.Client{Addr: kafka.TCP(addr)}
		read := 0
		for p := 0; p < parts; p++ {
			off := int64(0)
			for {
				res, err := cl.Fetch(ctx, &kafka.FetchRequest{Topic: "clicks", Partition: p, Offset: off, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: time.Second})
				if err != nil || res.Error != nil {
					b.Fatal(err, res.Error)
				}
				var msgs []kafka.Message
				for {
					r, err := res.Records.ReadRecord()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					key, _ := io.ReadAll(r.Key)
					val, _ := io.ReadAll(r.Value)
					msgs = append(msgs, kafka.Message{Key: key, Value: val})
					off = r.Offset + 1
				}
				if err := out.WriteMessages(ctx, msgs...); err != nil {
					b.Fatal(err)
				}
				read += len(msgs)
				if off >= res.HighWatermark {
					break
				}
			}
		}
		out.Close()
		baseWall, baseCPU := time.Since(t0), cpuTime()-cpu0
		if read != n {
			b.Fatalf("baseline read %d of %d", read, n)
		}

		// Sluice: the same messages through a stream.
		cat, err := catalog.OpenWithOptions(ctx, b.TempDir(), catalog.Options{NoAutoCheckpoint: true})
		if err != nil {
			b.Fatal(err)
		}
		m, err := NewManager(Config{Catalog: cat, Dir: b.TempDir(), Mem: memory.NewGoAllocator(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		h := &harness{ctx: ctx, cat: cat, m: m, parser: planner.NewParser(), clock: NewManualClock(time.Now())}
		cpu0, t0 = cpuTime(), time.Now()
		for _, sql := range []string{
			fmt.Sprintf(`CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT, page VARCHAR(64), latency_ms INT) WITH (connector = 'kafka', brokers = '%s', topic = 'clicks', format = 'json')`, addr),
			fmt.Sprintf(`CREATE STREAM slow WITH (trigger = '0s', max_rows_per_batch = 50000, sink = 'kafka', brokers = '%s', topic = 'slow%d', key = 'page') AS
				SELECT ts, user_id, page, latency_ms FROM clicks WHERE latency_ms >= 0`, addr, i),
		} {
			if err := h.exec(sql); err != nil {
				b.Fatal(err)
			}
		}
		var st Status
		for {
			sts := m.Streams()
			st = sts[0]
			if st.Totals.InputRows >= n || st.Status == StatusFailed {
				break
			}
			wctx, cancel := context.WithTimeout(ctx, time.Minute)
			_, _ = m.WaitForBatch(wctx, "slow", st.LastBatch+1)
			cancel()
		}
		wall, cpu := time.Since(t0), cpuTime()-cpu0
		if st.Totals.InputRows != n || st.Totals.OutputRows != n {
			b.Fatalf("stream read %d, wrote %d of %d (%s %v)", st.Totals.InputRows, st.Totals.OutputRows, n, st.Status, st.LastError)
		}
		_ = m.DropStream(ctx, "slow", false)
		_ = m.DropSource(ctx, "clicks", false)
		_ = m.Close()
		_ = cat.Close()

		b.ReportMetric(float64(n)/wall.Seconds(), "msgs/s")
		b.ReportMetric(float64(n)/cpu.Seconds(), "msgs/cpu-s")
		b.ReportMetric(float64(n)/baseWall.Seconds(), "base-msgs/s")
		b.ReportMetric(float64(n)/baseCPU.Seconds(), "base-msgs/cpu-s")
		b.ReportMetric(cpu.Seconds()/baseCPU.Seconds(), "cpu-ratio")
		b.ReportMetric(wall.Seconds()/baseWall.Seconds(), "wall-ratio")
	}
}
