package source

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// BenchmarkLogJSONReadBatches reads a json log the way the `sluice bench`
// json query's stream does: the clicks messages appended in frames of
// 65,536, read in batches of 262,144 messages into records of 16,384
// rows. "bad=1%" makes every 100th message malformed, so the records no
// longer line up with the messages. Besides messages per second it
// reports messages per CPU second of the process (user + system), which
// a busy neighbour on a shared machine moves much less than the wall
// clock. Run it with -cpu 1,2 to see what the second core buys.
func BenchmarkLogJSONReadBatches(b *testing.B) {
	for _, badEvery := range []int{0, 100} {
		name := "bad=0"
		if badEvery > 0 {
			name = fmt.Sprintf("bad=%d%%", 100/badEvery)
		}
		b.Run(name, func(b *testing.B) { benchLogJSONBatches(b, badEvery) })
	}
}

func benchLogJSONBatches(b *testing.B, badEvery int) {
	const (
		frame   = 1 << 16
		batch   = 1 << 18
		maxRows = 1 << 14
	)
	ctx := context.Background()
	l, err := OpenLog(ctx, b.TempDir(), clicksCols, jsonLog)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	msgs := append([][]byte(nil), benchClicks()...)
	wantBad := 0
	if badEvery > 0 {
		for i := badEvery / 2; i < len(msgs); i += badEvery {
			msgs[i] = msgs[i][:len(msgs[i])-1] // drop the closing brace
			wantBad++
		}
	}
	n := len(msgs)
	for i := 0; i < n; i += frame {
		if _, err := l.AppendJSON(ctx, msgs[i:min(i+frame, n)]); err != nil {
			b.Fatal(err)
		}
	}
	mem := memory.NewGoAllocator()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		bad := 0
		for s := 0; s < n; s += batch {
			recs, br, err := l.ReadWithBad(ctx, mem, Offsets{0: int64(s)}, Offsets{0: int64(min(s+batch, n))}, maxRows)
			if err != nil {
				b.Fatal(err)
			}
			bad += len(br)
			release(recs)
		}
		if bad != wantBad {
			b.Fatalf("%d bad records, want %d", bad, wantBad)
		}
	}
	b.StopTimer()
	cpu := (cpuTime() - cpu0).Seconds()
	msgsRead := float64(n) * float64(b.N)
	b.ReportMetric(msgsRead/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(msgsRead/cpu, "msgs/cpu-s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgsRead, "ns/msg")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
