package main

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// kcat runs kcat against broker with args, stdin as its input, and
// returns what it printed.
func kcat(t *testing.T, bin, broker, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, bin, append([]string{"-b", broker, "-q"}, args...)...)
	c.Stdin = strings.NewReader(stdin)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestKafkaWalkthroughWithKcatAndPsql is the Kafka round trip a new user
// tries: kcat produces JSON clicks to a topic and page rules to a second
// topic, psql declares the clicks source, a config table fed from the
// rules topic and a stream that filters clicks joined to it into a third
// topic, and kcat reads that topic. A rule changed on the rules topic
// changes the output from the next batch.
func TestKafkaWalkthroughWithKcatAndPsql(t *testing.T) {
	kc, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed; .ci/run installs it")
	}
	psqlBin, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed; .ci/run installs postgresql-client")
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "clicks"), kfake.SeedTopics(1, "page_rules", "slow-clicks"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]

	srv := startServer(t, buildBinary(t), t.TempDir())
	host, port, _ := strings.Cut(srv.addr, ":")
	psql := psqlRunner{t: t, psql: psqlBin, host: host, port: port}

	kcat(t, kc, broker, `/home:{"page":"/home","category":"landing","max_latency":800}
/cart:{"page":"/cart","category":"checkout","max_latency":300}
`, "-P", "-t", "page_rules", "-K:")
	kcat(t, kc, broker, `{"ts":"2026-11-21T10:00:00Z","user_id":1,"page":"/home","latency_ms":900}
{"ts":"2026-11-21T10:00:01Z","user_id":2,"page":"/home","latency_ms":500}
{"ts":"2026-11-21T10:00:02Z","user_id":3,"page":"/cart","latency_ms":350}
{"ts":"2026-11-21T10:00:03Z","user_id":4,"page":"/cart","latency_ms":200}
this line is not JSON
{"ts":1795255204000,"user_id":5,"page":"/about","latency_ms":5000}
`, "-P", "-t", "clicks")

	psql.run(fmt.Sprintf(`
CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT, page VARCHAR(64), latency_ms INT)
  WITH (connector = 'kafka', brokers = '%[1]s', topic = 'clicks', format = 'json',
        start_offset = 'earliest', event_time = 'ts', watermark_delay = '5s');
CREATE TABLE page_rules (page VARCHAR(64) PRIMARY KEY, category VARCHAR(32), max_latency INT)
  WITH (connector = 'kafka', brokers = '%[1]s', topic = 'page_rules', format = 'json');
`, broker))
	psql.waitFor("SELECT count(*) FROM page_rules", "2")
	psql.run(fmt.Sprintf(`
CREATE STREAM slow_clicks WITH (trigger = '100ms', sink = 'kafka', brokers = '%s', topic = 'slow-clicks', key = 'page') AS
  SELECT c.ts, c.user_id, c.page, r.category
  FROM clicks c JOIN page_rules r ON c.page = r.page
  WHERE c.latency_ms > r.max_latency;
`, broker))
	read := func(n int) []string {
		out := kcat(t, kc, broker, "", "-C", "-t", "slow-clicks", "-o", "beginning", "-c", fmt.Sprint(n), "-f", "%k %s %h\n")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		sort.Strings(lines)
		return lines
	}
	got := read(2)
	want := []string{
		`/cart {"ts":"2026-11-21T10:00:02Z","user_id":3,"page":"/cart","category":"checkout"} sluice-stream=slow_clicks,sluice-batch=`,
		`/home {"ts":"2026-11-21T10:00:00Z","user_id":1,"page":"/home","category":"landing"} sluice-stream=slow_clicks,sluice-batch=`,
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("slow-clicks:\n%s\nwant lines starting:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	psql.waitFor("SELECT bad_rows FROM sluice_streams WHERE name = 'slow_clicks'", "1")
	psql.waitFor("SELECT error LIKE '%JSON%' FROM sluice_errors WHERE stream = 'slow_clicks'", "t")

	// The rule for /home drops to 100 ms on the rules topic: once the
	// table has it, new clicks are judged by it.
	kcat(t, kc, broker, `/home:{"page":"/home","category":"landing","max_latency":100}
`, "-P", "-t", "page_rules", "-K:")
	psql.waitFor("SELECT max_latency FROM page_rules WHERE page = '/home'", "100")
	kcat(t, kc, broker, `{"ts":"2026-11-21T10:00:10Z","user_id":6,"page":"/home","latency_ms":500}
`, "-P", "-t", "clicks")
	got = read(3)
	if len(got) != 3 || !strings.Contains(strings.Join(got, "\n"), `"user_id":6,"page":"/home","category":"landing"`) {
		t.Fatalf("after the rule change, slow-clicks:\n%s\nwant user 6's /home click too", strings.Join(got, "\n"))
	}
	if strings.Contains(strings.Join(got, "\n"), `"user_id":2,`) {
		t.Fatalf("user 2's click, judged by the old rule, is in the output:\n%s", strings.Join(got, "\n"))
	}
}
