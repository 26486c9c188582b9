package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// buildBinary compiles the sluice binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sluice")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is a sluice server running as a subprocess.
type proc struct {
	cmd     *exec.Cmd
	addr    string
	metrics string // the metrics URL it printed; "" when metrics are off
	out     chan string
}

// startServer starts the binary on a free port over dataDir, without a
// metrics listener, and waits for the lines that say where it listens.
func startServer(t *testing.T, bin, dataDir string) *proc {
	t.Helper()
	return startServerWith(t, bin, dataDir, nil, "--metrics-listen", "off")
}

// startServerWith is startServer with env added to the environment and
// args after the usual flags (a later flag wins).
func startServerWith(t *testing.T, bin, dataDir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: make(chan string, 16)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	sc := bufio.NewScanner(stdout)
	go func() {
		for sc.Scan() {
			p.out <- sc.Text()
		}
		close(p.out)
	}()
	line := p.line(t)
	const prefix = "sluice listening on "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("first line %q does not say where the server listens", line)
	}
	p.addr = strings.Fields(strings.TrimPrefix(line, prefix))[0]
	switch line := p.line(t); {
	case line == "sluice metrics off":
	case strings.HasPrefix(line, "sluice metrics on "):
		p.metrics = strings.TrimPrefix(line, "sluice metrics on ")
	default:
		t.Fatalf("second line %q does not say where metrics are served", line)
	}
	return p
}

// line returns the next line the server printed.
func (p *proc) line(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-p.out:
		if !ok {
			t.Fatal("server exited before listening")
		}
		return line
	case <-time.After(60 * time.Second):
		t.Fatal("server did not print its addresses within 60s")
	}
	return ""
}

func (p *proc) connect(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://u@%s/d?sslmode=disable", p.addr))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBinary(t)
	dir := t.TempDir()

	p := startServer(t, bin, dir)
	conn := p.connect(t, ctx)
	for _, sql := range []string{
		"CREATE TABLE rules (page VARCHAR(64) PRIMARY KEY, max_latency INT)",
		"INSERT INTO rules VALUES ('/home', 800), ('/cart', 300)",
		"UPDATE rules SET max_latency = 500 WHERE page = '/home'",
		"DELETE FROM rules WHERE page = '/cart'",
		"INSERT INTO rules VALUES ('/checkout', 250)",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Kill without any chance to flush: every acknowledged write must be
	// in the write-ahead log already.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	_ = conn.Close(ctx)

	p2 := startServer(t, bin, dir)
	conn2 := p2.connect(t, ctx)
	defer conn2.Close(ctx)
	rows, err := conn2.Query(ctx, "SELECT page, max_latency FROM rules ORDER BY page")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var page string
		var lat int32
		if err := rows.Scan(&page, &lat); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s=%d", page, lat))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := "/checkout=250 /home=500"
	if strings.Join(got, " ") != want {
		t.Fatalf("after kill -9 and restart got %v, want %s", got, want)
	}
}

func TestSigtermExitsZeroAndKeepsData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startServer(t, bin, dir)
	conn := p.connect(t, ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO t VALUES (1, 'one')"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: want exit 0, got %v", err)
	}
	p2 := startServer(t, bin, dir)
	conn2 := p2.connect(t, ctx)
	defer conn2.Close(ctx)
	var v string
	if err := conn2.QueryRow(ctx, "SELECT v FROM t WHERE id = 1").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != "one" {
		t.Fatalf("got %q, want one", v)
	}
}

// TestReadmeWalkthroughWithPsql runs the README's psql walkthrough as a
// person would type it, through psql, and checks what psql prints.
func TestReadmeWalkthroughWithPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed; .ci/run installs postgresql-client")
	}
	bin := buildBinary(t)
	p := startServer(t, bin, t.TempDir())
	host, port, _ := strings.Cut(p.addr, ":")
	script := `CREATE TABLE page_rules (page VARCHAR(64) PRIMARY KEY, category VARCHAR(32), max_latency INT);
INSERT INTO page_rules VALUES ('/home', 'landing', 800), ('/cart', 'checkout', 300);
UPDATE page_rules SET max_latency = 500 WHERE page = '/home';
SELECT page, category, max_latency FROM page_rules ORDER BY page;
SELECT category, count(*) AS n, sum(max_latency) AS total FROM page_rules GROUP BY category ORDER BY category;
`
	cmd := exec.Command(psql, "-h", host, "-p", port, "-U", "demo", "-d", "demo", "-X", "-v", "ON_ERROR_STOP=1", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `CREATE TABLE
INSERT 0 2
UPDATE 1
 page  | category | max_latency 
-------+----------+-------------
 /cart | checkout |         300
 /home | landing  |         500
(2 rows)

 category | n | total 
----------+---+-------
 checkout | 1 |   300
 landing  | 1 |   500
(2 rows)

`
	if string(out) != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}
