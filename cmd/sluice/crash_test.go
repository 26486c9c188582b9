package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The crash test's knobs. SLUICE_CRASH_TEST_KILLS sets the default of
// -crash.kills, so that `go test ./...` can be told too; 0 skips the test.
var (
	crashKills = flag.Int("crash.kills", envInt("SLUICE_CRASH_TEST_KILLS", 50), "kills TestStreamsSurviveKill9 makes (env SLUICE_CRASH_TEST_KILLS); 0 skips it")
	crashSeed  = flag.Uint64("crash.seed", 0, "seed of TestStreamsSurviveKill9's choices; 0 picks one from the clock")
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// The crash test's schema: one log source feeding a filter, an aggregate
// and a two-stream pipeline through a log sink.
var crashSetup = []string{
	"CREATE SOURCE ev (id BIGINT, k INT, v INT, ts TIMESTAMP) WITH (connector='log', event_time='ts')",
	"CREATE STREAM passed WITH (trigger='20ms', max_rows_per_batch=37) AS SELECT id, k, v FROM ev WHERE v % 3 <> 0",
	"CREATE STREAM sums WITH (trigger='20ms', max_rows_per_batch=53) AS SELECT k, count(*) AS n, sum(v) AS total FROM ev GROUP BY k",
	"CREATE STREAM relay WITH (trigger='20ms', sink='log') AS SELECT id, k, v, ts FROM ev WHERE k < 5",
	"CREATE STREAM relayed WITH (trigger='20ms') AS SELECT id, v FROM relay",
}

// crashStreams are the streams of crashSetup.
var crashStreams = []string{"passed", "sums", "relay", "relayed"}

// evRow is the row the test inserts with a given id: k and v are functions
// of the id, so every sink row can be checked against it.
func evRow(id int64) (k, v int64) { return id * 7 % 10, id * 7919 % 1000 }

var evEpoch = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// TestStreamsSurviveKill9 kills the server with SIGKILL again and again
// while rows flow into a source and four streams read it, then checks that
// the streams' sinks hold exactly what one clean run over the surviving
// input would: nothing lost, nothing twice.
//
// Each round starts the server over the same data directory, feeds INSERTs
// of rows with fresh increasing ids from a goroutine, and ends with the
// server's death: either SLUICE_CRASH_AT makes it kill itself at a batch
// point (planned, sunk, committed, snapshot), possibly while it recovers
// before it listens, or the test kills it after 0-300 ms. An INSERT that
// returned is acknowledged; one that had not returned when the server died
// is in flight, and may or may not have landed. While the server lives,
// each round also checks what can be checked before the streams catch up
// (checkRound: no failed stream, no row twice in a sink, no group of sums
// counting more rows than were sent), until one first finds something
// wrong: that names the round, and the kill before it, that broke things.
// A crash point that does not fire within 1.5s (a build whose streams do
// not call the hook) falls back to a kill by the test.
//
// At the end the server starts without a crash point, one last row is
// inserted (so every stream has a batch to run), and the test waits until
// every stream's last batch ends at its source's latest offsets. A stream
// created then with trigger 'available_now' copies the whole source: its
// ids are P, the rows that made it. Then: acknowledged ⊆ P ⊆ acknowledged ∪
// in flight; passed holds each row of P with v % 3 <> 0 once; relayed each
// row of P with k < 5 once; sums holds count and sum per k over P.
func TestStreamsSurviveKill9(t *testing.T) {
	kills := *crashKills
	if kills <= 0 {
		t.Skip("-crash.kills (SLUICE_CRASH_TEST_KILLS) is 0")
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-crash.seed replays the test's choices; the timing is the machine's)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	bin := buildBinary(t)
	dir := t.TempDir()

	p := launchCrashServer(t, bin, dir, nil)
	if p.addr == "" {
		t.Fatalf("the server died before listening:\n%s", p.stderr.String())
	}
	conn := crashConnect(t, ctx, p.addr)
	for _, sql := range crashSetup {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	_ = conn.Close(ctx)
	p.kill()

	led := newLedger()
	var rounds []crashRound
	killsAt := map[string]int{}
	var broke *crashBreak // the first round a check found broken
	checked := 0          // rounds whose checkRound ran to the end
	for r := 1; r <= kills; r++ {
		rd := runCrashRound(t, ctx, rng, bin, dir, led, r, broke == nil)
		if ctx.Err() != nil {
			t.Fatalf("out of time after %d rounds", r-1)
		}
		rounds = append(rounds, rd)
		killsAt[rd.diedAt]++
		if rd.checked {
			checked++
		}
		if rd.recovering && strings.HasPrefix(rd.diedAt, "crash point") {
			killsAt["(of those at crash points: before listening, recovering)"]++
		}
		if broke == nil && len(rd.found) > 0 {
			broke = &crashBreak{round: r, found: rd.found}
		}
	}
	t.Logf("%d kills in %v; rows: %d acknowledged, %d in flight when the server died; %d rounds checked before the server died",
		kills, time.Since(began).Round(time.Millisecond), len(led.acked), len(led.inflight), checked)
	logKills(t, killsAt)

	// The final run: no crash point, and every stream caught up.
	fin := launchCrashServer(t, bin, dir, nil)
	if fin.addr == "" {
		t.Fatalf("the server died before listening:\n%s", fin.stderr.String())
	}
	defer fin.kill()
	conn = crashConnect(t, ctx, fin.addr)
	defer conn.Close(ctx)
	// The last row passes every filter, so every stream has a batch to run.
	last := led.next
	for k, v := evRow(last); k >= 5 || v%3 == 0; k, v = evRow(last) {
		last++
	}
	led.next = last + 1
	if _, err := conn.Exec(ctx, insertSQL(last, last+1)); err != nil {
		t.Fatalf("insert the last row: %v", err)
	}
	led.acked[last] = true
	if err := waitCaughtUp(ctx, conn, 90*time.Second); err != nil {
		reportBreak(t, broke, rounds)
		t.Fatalf("%v\nserver stderr:\n%s", err, fin.stderr.String())
	}
	if _, err := conn.Exec(ctx, "CREATE STREAM everything WITH (trigger='available_now') AS SELECT id, k, v FROM ev"); err != nil {
		t.Fatal(err)
	}
	if err := waitStatus(ctx, conn, "everything", "finished", 60*time.Second); err != nil {
		t.Fatalf("%v\nserver stderr:\n%s", err, fin.stderr.String())
	}
	got, err := readSinks(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("P has %d rows; passed %d, relayed %d, sums %d groups; %v in all",
		len(got.everything), len(got.passed), len(got.relayed), len(got.sums), time.Since(began).Round(time.Millisecond))
	if bad := verifySinks(led.acked, led.inflight, got); len(bad) > 0 {
		reportBreak(t, broke, rounds)
		if broke == nil {
			t.Logf("no round's check saw it: the final run's stderr:\n%s", fin.stderr.String())
		}
		t.Fatalf("after %d kills the sinks are wrong:\n  %s", kills, strings.Join(bad, "\n  "))
	}
	if broke != nil { // the final state is right, but a round's was not
		reportBreak(t, broke, rounds)
		t.Fatalf("the sinks end right, but round %d found: %s", broke.round, strings.Join(broke.found, "; "))
	}
}

// crashRound is what one round did.
type crashRound struct {
	n          int
	how        string // what was to end it
	diedAt     string // the crash point the server died at, or how the test killed it
	recovering bool   // it died before it listened
	acked      int    // INSERTs acknowledged this round
	inflight   int    // INSERTs in flight when it died
	checked    bool   // its check (checkRound) ran to the end
	found      []string
	stderr     string
}

// crashBreak is the first round whose check found something wrong.
type crashBreak struct {
	round int
	found []string
}

// The ways a round ends besides a crash point.
const (
	diedByTest     = "killed by the test after its delay"
	diedByFallback = "killed by the test: the crash point did not fire within 1.5s"
)

// hookFallback bounds how long a round waits for its crash point.
const hookFallback = 1500 * time.Millisecond

// runCrashRound starts the server, feeds it until it dies and, with check,
// runs checkRound while the server lives.
func runCrashRound(t *testing.T, ctx context.Context, rng *rand.Rand, bin, dir string, led *ledger, n int, check bool) crashRound {
	t.Helper()
	rd := crashRound{n: n}
	var env []string
	var delay time.Duration
	if rng.IntN(2) == 0 {
		point := crashPoints[rng.IntN(len(crashPoints))]
		prob := 0.01 + 0.09*rng.Float64()
		if point == "snapshot" { // only sums snapshots, and not every batch
			prob = 0.2 + 0.4*rng.Float64()
		}
		spec := fmt.Sprintf("%s:%.3f", point, prob)
		env = []string{"SLUICE_CRASH_AT=" + spec, fmt.Sprintf("SLUICE_CRASH_SEED=%d", rng.Int64())}
		rd.how = "SLUICE_CRASH_AT=" + spec
	} else {
		delay = time.Duration(rng.IntN(301)) * time.Millisecond
		rd.how = fmt.Sprintf("kill -9 after %v", delay)
	}
	p := launchCrashServer(t, bin, dir, env)
	if p.addr == "" {
		rd.recovering = true
	} else {
		if env == nil {
			killer := time.AfterFunc(delay, p.kill)
			defer killer.Stop()
		}
		feedDone := make(chan feedResult, 1)
		feedRNG := rand.New(rand.NewPCG(rng.Uint64(), 2))
		go func() { feedDone <- feed(ctx, p.addr, led, feedRNG) }()
		if check {
			rd.found, rd.checked = checkRound(ctx, p.addr, led)
		}
		if env != nil {
			select {
			case <-p.exited:
			case <-time.After(hookFallback):
				p.kill() // the point did not fire
			}
		}
		res := <-feedDone // it ends when the server dies
		rd.acked, rd.inflight = res.acked, res.inflight
		if res.err != nil {
			rd.found = append(rd.found, res.err.Error())
		}
	}
	<-p.exited
	rd.stderr = p.stderr.String()
	switch killed := p.wasKilled(); {
	case killed && env == nil:
		rd.diedAt = diedByTest
	case killed:
		rd.diedAt = diedByFallback
	default:
		rd.diedAt = crashedAt(p.stderr.String())
		if rd.diedAt == "" {
			// The server died of itself without a crash point: a bug.
			rd.diedAt = "died of itself: " + p.state.String()
			rd.found = append(rd.found, fmt.Sprintf("round %d: the server died without being killed (%v)", n, p.state))
		}
	}
	return rd
}

// crashedAt returns the point named by the line the crash hook writes.
func crashedAt(stderr string) string {
	const prefix = `sluice: SLUICE_CRASH_AT: killing the server at "`
	i := strings.LastIndex(stderr, prefix)
	if i < 0 {
		return ""
	}
	point, _, _ := strings.Cut(stderr[i+len(prefix):], `"`)
	return "crash point " + point
}

func logKills(t *testing.T, killsAt map[string]int) {
	t.Helper()
	keys := make([]string, 0, len(killsAt))
	for k := range killsAt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %3d %s", killsAt[k], k)
	}
	t.Logf("kills by where the server died:%s", b.String())
}

// reportBreak prints the round that first broke the sinks and the round
// before it (whose kill it recovered from), with their servers' stderr.
func reportBreak(t *testing.T, broke *crashBreak, rounds []crashRound) {
	t.Helper()
	if broke == nil {
		return
	}
	for _, rd := range rounds[max(0, broke.round-2):broke.round] {
		t.Logf("round %d (%s) died at %s, after %d acknowledged INSERTs and %d in flight; found: %s; server stderr:\n%s",
			rd.n, rd.how, rd.diedAt, rd.acked, rd.inflight, strings.Join(rd.found, "; "), rd.stderr)
	}
}

// ledger records which ids were acknowledged and which were in flight.
type ledger struct {
	mu       sync.Mutex
	next     int64 // the next id to insert
	acked    map[int64]bool
	inflight map[int64]bool
}

func newLedger() *ledger {
	return &ledger{next: 1, acked: map[int64]bool{}, inflight: map[int64]bool{}}
}

// upperCounts is, per k, how many rows the source can hold at most.
func (l *ledger) upperCounts() map[int64]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int64]int64{}
	for _, ids := range []map[int64]bool{l.acked, l.inflight} {
		for id := range ids {
			k, _ := evRow(id)
			out[k]++
		}
	}
	return out
}

func insertSQL(lo, hi int64) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ev VALUES ")
	for id := lo; id < hi; id++ {
		if id > lo {
			b.WriteString(", ")
		}
		k, v := evRow(id)
		fmt.Fprintf(&b, "(%d, %d, %d, '%s')", id, k, v, evEpoch.Add(time.Duration(id)*time.Millisecond).Format("2006-01-02 15:04:05.000"))
	}
	return b.String()
}

type feedResult struct {
	acked, inflight int // INSERT statements
	err             error
}

// feed inserts batches of 1-8 rows about every 10ms until the server dies.
// A batch is in flight from before it is sent until it is acknowledged;
// the one whose INSERT fails when the server dies stays in flight. An
// INSERT the server refuses is an error: nothing here should be refused.
func feed(ctx context.Context, addr string, led *ledger, rng *rand.Rand) (res feedResult) {
	conn, err := pgx.Connect(ctx, crashDSN(addr))
	if err != nil {
		return res // the server died first
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		led.mu.Lock()
		lo := led.next
		hi := lo + 1 + rng.Int64N(8)
		led.next = hi
		for id := lo; id < hi; id++ {
			led.inflight[id] = true
		}
		led.mu.Unlock()
		_, err := conn.Exec(ctx, insertSQL(lo, hi))
		if err != nil {
			res.inflight++
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) {
				res.err = fmt.Errorf("INSERT of ids %d-%d refused: %w", lo, hi-1, err)
			}
			return res
		}
		res.acked++
		led.mu.Lock()
		for id := lo; id < hi; id++ {
			delete(led.inflight, id)
			led.acked[id] = true
		}
		led.mu.Unlock()
		<-tick.C // pacing: the streams consume ~1800 rows/s at most
	}
	return res
}

// checkRound looks, while the server lives, for failed streams, rows
// that a sink holds twice and groups of sums that count more rows than
// were sent.
// When the server dies under it, it reports what it found so far and
// checked false.
func checkRound(ctx context.Context, addr string, led *ledger) (found []string, checked bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, crashDSN(addr))
	if err != nil {
		return found, false
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT name, coalesce(last_error, '') FROM sluice_streams WHERE status = 'failed' ORDER BY name")
	if err != nil {
		return found, false
	}
	for _, r := range mustCollect(rows, &err) {
		found = append(found, fmt.Sprintf("stream %s failed: %s", r[0], r[1]))
	}
	if err != nil {
		return found, false
	}
	for _, table := range []string{"passed", "relayed"} {
		rows, err := conn.Query(ctx, "SELECT id, count(*) FROM "+table+" GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 5")
		if err != nil {
			return found, false
		}
		dups, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idCount])
		if err != nil {
			return found, false
		}
		if len(dups) > 0 {
			found = append(found, fmt.Sprintf("%s holds ids more than once, e.g. %v", table, dups))
		}
	}
	rows, err = conn.Query(ctx, "SELECT k, n FROM sums ORDER BY k")
	if err != nil {
		return found, false
	}
	sums, err := pgx.CollectRows(rows, pgx.RowToStructByPos[idCount])
	if err != nil {
		return found, false
	}
	upper := led.upperCounts() // after the query: the ledger only grows
	for _, s := range sums {
		if s.N > upper[s.ID] {
			found = append(found, fmt.Sprintf("sums counts %d rows with k = %d, but at most %d were sent", s.N, s.ID, upper[s.ID]))
		}
	}
	return found, true
}

type idCount struct{ ID, N int64 }

// waitCaughtUp waits until every stream of crashSetup runs and its last
// batch ends at its source's latest offsets.
func waitCaughtUp(ctx context.Context, conn *pgx.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lag []string
	for {
		var err error
		lag, err = streamLag(ctx, conn)
		if err == nil && len(lag) == 0 {
			return nil
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the streams did not catch up within %v: %s", timeout, strings.Join(lag, "; "))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// streamLag describes each stream of crashSetup that has not caught up; a
// failed stream is an error.
func streamLag(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	// Progress before sources: a log sink caught up with its (static)
	// source at the first query has written all it will by the second, so
	// a stream reading it is compared with its final offsets.
	end := map[string]string{}
	rows, err := conn.Query(ctx, "SELECT stream, end_offsets FROM sluice_progress ORDER BY stream, batch_id")
	if err != nil {
		return nil, err
	}
	for _, r := range mustCollect(rows, &err) {
		end[r[0]] = r[1] // the last batch wins
	}
	if err != nil {
		return nil, err
	}
	latest := map[string]string{}
	rows, err = conn.Query(ctx, "SELECT name, latest_offsets FROM sluice_sources")
	if err != nil {
		return nil, err
	}
	for _, r := range mustCollect(rows, &err) {
		latest[r[0]] = r[1]
	}
	if err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, "SELECT name, status, coalesce(last_error, ''), source FROM sluice_streams")
	if err != nil {
		return nil, err
	}
	status := map[string][]string{}
	for _, r := range mustCollect(rows, &err) {
		status[r[0]] = r[1:]
	}
	if err != nil {
		return nil, err
	}
	var lag []string
	for _, name := range crashStreams {
		st, ok := status[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("stream %s is gone", name)
		case st[0] == "failed":
			return nil, fmt.Errorf("stream %s failed: %s", name, st[1])
		case st[0] != "running":
			lag = append(lag, fmt.Sprintf("%s is %s", name, st[0]))
		case end[name] != latest[st[2]]:
			lag = append(lag, fmt.Sprintf("%s's last batch ends at %s, %s is at %s", name, end[name], st[2], latest[st[2]]))
		}
	}
	return lag, nil
}

// mustCollect reads rows of text columns; the first error lands in *err.
func mustCollect(rows pgx.Rows, err *error) [][]string {
	out, cerr := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]string, error) {
		vals, err := r.Values()
		if err != nil {
			return nil, err
		}
		s := make([]string, len(vals))
		for i, v := range vals {
			if v != nil {
				s[i] = fmt.Sprint(v)
			}
		}
		return s, nil
	})
	if cerr != nil && *err == nil {
		*err = cerr
	}
	return out
}

// waitStatus waits until a stream has a status; a failed stream is an
// error.
func waitStatus(ctx context.Context, conn *pgx.Conn, name, want string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got, lastErr := "", ""
	for {
		err := conn.QueryRow(ctx, "SELECT status, coalesce(last_error, '') FROM sluice_streams WHERE name = '"+name+"'").Scan(&got, &lastErr)
		switch {
		case err == nil && got == want:
			return nil
		case err == nil && got == "failed":
			return fmt.Errorf("stream %s failed: %s", name, lastErr)
		case err != nil && ctx.Err() == nil:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stream %s is still %q after %v, want %q", name, got, timeout, want)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// sinkRows are the sinks' contents.
type sinkRows struct {
	everything [][3]int64 // id, k, v: P
	passed     [][3]int64 // id, k, v
	relayed    [][2]int64 // id, v
	sums       [][3]int64 // k, n, total
}

func readSinks(ctx context.Context, conn *pgx.Conn) (sinkRows, error) {
	var s sinkRows
	read := func(sql string, n int, add func([]int64)) error {
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		defer rows.Close()
		for rows.Next() {
			vals := make([]int64, n)
			ptrs := make([]any, n)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
			add(vals)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		return nil
	}
	return s, errors.Join(
		read("SELECT id, k, v FROM everything", 3, func(r []int64) { s.everything = append(s.everything, [3]int64(r)) }),
		read("SELECT id, k, v FROM passed", 3, func(r []int64) { s.passed = append(s.passed, [3]int64(r)) }),
		read("SELECT id, v FROM relayed", 2, func(r []int64) { s.relayed = append(s.relayed, [2]int64(r)) }),
		read("SELECT k, n, total FROM sums ORDER BY k", 3, func(r []int64) { s.sums = append(s.sums, [3]int64(r)) }),
	)
}

// verifySinks checks the sinks against the ids acknowledged and in
// flight, and returns what is wrong.
func verifySinks(acked, inflight map[int64]bool, got sinkRows) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	// P, from the source itself.
	inP := map[int64]bool{}
	var dupP, phantom, wrongP []int64
	for _, r := range got.everything {
		id := r[0]
		if k, v := evRow(id); r[1] != k || r[2] != v {
			wrongP = append(wrongP, id)
		}
		if inP[id] {
			dupP = append(dupP, id)
		}
		inP[id] = true
		if !acked[id] && !inflight[id] {
			phantom = append(phantom, id)
		}
	}
	report := func(what string, ids []int64) {
		if len(ids) > 0 {
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			add("%s: %d ids, e.g. %v", what, len(ids), ids[:min(len(ids), 8)])
		}
	}
	report("everything (ev read whole) holds ids twice", dupP)
	report("everything (ev read whole) holds ids never sent", phantom)
	report("everything (ev read whole) holds rows with wrong k or v", wrongP)
	var lost []int64
	for id := range acked {
		if !inP[id] {
			lost = append(lost, id)
		}
	}
	report("everything (ev read whole) misses acknowledged ids", lost)

	// A sink against the rows of P it should hold once each.
	exactlyOnce := func(sink string, ids []int64, okRow []bool, want func(id int64) bool) {
		seen := map[int64]int{}
		var wrong, extra []int64
		for i, id := range ids {
			seen[id]++
			if !okRow[i] {
				wrong = append(wrong, id)
			}
			if !inP[id] || !want(id) {
				extra = append(extra, id)
			}
		}
		var twice, missing []int64
		for id, n := range seen {
			if n > 1 {
				twice = append(twice, id)
			}
		}
		for id := range inP {
			if want(id) && seen[id] == 0 {
				missing = append(missing, id)
			}
		}
		report(sink+" holds ids more than once", twice)
		report(sink+" misses ids", missing)
		report(sink+" holds ids it should not", extra)
		report(sink+" holds rows with wrong values", wrong)
	}
	ids, ok := make([]int64, len(got.passed)), make([]bool, len(got.passed))
	for i, r := range got.passed {
		k, v := evRow(r[0])
		ids[i], ok[i] = r[0], r[1] == k && r[2] == v
	}
	exactlyOnce("passed", ids, ok, func(id int64) bool { _, v := evRow(id); return v%3 != 0 })
	ids, ok = make([]int64, len(got.relayed)), make([]bool, len(got.relayed))
	for i, r := range got.relayed {
		_, v := evRow(r[0])
		ids[i], ok[i] = r[0], r[1] == v
	}
	exactlyOnce("relayed", ids, ok, func(id int64) bool { k, _ := evRow(id); return k < 5 })

	// sums against count and sum per k over P.
	type agg struct{ n, total int64 }
	want := map[int64]agg{}
	for id := range inP {
		k, v := evRow(id)
		a := want[k]
		a.n++
		a.total += v
		want[k] = a
	}
	seenK := map[int64]bool{}
	for _, r := range got.sums {
		k, a := r[0], agg{r[1], r[2]}
		switch {
		case seenK[k]:
			add("sums holds k = %d twice", k)
		case a != want[k]:
			add("sums has k = %d: n = %d, total = %d; want n = %d, total = %d", k, a.n, a.total, want[k].n, want[k].total)
		}
		seenK[k] = true
	}
	ks := make([]int64, 0, len(want))
	for k := range want {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	for _, k := range ks {
		if !seenK[k] {
			add("sums misses k = %d (n = %d, total = %d)", k, want[k].n, want[k].total)
		}
	}
	return bad
}

// crashProc is a server subprocess that a round expects to die.
type crashProc struct {
	cmd          *exec.Cmd
	addr         string // "" when it died before listening
	stderr       *syncBuffer
	exited       chan struct{} // closed once it has exited and been waited for
	state        *os.ProcessState
	mu           sync.Mutex
	killedByTest bool
}

// launchCrashServer starts the binary over dir with env added and waits
// until it listens or dies.
func launchCrashServer(t *testing.T, bin, dir string, env []string) *crashProc {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn", "--metrics-listen", "off")
	cmd.Env = append(os.Environ(), env...)
	p := &crashProc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "sluice listening on "); ok {
				listening <- strings.Fields(addr)[0]
			}
		}
		_ = cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()
	select {
	case p.addr = <-listening:
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.kill()
		t.Fatalf("the server neither listened nor died within 60s:\n%s", p.stderr.String())
	}
	return p
}

// kill sends SIGKILL (unless the process has exited) and waits for it to
// exit.
func (p *crashProc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.mu.Lock()
	p.killedByTest = true
	p.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// wasKilled reports whether the test killed the process.
func (p *crashProc) wasKilled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killedByTest
}

func crashDSN(addr string) string {
	return fmt.Sprintf("postgres://u@%s/d?sslmode=disable&connect_timeout=5", addr)
}

func crashConnect(t *testing.T, ctx context.Context, addr string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, crashDSN(addr))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

// syncBuffer is a bytes.Buffer safe for a writer and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestCrashHookReadsSluiceCrashAt(t *testing.T) {
	tests := []struct {
		name, spec, seed string
		wantErr          string // "" for none
		wantHook         bool
	}{
		{name: "unset means no hook", spec: "", wantHook: false},
		{name: "one point", spec: "sunk:0.5", wantHook: true},
		{name: "several points with spaces and a seed", spec: "planned:0.1, snapshot:1", seed: "42", wantHook: true},
		{name: "a point without a probability is refused", spec: "sunk", wantErr: `bad SLUICE_CRASH_AT item "sunk": want point:probability`},
		{name: "an unknown point is refused", spec: "sunk:0.1,commited:0.1", wantErr: `unknown point "commited"`},
		{name: "a probability above 1 is refused", spec: "sunk:2", wantErr: "the probability must be a number from 0 to 1"},
		{name: "a probability that is not a number is refused", spec: "sunk:often", wantErr: "the probability must be a number from 0 to 1"},
		{name: "a seed that is not a number is refused", spec: "sunk:0.1", seed: "x", wantErr: `bad SLUICE_CRASH_SEED "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, err := crashHook(tt.spec, tt.seed, &bytes.Buffer{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hook != nil; got != tt.wantHook {
				t.Fatalf("got a hook: %v, want %v", got, tt.wantHook)
			}
		})
	}
}

func TestCrashHookIgnoresUnlistedPointsAndZeroProbability(t *testing.T) {
	var stderr bytes.Buffer
	hook, err := crashHook("sunk:0", "1", &stderr)
	if err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		hook("sunk")    // probability 0: never
		hook("planned") // not listed: never
	}
	if stderr.Len() > 0 {
		t.Fatalf("the hook wrote %q", stderr.String())
	}
}

// TestVerifySinksFindsEveryKindOfWrong checks the crash test's checker on
// sinks made by hand: it must pass a right state and name each wrong one.
func TestVerifySinksFindsEveryKindOfWrong(t *testing.T) {
	// Ids 1-30 acknowledged, 31-33 in flight of which 31 landed.
	acked, inflight := map[int64]bool{}, map[int64]bool{31: true, 32: true, 33: true}
	for id := int64(1); id <= 30; id++ {
		acked[id] = true
	}
	right := func() sinkRows {
		var s sinkRows
		sums := map[int64][2]int64{}
		for id := int64(1); id <= 31; id++ {
			k, v := evRow(id)
			s.everything = append(s.everything, [3]int64{id, k, v})
			if v%3 != 0 {
				s.passed = append(s.passed, [3]int64{id, k, v})
			}
			if k < 5 {
				s.relayed = append(s.relayed, [2]int64{id, v})
			}
			a := sums[k]
			sums[k] = [2]int64{a[0] + 1, a[1] + v}
		}
		for k, a := range sums {
			s.sums = append(s.sums, [3]int64{k, a[0], a[1]})
		}
		return s
	}
	firstPassed := func(s sinkRows) [3]int64 { return s.passed[0] }
	tests := []struct {
		name   string
		change func(s *sinkRows)
		want   string // a substring of one complaint; "" for none
	}{
		{name: "the right sinks pass", change: func(s *sinkRows) {}},
		{name: "a row in passed twice is found", change: func(s *sinkRows) { s.passed = append(s.passed, firstPassed(*s)) }, want: "passed holds ids more than once"},
		{name: "a row missing from passed is found", change: func(s *sinkRows) { s.passed = s.passed[1:] }, want: "passed misses ids"},
		{name: "a filtered-out row in passed is found", change: func(s *sinkRows) {
			for id := int64(1); ; id++ {
				if k, v := evRow(id); v%3 == 0 {
					s.passed = append(s.passed, [3]int64{id, k, v})
					return
				}
			}
		}, want: "passed holds ids it should not"},
		{name: "a row of passed with a wrong v is found", change: func(s *sinkRows) { s.passed[0][2]++ }, want: "passed holds rows with wrong values"},
		{name: "a row in relayed twice is found", change: func(s *sinkRows) { s.relayed = append(s.relayed, s.relayed[0]) }, want: "relayed holds ids more than once"},
		{name: "a row missing from relayed is found", change: func(s *sinkRows) { s.relayed = s.relayed[:len(s.relayed)-1] }, want: "relayed misses ids"},
		{name: "a group of sums counted twice is found", change: func(s *sinkRows) { s.sums[0][1]++ }, want: "sums has k ="},
		{name: "a group of sums missing is found", change: func(s *sinkRows) { s.sums = s.sums[1:] }, want: "sums misses k ="},
		{name: "a group of sums held twice is found", change: func(s *sinkRows) { s.sums = append(s.sums, s.sums[0]) }, want: "sums holds k ="},
		{name: "an acknowledged row lost by the source is found", change: func(s *sinkRows) { s.everything = s.everything[1:] }, want: "everything (ev read whole) misses acknowledged ids"},
		{name: "a row the test never sent is found", change: func(s *sinkRows) {
			k, v := evRow(99)
			s.everything = append(s.everything, [3]int64{99, k, v})
		}, want: "everything (ev read whole) holds ids never sent"},
		{name: "a source row held twice is found", change: func(s *sinkRows) { s.everything = append(s.everything, s.everything[0]) }, want: "everything (ev read whole) holds ids twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := right()
			tt.change(&s)
			bad := verifySinks(acked, inflight, s)
			got := strings.Join(bad, "\n")
			if tt.want == "" {
				if len(bad) > 0 {
					t.Fatalf("complaints about right sinks:\n%s", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("complaints:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}
