package source

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// A generator at a rate told by a restarted stream where it is counts on
// from there: the rows after that offset come due at the rate from then.
func TestRateLimitedGeneratorsResumeFromAStreamsOffset(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	d, err := NewDatagen([]Column{{Name: "id", Type: sqltypes.Int64}}, DatagenOptions{RowsPerSecond: 10}, clock)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	if l, _ := d.Latest(ctx); l[0] != 20 {
		t.Fatalf("datagen latest %v after 2s, want 20", l)
	}
	d.ResumeFrom(Offsets{0: 500})
	if l, _ := d.Latest(ctx); l[0] != 500 {
		t.Fatalf("datagen latest %v right after resuming at 500", l)
	}
	now = now.Add(time.Second)
	if l, _ := d.Latest(ctx); l[0] != 510 {
		t.Fatalf("datagen latest %v a second after resuming at 500, want 510", l)
	}
	d.ResumeFrom(Offsets{0: 100}) // behind: nothing changes
	if l, _ := d.Latest(ctx); l[0] != 510 {
		t.Fatalf("datagen latest %v after a resume from behind, want 510", l)
	}

	opts, err := ParseNexmarkOptions(map[string]string{"table": "bid", "events_per_second": "1000"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewNexmark([]Column{{Name: "auction", Type: sqltypes.Int64}}, opts, clock)
	if err != nil {
		t.Fatal(err)
	}
	x.ResumeFrom(Offsets{0: 12345})
	l, _ := x.Latest(ctx)
	// The fewest events whose bids reach 12345: at most one event's rows
	// past it (a bid is one row).
	if l[0] != 12345 {
		t.Fatalf("nexmark latest %v right after resuming at bid 12345", l)
	}
	now = now.Add(time.Second)
	l2, _ := x.Latest(ctx)
	if got := l2[0] - l[0]; got < 900 || got > 940 {
		t.Fatalf("a second after resuming, %d more bids, want about 920 (92%% of 1000 events)", got)
	}
}
