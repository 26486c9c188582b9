package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// psqlRunner runs psql against one server.
type psqlRunner struct {
	t          *testing.T
	psql       string
	host, port string
}

func (p psqlRunner) cmd(args ...string) *exec.Cmd {
	return exec.Command(p.psql, append([]string{"-h", p.host, "-p", p.port, "-U", "demo", "-d", "demo", "-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
}

// run runs a script and returns what psql printed.
func (p psqlRunner) run(script string) string {
	p.t.Helper()
	c := p.cmd("-f", "-")
	c.Stdin = strings.NewReader(script)
	out, err := c.CombinedOutput()
	if err != nil {
		p.t.Fatalf("psql: %v\n%s", err, out)
	}
	return string(out)
}

// waitFor runs a one-value query until it prints want.
func (p psqlRunner) waitFor(query, want string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		out, err := p.cmd("-tA", "-c", query).CombinedOutput()
		if err != nil {
			p.t.Fatalf("psql: %v\n%s", err, out)
		}
		if got = strings.TrimSpace(string(out)); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s: still %q after 30s, want %q", query, got, want)
}

// TestReadmeStreamsWalkthroughWithPsql runs the README's streams
// walkthrough through psql: a source, a filter stream, a windowed
// aggregate, SHOW STREAMS and progress, ALTER, SUBSCRIBE printing a row
// inserted while it runs, DROP.
func TestReadmeStreamsWalkthroughWithPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed; .ci/run installs postgresql-client")
	}
	bin := buildBinary(t)
	srv := startServer(t, bin, t.TempDir())
	host, port, _ := strings.Cut(srv.addr, ":")
	p := psqlRunner{t: t, psql: psql, host: host, port: port}

	out := p.run(`CREATE SOURCE clicks (ts TIMESTAMP, user_id BIGINT, page VARCHAR(64), latency_ms INT)
  WITH (connector = 'log', event_time = 'ts', watermark_delay = '5s');
CREATE STREAM slow_clicks WITH (trigger = '100ms') AS
  SELECT ts, user_id, page, latency_ms FROM clicks WHERE latency_ms > 500;
CREATE STREAM per_minute WITH (trigger = '100ms') AS
  SELECT TUMBLE_START(ts, INTERVAL '1 minute') AS minute, page, count(*) AS n, max(latency_ms) AS worst
  FROM clicks GROUP BY TUMBLE(ts, INTERVAL '1 minute'), page;
INSERT INTO clicks VALUES ('2026-11-21 10:00:01', 1, '/home', 900), ('2026-11-21 10:00:02', 2, '/cart', 120),
                          ('2026-11-21 10:00:40', 3, '/home', 650);
`)
	if want := "CREATE SOURCE\nCREATE STREAM\nCREATE STREAM\nINSERT 0 3\n"; out != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
	p.waitFor("SELECT count(*) FROM sluice_progress", "2")

	out = p.run(`SELECT * FROM slow_clicks ORDER BY ts;
SELECT minute, page, n, worst FROM per_minute ORDER BY page;
SHOW STREAMS;
SELECT stream, batch_id, input_rows, output_rows, watermark FROM sluice_progress ORDER BY stream, batch_id;
ALTER STREAM slow_clicks SET (trigger = '1s');
`)
	want := `         ts          | user_id | page  | latency_ms 
---------------------+---------+-------+------------
 2026-11-21 10:00:01 |       1 | /home |        900
 2026-11-21 10:00:40 |       3 | /home |        650
(2 rows)

       minute        | page  | n | worst 
---------------------+-------+---+-------
 2026-11-21 10:00:00 | /cart | 1 |   120
 2026-11-21 10:00:00 | /home | 2 |   900
(2 rows)

    name     | status  | trigger | sink  | last_batch | last_error 
-------------+---------+---------+-------+------------+------------
 per_minute  | running | 100ms   | table |          0 | 
 slow_clicks | running | 100ms   | table |          0 | 
(2 rows)

   stream    | batch_id | input_rows | output_rows |      watermark      
-------------+----------+------------+-------------+---------------------
 per_minute  |        0 |          3 |           2 | 2026-11-21 10:00:35
 slow_clicks |        0 |          3 |           2 | 2026-11-21 10:00:35
(2 rows)

ALTER STREAM
`
	if out != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}

	// SUBSCRIBE in its own psql; a row inserted while it runs is printed,
	// and DROP STREAM ends it.
	sub := p.cmd("-c", "SUBSCRIBE slow_clicks")
	var subOut bytes.Buffer
	sub.Stdout, sub.Stderr = &subOut, &subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	subDone := make(chan error, 1)
	go func() { subDone <- sub.Wait() }()
	p.waitFor("SELECT subscribers FROM sluice_streams WHERE name = 'slow_clicks'", "1")
	p.run("INSERT INTO clicks VALUES ('2026-11-21 10:01:00', 4, '/cart', 700);\n")
	p.waitFor("SELECT last_batch FROM sluice_streams WHERE name = 'slow_clicks'", "1")
	if out := p.run("DROP STREAM slow_clicks, per_minute;\nDROP SOURCE clicks;\n"); out != "DROP STREAM\nDROP SOURCE\n" {
		t.Fatalf("psql printed:\n%s", out)
	}
	select {
	case err := <-subDone:
		if err != nil {
			t.Fatalf("psql SUBSCRIBE: %v\n%s", err, subOut.String())
		}
	case <-time.After(30 * time.Second):
		_ = sub.Process.Kill()
		t.Fatal("DROP STREAM did not end psql's SUBSCRIBE")
	}
	if got, want := subOut.String(), "2026-11-21 10:01:00\t4\t/cart\t700\n"; got != want {
		t.Fatalf("SUBSCRIBE printed %q, want %q", got, want)
	}
}
