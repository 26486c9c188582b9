package source

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

func newNexmark(t *testing.T, opts NexmarkOptions) *Nexmark {
	t.Helper()
	x, err := NewNexmark(NexmarkColumns(opts.withDefaults().Table), opts, nil)
	if err != nil {
		t.Fatalf("NewNexmark(%+v): %v", opts, err)
	}
	return x
}

// col returns column name of rows read from a source with the table's
// columns.
func col(rows [][]any, table, name string) []any {
	i := -1
	for j, c := range NexmarkColumns(table) {
		if c.Name == name {
			i = j
		}
	}
	out := make([]any, len(rows))
	for r, row := range rows {
		out[r] = row[i]
	}
	return out
}

func TestNexmarkRowsArePureFunctionsOfSeedAndOffset(t *testing.T) {
	for _, table := range []string{NexmarkBid, NexmarkAuction, NexmarkPerson} {
		t.Run(table, func(t *testing.T) {
			mem := checkedAlloc(t)
			const n = 3000
			whole := readRows(t, newNexmark(t, NexmarkOptions{Table: table, Seed: 7, Parallelism: 1}), mem, 0, n, n)
			if len(whole) != n {
				t.Fatalf("read %d rows, want %d", len(whole), n)
			}
			// Another source with the same seed, read in parts of other
			// sizes on several goroutines, from the middle first.
			again := newNexmark(t, NexmarkOptions{Table: table, Seed: 7, Parallelism: 4})
			tail := readRows(t, again, mem, 1234, n, 100)
			head := readRows(t, again, mem, 0, 1234, 7)
			if got := append(head, tail...); !reflect.DeepEqual(got, whole) {
				t.Fatalf("rows read in parts differ from the rows read whole")
			}
			other := readRows(t, newNexmark(t, NexmarkOptions{Table: table, Seed: 8}), mem, 0, n, n)
			same := 0
			for r := range other {
				if reflect.DeepEqual(other[r], whole[r]) {
					same++
				}
			}
			if same > n/100 {
				t.Fatalf("seeds 7 and 8 made %d equal rows of %d", same, n)
			}
		})
	}
}

func TestNexmarkTablesShareOneEventStreamInTheReferenceMix(t *testing.T) {
	mem := checkedAlloc(t)
	const events = 10_007 // not a whole number of epochs of 50
	delay := time.Millisecond
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	seen := make([]string, events)
	counts := map[string]int{}
	for _, table := range []string{NexmarkBid, NexmarkAuction, NexmarkPerson} {
		x := newNexmark(t, NexmarkOptions{Table: table, MaxEvents: events, InterEventDelay: delay, BaseTime: base})
		latest, err := x.Latest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rows := readRows(t, x, mem, 0, latest[0], 1000)
		counts[table] = len(rows)
		prev := time.Time{}
		for r, v := range col(rows, table, "date_time") {
			ts := v.(time.Time)
			if !ts.After(prev) {
				t.Fatalf("%s row %d: date_time %v is not after the previous row's %v", table, r, ts, prev)
			}
			prev = ts
			d := ts.Sub(base)
			if d%delay != 0 {
				t.Fatalf("%s row %d: date_time %v is not base + a whole number of inter-event delays", table, r, ts)
			}
			ev := int(d / delay)
			if ev < 0 || ev >= events {
				t.Fatalf("%s row %d: event %d is outside [0, %d)", table, r, ev, events)
			}
			if seen[ev] != "" {
				t.Fatalf("event %d is both a %s and a %s", ev, seen[ev], table)
			}
			seen[ev] = table
		}
	}
	for ev, table := range seen {
		if table == "" {
			t.Fatalf("event %d is in no table", ev)
		}
	}
	// 200 epochs of 1 person, 3 auctions, 46 bids, then 7 events: 1
	// person, 3 auctions and 3 bids.
	want := map[string]int{NexmarkPerson: 201, NexmarkAuction: 603, NexmarkBid: 9203}
	if !reflect.DeepEqual(counts, want) {
		t.Fatalf("rows per table %v, want %v", counts, want)
	}
	for table, rows := range want {
		o := NexmarkOptions{Table: table}
		if got := o.EventsFor(int64(rows)); nxMixOf(o.withDefaults()).rowsBefore(table, got) != int64(rows) || nxMixOf(o.withDefaults()).rowsBefore(table, got-1) != int64(rows-1) {
			t.Fatalf("EventsFor(%d) of %s = %d: not the first event count with %d rows", rows, table, got, rows)
		}
	}
}

func TestNexmarkValuesFollowTheReferenceDistributions(t *testing.T) {
	mem := checkedAlloc(t)
	const n = 40_000
	bids := readRows(t, newNexmark(t, NexmarkOptions{Table: NexmarkBid}), mem, 0, n, 1<<12)
	m := nxMixOf(NexmarkOptions{}.withDefaults())
	hotAuctions, hotBidders, hotChannels := 0, 0, 0
	var logPrice, extraLen float64
	for r, row := range bids {
		ev := m.eventOf(NexmarkBid, int64(r))
		auction, bidder, price := row[0].(int64), row[1].(int64), row[2].(int64)
		channel, url, extra := row[3].(string), row[4].(string), row[6].(string)
		if auction < nxFirstAuctionID || auction > nxFirstAuctionID+m.lastAuction(ev)+nxAuctionIDLead {
			t.Fatalf("bid %d: auction %d is not one that exists by event %d (or within the lead)", r, auction, ev)
		}
		if bidder < nxFirstPersonID || bidder > nxFirstPersonID+m.lastPerson(ev)+nxPersonIDLead {
			t.Fatalf("bid %d: bidder %d is not a person that exists by event %d (or within the lead)", r, bidder, ev)
		}
		if (auction-nxFirstAuctionID)%nxHotBatch == 0 {
			hotAuctions++
		}
		if (bidder-nxFirstPersonID)%nxHotBatch == 1 {
			hotBidders++
		}
		for _, c := range nxHotChannels {
			if channel == c {
				hotChannels++
			}
		}
		if !strings.HasPrefix(url, "https://www.nexmark.com/") {
			t.Fatalf("bid %d: url %q", r, url)
		}
		if price < 100 || price > 100_000_000 {
			t.Fatalf("bid %d: price %d cents is outside $1 to $1M", r, price)
		}
		logPrice += math.Log10(float64(price) / 100)
		// nextExtra: 100 - 32 bytes to pad, within 20% (54 to 81).
		if len(extra) < 54 || len(extra) > 81 {
			t.Fatalf("bid %d: extra of %d bytes, want 54 to 81", r, len(extra))
		}
		extraLen += float64(len(extra))
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
		}
	}
	// Hot auctions: 1/2 by choice, plus the cold picks that land on a
	// multiple of 100 (about 1/100 of the other half).
	near("share of bids on hot auctions", float64(hotAuctions)/n, 0.5+0.5/100, 0.015)
	near("share of bids by hot bidders", float64(hotBidders)/n, 0.75, 0.015)
	near("share of bids through hot channels", float64(hotChannels)/n, 0.5, 0.015)
	near("mean log10 of the price in dollars", logPrice/n, 3, 0.05)
	near("mean extra length", extraLen/n, 67.5, 0.5)

	auctions := readRows(t, newNexmark(t, NexmarkOptions{Table: NexmarkAuction}), mem, 0, 5000, 1000)
	for r, row := range auctions {
		if id := row[0].(int64); id != nxFirstAuctionID+int64(r) {
			t.Fatalf("auction %d has id %d", r, id)
		}
		initial, reserve := row[3].(int64), row[4].(int64)
		if reserve <= initial {
			t.Fatalf("auction %d: reserve %d is not above the initial bid %d", r, reserve, initial)
		}
		start, expires := row[5].(time.Time), row[6].(time.Time)
		// 100 auctions ahead are 1666 events, 166.6ms: a length in
		// (0, 2*166] ms.
		if l := expires.Sub(start); l <= 0 || l > 333*time.Millisecond {
			t.Fatalf("auction %d lasts %v", r, l)
		}
		if c := row[8].(int64); c < nxFirstCategoryID || c >= nxFirstCategoryID+nxNumCategories {
			t.Fatalf("auction %d: category %d", r, c)
		}
		if l := len(row[1].(string)); l < 3 || l > 19 {
			t.Fatalf("auction %d: item_name of %d characters", r, l)
		}
		size := 8 + len(row[1].(string)) + len(row[2].(string)) + 40
		if pad := 500 - size; len(row[9].(string)) < pad*4/5-1 || len(row[9].(string)) > pad*6/5+1 {
			t.Fatalf("auction %d: extra of %d bytes to pad %d", r, len(row[9].(string)), pad)
		}
	}
	people := readRows(t, newNexmark(t, NexmarkOptions{Table: NexmarkPerson}), mem, 0, 2000, 1000)
	for r, row := range people {
		if id := row[0].(int64); id != nxFirstPersonID+int64(r) {
			t.Fatalf("person %d has id %d", r, id)
		}
		first, last, ok := strings.Cut(row[1].(string), " ")
		if !ok || !contains(nxFirstNames, first) || !contains(nxLastNames, last) {
			t.Fatalf("person %d: name %q", r, row[1])
		}
		if email := row[2].(string); !strings.HasSuffix(email, ".com") || !strings.Contains(email, "@") {
			t.Fatalf("person %d: email %q", r, email)
		}
		if cc := row[3].(string); len(cc) != 19 || strings.Count(cc, " ") != 3 {
			t.Fatalf("person %d: credit card %q", r, cc)
		}
		if !contains(nxCities, row[4].(string)) || !contains(nxStates, row[5].(string)) {
			t.Fatalf("person %d: city %q, state %q", r, row[4], row[5])
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestNexmarkPriceMatchesPow(t *testing.T) {
	r := splitmix{s: 1}
	for i := range 200_000 {
		h := r.next()
		if i < 4 {
			h = []uint64{0, math.MaxUint64, 1 << 63, 1<<54 - 1}[i]
		}
		u := float64(h>>11) * (1.0 / (1 << 53))
		want := math.Round(100 * math.Pow(10, 6*u))
		if got := float64(nextPrice(h)); math.Abs(got-want) > 1 {
			t.Fatalf("nextPrice(%#x) = %v, want %v (u = %v)", h, got, want, u)
		}
	}
}

func TestNexmarkLatest(t *testing.T) {
	ctx := context.Background()
	latest := func(x *Nexmark) int64 {
		t.Helper()
		o, err := x.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return o[0]
	}
	t.Run("max_events is due at once without a rate", func(t *testing.T) {
		x := newNexmark(t, NexmarkOptions{MaxEvents: 1000})
		if got := latest(x); got != 920 {
			t.Fatalf("Latest = %d bids, want 920", got)
		}
		if got := latest(x); got != 920 {
			t.Fatalf("Latest again = %d bids, want 920", got)
		}
	})
	t.Run("without a rate or a bound each call adds UnlimitedStep events", func(t *testing.T) {
		x := newNexmark(t, NexmarkOptions{Table: NexmarkPerson})
		// 2^20 events are 20971 epochs of 50 and 26 events, one a person.
		if got, want := latest(x), int64(20972); got != want {
			t.Fatalf("Latest = %d, want %d", got, want)
		}
		// 2^21 events: 41943 epochs and 2 events.
		if got, want := latest(x), int64(41944); got != want {
			t.Fatalf("Latest = %d, want %d", got, want)
		}
	})
	t.Run("events_per_second follows the clock up to max_events", func(t *testing.T) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		x, err := NewNexmark(NexmarkColumns(NexmarkAuction), NexmarkOptions{Table: NexmarkAuction, EventsPerSecond: 1000, MaxEvents: 5000}, clock)
		if err != nil {
			t.Fatal(err)
		}
		if got := latest(x); got != 0 {
			t.Fatalf("Latest at the start = %d, want 0", got)
		}
		now = now.Add(1500 * time.Millisecond) // 1500 events: 30 epochs
		if got := latest(x); got != 90 {
			t.Fatalf("Latest after 1.5s = %d auctions, want 90", got)
		}
		now = now.Add(-time.Second)
		if got := latest(x); got != 90 {
			t.Fatalf("Latest after the clock went back = %d, want 90 (it never decreases)", got)
		}
		now = now.Add(time.Hour)
		if got := latest(x); got != 300 {
			t.Fatalf("Latest an hour on = %d, want 300 (max_events 5000)", got)
		}
		// The event time follows the rate: 1ms apart.
		rows := readRows(t, x, checkedAlloc(t), 0, 2, 2)
		if d := rows[1][5].(time.Time).Sub(rows[0][5].(time.Time)); d != time.Millisecond {
			t.Fatalf("auctions 0 and 1 are %v apart, want 1ms (events 1 and 2)", d)
		}
	})
	t.Run("reads past the bound fail", func(t *testing.T) {
		x := newNexmark(t, NexmarkOptions{MaxEvents: 100})
		if _, err := tryReadRows(x, checkedAlloc(t), 0, 93, 10); sqlerr.Code(err) != sqlerr.InvalidParameterValue {
			t.Fatalf("reading 93 of 92 bids: %v, want 22023", err)
		}
	})
}

func TestNexmarkDeclaredColumns(t *testing.T) {
	mem := checkedAlloc(t)
	cols := []Column{{"PRICE", sqltypes.Int64}, {"channel", sqltypes.Varchar(4)}, {"date_time", sqltypes.Timestamp}}
	x, err := NewNexmark(cols, NexmarkOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := readRows(t, newNexmark(t, NexmarkOptions{}), mem, 0, 500, 500)
	got := readRows(t, x, mem, 0, 500, 500)
	for r := range got {
		ch := full[r][3].(string)
		if len(ch) > 4 {
			ch = ch[:4]
		}
		if want := []any{full[r][2], ch, full[r][5]}; !reflect.DeepEqual(got[r], want) {
			t.Fatalf("row %d = %v, want %v (price, channel cut to 4, date_time)", r, got[r], want)
		}
	}

	for _, tt := range []struct {
		name string
		cols []Column
		code string
		want string
	}{
		{"a column the table lacks", []Column{{"seller", sqltypes.Int64}}, sqlerr.UndefinedColumn, `"seller"`},
		{"an id as an integer", []Column{{"auction", sqltypes.Int32}}, sqlerr.DatatypeMismatch, `"auction"`},
		{"a timestamp as text", []Column{{"date_time", sqltypes.Text}}, sqlerr.DatatypeMismatch, `"date_time"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewNexmark(tt.cols, NexmarkOptions{}, nil)
			if sqlerr.Code(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %s naming %s", err, tt.code, tt.want)
			}
		})
	}
}

func TestParseNexmarkOptions(t *testing.T) {
	got, err := ParseNexmarkOptions(map[string]string{
		"connector": "nexmark", "event_time": "date_time", "Table": "Auction", "seed": "18446744073709551615",
		"events_per_second": "0", "max_events": "1000", "base_time": "2025-06-01 12:00:00",
		"inter_event_delay": "1 millisecond", "bid_proportion": "10", "hot_seller_ratio": "8",
		"num_active_people": "50", "avg_bid_bytes": "200",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := NexmarkOptions{Table: NexmarkAuction, Seed: math.MaxUint64, MaxEvents: 1000,
		BaseTime: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), InterEventDelay: time.Millisecond,
		BidProportion: 10, HotSellerRatio: 8, NumActivePeople: 50, AvgBidBytes: 200}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if d, err := ParseNexmarkOptions(map[string]string{"inter_event_delay": "250us"}); err != nil || d.InterEventDelay != 250*time.Microsecond {
		t.Fatalf("inter_event_delay '250us': %+v, %v", d, err)
	}

	for _, tt := range []struct {
		name string
		opts map[string]string
		code string
		key  string
	}{
		{"an unknown key", map[string]string{"rows_per_second": "5"}, sqlerr.SyntaxError, "rows_per_second"},
		{"a table that does not exist", map[string]string{"table": "bids"}, sqlerr.InvalidParameterValue, "table"},
		{"a negative rate", map[string]string{"events_per_second": "-1"}, sqlerr.InvalidParameterValue, "events_per_second"},
		{"max_events of zero", map[string]string{"max_events": "0"}, sqlerr.InvalidParameterValue, "max_events"},
		{"a seed that is not a number", map[string]string{"seed": "x"}, sqlerr.InvalidParameterValue, "seed"},
		{"a base time that is not a timestamp", map[string]string{"base_time": "noon"}, sqlerr.InvalidParameterValue, "base_time"},
		{"a delay of zero", map[string]string{"inter_event_delay": "0s"}, sqlerr.InvalidParameterValue, "inter_event_delay"},
		{"a delay in months", map[string]string{"inter_event_delay": "1 month"}, sqlerr.InvalidParameterValue, "inter_event_delay"},
		{"a ratio of zero", map[string]string{"hot_auction_ratio": "0"}, sqlerr.InvalidParameterValue, "hot_auction_ratio"},
		{"a fractional proportion", map[string]string{"person_proportion": "1.5"}, sqlerr.InvalidParameterValue, "person_proportion"},
		{"an average beyond the bound", map[string]string{"avg_auction_bytes": "2000000"}, sqlerr.InvalidParameterValue, "avg_auction_bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNexmarkOptions(tt.opts)
			var se *sqlerr.Error
			if !errors.As(err, &se) || se.Code != tt.code || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("got %v, want %s naming %s", err, tt.code, tt.key)
			}
		})
	}
}

func TestNexmarkStepsThroughEpochsAsTheReferenceDivides(t *testing.T) {
	for _, o := range []NexmarkOptions{{}, {PersonProportion: 3, AuctionProportion: 2, BidProportion: 7}} {
		for _, table := range []string{NexmarkBid, NexmarkAuction, NexmarkPerson} {
			o.Table = table
			x := newNexmark(t, o)
			m := x.mix
			for _, from := range []int64{0, 1, 45, 46, 47, 999_999_937} {
				const n = 200
				ev, lp, la := make([]int64, n), make([]int64, n), make([]int64, n)
				x.eventsOf(from, ev, lp, la)
				for i := range n {
					k := from + int64(i)
					want := m.eventOf(table, k)
					if ev[i] != want || lp[i] != m.lastPerson(want) || la[i] != m.lastAuction(want) {
						t.Fatalf("%+v: row %d: event %d, last person %d, last auction %d; want %d, %d, %d",
							o, k, ev[i], lp[i], la[i], want, m.lastPerson(want), m.lastAuction(want))
					}
				}
			}
		}
	}
}
