package sqltests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestDifferential runs every script against PostgreSQL 15, the oracle the
// expected results are written from. With TestSQL, which runs the same
// scripts against Sluice, it is the differential test.
func TestDifferential(t *testing.T) {
	scripts := slices.DeleteFunc(loadScripts(t), func(s *script) bool {
		// Scripts of Sluice's own statements (engine sluice) have nothing
		// to compare.
		return !slices.ContainsFunc(s.records, func(r *record) bool { return r.appliesTo(enginePostgres) })
	})
	pg := startPostgres(t)
	var n atomic.Int64
	newEngine := func(t *testing.T, s *script, p protocol) engine {
		db := fmt.Sprintf("slt_%d_%s", n.Add(1), p)
		if err := pg.createDatabase(t.Context(), db); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		return &pgEngine{cluster: pg, db: db}
	}
	runScripts(t, scripts, newEngine, func(*record) bool { return true })
}

// pgEngine runs a script in one database of the shared cluster.
type pgEngine struct {
	cluster *pgCluster
	db      string
}

var _ engine = (*pgEngine)(nil)

// Name implements engine.
func (e *pgEngine) Name() string { return enginePostgres }

// Connect implements engine.
func (e *pgEngine) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, e.cluster.dsn(e.db))
}

// Restart implements engine. The oracle's durability is not under test: a
// restart only drops the sessions, which the runner has already closed.
func (e *pgEngine) Restart(context.Context) error { return nil }

// pgCluster is a throwaway PostgreSQL cluster in a temporary directory. It
// listens on a Unix socket in that directory only (no TCP port, so there is
// no port to race other processes for), with fsync off, locale C (text
// sorts bytewise, messages in English) and TimeZone UTC.
type pgCluster struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string // socket directory; data in dir/data
	port int
	// runAs is the user that runs the server when the test runs as root
	// (initdb refuses root); nil otherwise.
	runAs *user.User
}

// startPostgres starts a cluster for the test and stops it in t.Cleanup.
// It skips the test when PostgreSQL 15 is not installed.
func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	bin, err := findPostgres15()
	if err != nil {
		t.Skipf("postgresql 15 not installed: %v", err)
	}
	c := &pgCluster{bin: bin, port: 5432}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root and there is no postgres user to run PostgreSQL 15 as: %v", err)
		}
		c.runAs = u
	}

	// Not t.TempDir: its parent directory is private to root, and the
	// postgres user must reach the data directory and the socket.
	dir, err := os.MkdirTemp("", "sluice-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove the PostgreSQL directory: %v", err)
		}
	})
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}

	data := filepath.Join(dir, "data")
	start := time.Now()
	if out, err := c.command("initdb", "-D", data, "--auth=trust", "-U", "postgres", "--no-sync",
		"--no-instructions", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf(`
listen_addresses = ''
port = %d
unix_socket_directories = '%s'
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
lc_messages = 'C'
max_connections = 40
`, c.port, dir)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	// Stop it however the test ends, even if the start half-failed.
	t.Cleanup(func() {
		if out, err := c.command("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := c.command("pg_ctl", "-D", data, "-l", logFile, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Logf("PostgreSQL 15 from %s up in %v (socket in %s)", bin, time.Since(start).Round(time.Millisecond), dir)
	return c
}

// command returns a command running a PostgreSQL program, as runAs if set.
func (c *pgCluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.runAs == nil {
		return exec.Command(path, args...)
	}
	if runuser, err := exec.LookPath("runuser"); err == nil {
		return exec.Command(runuser, append([]string{"-u", c.runAs.Username, "--", path}, args...)...)
	}
	quoted := []string{shellQuote(path)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	return exec.Command("su", "-s", "/bin/sh", c.runAs.Username, "-c", strings.Join(quoted, " "))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dsn returns the connection string of a database.
func (c *pgCluster) dsn(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.dir, c.port, db)
}

// createDatabase creates an empty database.
func (c *pgCluster) createDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

var pgVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// findPostgres15 returns the directory of the PostgreSQL 15 server binaries.
func findPostgres15() (string, error) {
	dirs := []string{"/usr/lib/postgresql/15/bin"}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	var tried []string
	for _, d := range dirs {
		out, err := exec.Command(filepath.Join(d, "postgres"), "--version").Output()
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", d, err))
			continue
		}
		m := pgVersionRE.FindSubmatch(out)
		if m == nil || string(m[1]) != "15" {
			tried = append(tried, fmt.Sprintf("%s: %s", d, strings.TrimSpace(string(out))))
			continue
		}
		for _, prog := range []string{"initdb", "pg_ctl"} {
			if _, err := os.Stat(filepath.Join(d, prog)); err != nil {
				return "", err
			}
		}
		return d, nil
	}
	return "", fmt.Errorf("no PostgreSQL 15 server binaries (tried %s)", strings.Join(tried, "; "))
}
