package source

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// The Nexmark tables, as connector = 'nexmark' names them (table = ...).
const (
	NexmarkBid     = "bid"
	NexmarkAuction = "auction"
	NexmarkPerson  = "person"
)

// Constants of the reference generator (Apache Beam's and Flink's
// NexmarkGenerator) that its configuration does not change.
const (
	nxFirstPersonID   = 1000
	nxFirstAuctionID  = 1000
	nxFirstCategoryID = 10
	nxNumCategories   = 5
	// Hot sellers, bidders and auctions are the first (bidders: the
	// second) of each run of this many people or auctions.
	nxHotBatch = 100
	// Ids are picked a little past the newest person or auction: the
	// reference's "leads".
	nxPersonIDLead  = 10
	nxAuctionIDLead = 10
	nxChannels      = 10_000
	// nxPoolBytes is the span of the random text pool that strings are cut
	// from (plus the longest string).
	nxPoolBytes = 1 << 16
	// nxMaxAvgBytes bounds the avg_*_bytes options.
	nxMaxAvgBytes = 1 << 20
)

var nexmarkEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// The reference generator's word lists.
var (
	nxFirstNames  = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	nxLastNames   = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	nxCities      = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	nxStates      = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	nxHotChannels = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// NexmarkOptions configures a Nexmark source. The zero value (with Table
// set, or not: bid) is the reference generator's default configuration
// without a rate limit: events in the mix person 1 : auction 3 : bid 46
// (2%, 6%, 92%), 1000 active people, 100 auctions in flight, hot
// ratios 2 (auctions), 4 (sellers), 4 (bidders), 2 (channels), one event
// every 100µs of event time from 2026-01-01 00:00:00.
type NexmarkOptions struct {
	// Name names the source in error messages. Default "nexmark".
	Name string
	// Table is the kind of event the source's rows are: NexmarkBid
	// (default), NexmarkAuction or NexmarkPerson. Its offsets are row
	// numbers of that table; the events of the other kinds take event
	// numbers in between, so the three tables of one configuration are
	// the three parts of one event stream.
	Table string
	// Seed makes every random choice; the same seed gives the same rows.
	Seed uint64
	// EventsPerSecond is the rate at which events (of all three kinds)
	// become due. 0 (default) means unlimited: everything up to MaxEvents
	// is due at once, or, without MaxEvents, each Latest call adds
	// UnlimitedStep events.
	EventsPerSecond int64
	// MaxEvents, when positive, bounds the event stream: the table has
	// the rows of events [0, MaxEvents).
	MaxEvents int64
	// BaseTime is the date_time of event 0. Default 2026-01-01 UTC.
	BaseTime time.Time
	// InterEventDelay is the event time between consecutive events: event
	// n happens at BaseTime + n*InterEventDelay. Default: one second over
	// EventsPerSecond, or 100µs (the reference's 10,000 events a second)
	// without a rate.
	InterEventDelay time.Duration
	// PersonProportion, AuctionProportion and BidProportion make the
	// mix: in every run of their sum of events, that many of each, in
	// that order. Default 1, 3, 46.
	PersonProportion, AuctionProportion, BidProportion int64
	// NumActivePeople is how many of the newest people bid and sell when
	// not hot. Default 1000.
	NumActivePeople int64
	// NumInFlightAuctions is how many of the newest auctions get bids
	// when not hot; auctions expire about when that many more have
	// started. Default 100.
	NumInFlightAuctions int64
	// A bid goes to a hot auction, is made by a hot bidder, comes through
	// a hot channel, and an auction is by a hot seller, with probability
	// 1 - 1/ratio. Defaults 2, 4, 2, 4.
	HotAuctionRatio, HotBidderRatio, HotChannelRatio, HotSellerRatio int64
	// The extra column pads each event toward this average size in bytes.
	// Defaults 200 (person), 500 (auction), 100 (bid).
	AvgPersonBytes, AvgAuctionBytes, AvgBidBytes int64
	// Parallelism is how many goroutines one Read generates records on.
	// Default GOMAXPROCS.
	Parallelism int
}

// withDefaults fills the unset fields.
func (o NexmarkOptions) withDefaults() NexmarkOptions {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Name == "" {
		o.Name = "nexmark"
	}
	if o.Table == "" {
		o.Table = NexmarkBid
	}
	if o.BaseTime.IsZero() {
		o.BaseTime = nexmarkEpoch
	}
	if o.InterEventDelay == 0 {
		o.InterEventDelay = 100 * time.Microsecond
		if o.EventsPerSecond > 0 {
			o.InterEventDelay = max(time.Second/time.Duration(o.EventsPerSecond), time.Nanosecond)
		}
	}
	def(&o.PersonProportion, 1)
	def(&o.AuctionProportion, 3)
	def(&o.BidProportion, 46)
	def(&o.NumActivePeople, 1000)
	def(&o.NumInFlightAuctions, 100)
	def(&o.HotAuctionRatio, 2)
	def(&o.HotBidderRatio, 4)
	def(&o.HotChannelRatio, 2)
	def(&o.HotSellerRatio, 4)
	def(&o.AvgPersonBytes, 200)
	def(&o.AvgAuctionBytes, 500)
	def(&o.AvgBidBytes, 100)
	if o.Parallelism <= 0 {
		o.Parallelism = runtime.GOMAXPROCS(0)
	}
	return o
}

// Validate reports whether the options are usable: 22023 naming the
// option as ParseNexmarkOptions reads it if not.
func (o NexmarkOptions) Validate() error {
	bad := func(key string, v any, want string) error {
		return sqlerr.New(sqlerr.InvalidParameterValue, "invalid value %v for option %s: want %s", v, key, want)
	}
	switch o.Table {
	case "", NexmarkBid, NexmarkAuction, NexmarkPerson:
	default:
		return bad("table", strconv.Quote(o.Table), "'bid', 'auction' or 'person'")
	}
	for _, f := range []struct {
		key string
		v   int64
		min int64
	}{
		{"events_per_second", o.EventsPerSecond, 0}, {"max_events", o.MaxEvents, 0},
		{"person_proportion", o.PersonProportion, 0}, {"auction_proportion", o.AuctionProportion, 0},
		{"bid_proportion", o.BidProportion, 0}, {"num_active_people", o.NumActivePeople, 0},
		{"num_in_flight_auctions", o.NumInFlightAuctions, 0},
		{"hot_auction_ratio", o.HotAuctionRatio, 0}, {"hot_bidder_ratio", o.HotBidderRatio, 0},
		{"hot_channel_ratio", o.HotChannelRatio, 0}, {"hot_seller_ratio", o.HotSellerRatio, 0},
		{"avg_person_bytes", o.AvgPersonBytes, 0}, {"avg_auction_bytes", o.AvgAuctionBytes, 0},
		{"avg_bid_bytes", o.AvgBidBytes, 0},
	} {
		if f.v < f.min {
			return bad(f.key, f.v, "a positive integer")
		}
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"avg_person_bytes", o.AvgPersonBytes}, {"avg_auction_bytes", o.AvgAuctionBytes}, {"avg_bid_bytes", o.AvgBidBytes}} {
		if f.v > nxMaxAvgBytes {
			return bad(f.key, f.v, fmt.Sprintf("at most %d", nxMaxAvgBytes))
		}
	}
	if o.PersonProportion+o.AuctionProportion+o.BidProportion > 1<<20 {
		return bad("bid_proportion", o.BidProportion, "proportions that add up to at most 1048576")
	}
	if o.InterEventDelay < 0 {
		return bad("inter_event_delay", o.InterEventDelay, "a positive duration")
	}
	return nil
}

// EventsFor returns the smallest number of events whose table (o.Table)
// has rows rows: MaxEvents = EventsFor(n) bounds the table at exactly n
// rows.
func (o NexmarkOptions) EventsFor(rows int64) int64 {
	if rows <= 0 {
		return 0
	}
	o = o.withDefaults()
	return nxMixOf(o).eventOf(o.Table, rows-1) + 1
}

// nxMix places the three kinds of event in the event stream: in every
// epoch of t events, p persons, then a auctions, then b bids.
type nxMix struct{ p, a, b, t int64 }

func nxMixOf(o NexmarkOptions) nxMix {
	return nxMix{p: o.PersonProportion, a: o.AuctionProportion, b: o.BidProportion,
		t: o.PersonProportion + o.AuctionProportion + o.BidProportion}
}

// eventOf is the event number of row k of a table.
func (m nxMix) eventOf(table string, k int64) int64 {
	switch table {
	case NexmarkPerson:
		return k/m.p*m.t + k%m.p
	case NexmarkAuction:
		return k/m.a*m.t + m.p + k%m.a
	}
	return k/m.b*m.t + m.p + m.a + k%m.b
}

// rowsBefore is how many rows of a table the first n events hold.
func (m nxMix) rowsBefore(table string, n int64) int64 {
	epochs, rem := n/m.t, n%m.t
	switch table {
	case NexmarkPerson:
		return epochs*m.p + min(rem, m.p)
	case NexmarkAuction:
		return epochs*m.a + min(max(rem-m.p, 0), m.a)
	}
	return epochs*m.b + min(max(rem-m.p-m.a, 0), m.b)
}

// lastPerson is the reference's lastBase0PersonId: the newest person at
// event n (counting from 0).
func (m nxMix) lastPerson(n int64) int64 {
	epoch, off := n/m.t, n%m.t
	return epoch*m.p + min(off, m.p-1)
}

// lastAuction is the reference's lastBase0AuctionId: the newest auction
// at event n (-1 before the first).
func (m nxMix) lastAuction(n int64) int64 {
	epoch, off := n/m.t, n%m.t
	switch {
	case off < m.p:
		epoch--
		off = m.a - 1
	case off >= m.p+m.a:
		off = m.a - 1
	default:
		off -= m.p
	}
	return epoch*m.a + off
}

// The columns of the three tables, as the Flink Nexmark DDL names them
// (in snake case).
const (
	nxInt = iota
	nxText
	nxTime
)

type nxColDef struct {
	name string
	kind int
}

var nexmarkTables = map[string][]nxColDef{
	NexmarkPerson: {{"id", nxInt}, {"name", nxText}, {"email_address", nxText}, {"credit_card", nxText},
		{"city", nxText}, {"state", nxText}, {"date_time", nxTime}, {"extra", nxText}},
	NexmarkAuction: {{"id", nxInt}, {"item_name", nxText}, {"description", nxText}, {"initial_bid", nxInt},
		{"reserve", nxInt}, {"date_time", nxTime}, {"expires", nxTime}, {"seller", nxInt}, {"category", nxInt},
		{"extra", nxText}},
	NexmarkBid: {{"auction", nxInt}, {"bidder", nxInt}, {"price", nxInt}, {"channel", nxText},
		{"url", nxText}, {"date_time", nxTime}, {"extra", nxText}},
}

// NexmarkColumns returns the columns of a Nexmark table with their SQL
// types, in the reference's order (nil for an unknown table).
func NexmarkColumns(table string) []Column {
	defs := nexmarkTables[table]
	out := make([]Column, len(defs))
	for i, d := range defs {
		out[i].Name = d.name
		switch d.kind {
		case nxInt:
			out[i].Type = sqltypes.Int64
		case nxText:
			out[i].Type = sqltypes.Text
		case nxTime:
			out[i].Type = sqltypes.Timestamp
		}
	}
	return out
}

// The random draws of an event: each is an independent 64-bit value, a
// pure function of (seed, draw, event number), so a column can be made
// without the others.
const (
	// bid
	dBidAuctionHot = iota
	dBidAuction
	dBidBidderHot
	dBidBidder
	dBidPrice
	dBidChannelHot
	dBidChannel
	dBidExtra
	// auction
	dAucSellerHot
	dAucSeller
	dAucCategory
	dAucInitialBid
	dAucReserve
	dAucExpires
	dAucName
	dAucDesc
	dAucExtra
	// person
	dPerFirst
	dPerLast
	dPerEmailUser
	dPerEmailHost
	dPerCard
	dPerCity
	dPerState
	dPerExtra
	nxDraws
)

// Nexmark is the Nexmark benchmark's event generator as a source: rows of
// one of its tables (bid, auction, person), every value a pure function of
// (seed, event number), with the reference generator's mix of events and
// distributions of values. One partition (0); offsets are row numbers of
// the table.
type Nexmark struct {
	name   string
	opts   NexmarkOptions
	schema *arrow.Schema
	cols   []nxCol
	mix    nxMix
	keys   [nxDraws]uint64
	// pool is random text that the random strings are cut from.
	pool string
	// channels and urls: the hot ones first, then channel-0 ...
	channels, urls nxPacked
	delay          int64 // inter-event delay, nanoseconds
	base           int64 // date_time of event 0, microseconds
	// bound is the number of rows there will ever be (math.MaxInt64
	// without MaxEvents).
	bound int64
	now   func() time.Time
	start time.Time // when the rate counts from (under mu)
	// rateBase is the event count the rate counts from (ResumeFrom), at
	// start (under mu).
	rateBase int64

	mu     sync.Mutex
	events int64 // events due, as Latest last saw
}

var _ Source = (*Nexmark)(nil)

// nxCol is a declared column: which of its table's columns, and the
// VARCHAR width its values are cut to (0: none).
type nxCol struct {
	name  string
	kind  int
	width int
	dt    arrow.DataType
}

// NewNexmark returns a Nexmark source whose rows have the columns cols:
// any of its table's columns (NexmarkColumns), in any order, declared
// BIGINT, TEXT or VARCHAR(n) (values are cut to n characters, as a cast
// does) and TIMESTAMP as the table has them. Its rate clock starts at
// now() (time.Now when nil).
func NewNexmark(cols []Column, opts NexmarkOptions, now func() time.Time) (*Nexmark, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	schema, err := schemaOf(cols)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	x := &Nexmark{name: opts.Name, opts: opts, schema: schema, mix: nxMixOf(opts),
		delay: int64(opts.InterEventDelay), base: opts.BaseTime.UnixMicro(), now: now}
	defs := nexmarkTables[opts.Table]
	for _, c := range cols {
		i := -1
		for j, d := range defs {
			if strings.EqualFold(d.name, c.Name) {
				i = j
			}
		}
		if i < 0 {
			names := make([]string, len(defs))
			for j, d := range defs {
				names[j] = d.name
			}
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "nexmark table %q has no column %q (its columns are %s)", opts.Table, c.Name, strings.Join(names, ", "))
		}
		d := defs[i]
		want := NexmarkColumns(opts.Table)[i].Type
		if c.Type.Kind != want.Kind {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "column %q of nexmark table %q is %s, not %s", c.Name, opts.Table, want, c.Type)
		}
		x.cols = append(x.cols, nxCol{name: d.name, kind: d.kind, width: c.Type.Width, dt: c.Type.Arrow()})
	}
	x.bound = math.MaxInt64
	if opts.MaxEvents > 0 {
		x.bound = x.mix.rowsBefore(opts.Table, opts.MaxEvents)
	}
	for d := range x.keys {
		x.keys[d] = mix64(opts.Seed + golden*uint64(d+1))
	}
	x.makeText()
	x.start = now()
	return x, nil
}

// makeText makes the text pool and the channels' names and URLs from
// the seed.
func (x *Nexmark) makeText() {
	r := splitmix{s: mix64(x.opts.Seed ^ 0x6e65786d61726b)} // "nexmark"
	longest := 100 + int(max(x.opts.AvgPersonBytes, x.opts.AvgAuctionBytes, x.opts.AvgBidBytes)*6/5) + 2
	x.pool = r.text(nxPoolBytes+longest, ' ')
	baseURL := func() string {
		return "https://www.nexmark.com/" + r.text(3+int(uniform(r.next(), 2)), '_') + "/" +
			r.text(3+int(uniform(r.next(), 2)), '_') + "/" + r.text(3+int(uniform(r.next(), 2)), '_') +
			"/item.htm?query=1"
	}
	var channels, urls []string
	for _, c := range nxHotChannels {
		channels = append(channels, c)
		urls = append(urls, baseURL())
	}
	for i := range nxChannels {
		channels = append(channels, "channel-"+strconv.Itoa(i))
		u := baseURL()
		if uniform(r.next(), 10) > 0 {
			u += "&channel_id=" + strconv.FormatInt(int64(math.Abs(float64(int32(bits.Reverse32(uint32(i)))))), 10)
		}
		urls = append(urls, u)
	}
	x.channels, x.urls = packText(channels), packText(urls)
}

// nxPacked is a list of strings packed into one, value k being
// all[offs[k]:offs[k+1]]: a bid copies a random one of 10,004 URLs, and
// they are denser in the caches together than as as many objects, and a
// column's values are gathered as spans of it, with no pointers (and so
// no write barriers) per row.
type nxPacked struct {
	all  string
	offs []int32
}

func packText(ss []string) nxPacked {
	t := nxPacked{all: strings.Join(ss, ""), offs: make([]int32, len(ss)+1)}
	for i, v := range ss {
		t.offs[i+1] = t.offs[i] + int32(len(v))
	}
	return t
}

func (t nxPacked) span(k uint64) nxSpan {
	return nxSpan{off: t.offs[k], n: t.offs[k+1] - t.offs[k]}
}

// nxSpan is a value of a text column as a place in a string.
type nxSpan struct{ off, n int32 }

var (
	nxCityText  = packText(nxCities)
	nxStateText = packText(nxStates)
)

// splitmix is a splitmix64 sequence, for what the source makes once.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// text returns n random characters as the reference's nextString makes
// them: a space (or sep) one time in 13, else a lowercase letter.
func (r *splitmix) text(n int, sep byte) string {
	b := make([]byte, n)
	var x uint64
	for i := range b {
		if i%6 == 0 {
			x = r.next()
		}
		var c uint64
		c, x = bits.Mul64(x, 13*26)
		if c < 26 {
			b[i] = sep
		} else {
			b[i] = 'a' + byte((c-26)%26)
		}
	}
	return string(b)
}

// draw is random draw d of event n.
func (x *Nexmark) draw(d int, n int64) uint64 { return mix64(x.keys[d] + golden*uint64(n)) }

// Schema implements Source.
func (x *Nexmark) Schema() *arrow.Schema { return x.schema }

// Earliest implements Source: always offset 0.
func (x *Nexmark) Earliest(ctx context.Context) (Offsets, error) { return Offsets{0: 0}, nil }

// Latest implements Source: the rows of the events due. With a rate,
// floor(elapsed * EventsPerSecond) events are due since the source was
// created; without one, all of MaxEvents, or UnlimitedStep more events per
// call without MaxEvents. It never decreases.
func (x *Nexmark) Latest(ctx context.Context) (Offsets, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	next := x.events
	switch {
	case x.opts.EventsPerSecond > 0:
		next = max(next, x.rateBase+dueSince(x.now().Sub(x.start), x.opts.EventsPerSecond, math.MaxInt64-x.rateBase))
	case x.opts.MaxEvents > 0:
		next = x.opts.MaxEvents
	case next <= math.MaxInt64-UnlimitedStep:
		next += UnlimitedStep
	default:
		next = math.MaxInt64
	}
	if x.opts.MaxEvents > 0 {
		next = min(next, x.opts.MaxEvents)
	}
	x.events = max(x.events, next)
	return Offsets{0: x.mix.rowsBefore(x.opts.Table, x.events)}, nil
}

// ResumeFrom implements Resumer: with a rate, the events after the one
// that holds row offs[0] become due at the rate from now on (when fewer
// are due now).
func (x *Nexmark) ResumeFrom(offs Offsets) {
	x.mu.Lock()
	defer x.mu.Unlock()
	o, ok := offs[0]
	if !ok || x.opts.EventsPerSecond <= 0 || o <= x.mix.rowsBefore(x.opts.Table, x.events) {
		return
	}
	// The fewest events whose rows reach o (rowsBefore grows with n).
	lo, hi := x.events, int64(math.MaxInt64)
	if x.opts.MaxEvents > 0 {
		hi = x.opts.MaxEvents
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if x.mix.rowsBefore(x.opts.Table, mid) >= o {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	x.rateBase, x.start, x.events = lo, x.now(), lo
}

// Read implements Source. Records are generated column at a time straight
// into Arrow buffers, on up to Parallelism goroutines. Any range below the
// source's bound can be read, due yet or not: rows never change, so a
// replayed plan reads the same rows after a restart, whatever Latest says.
func (x *Nexmark) Read(ctx context.Context, mem memory.Allocator, start, end Offsets, maxRows int) ([]arrow.Record, error) {
	s, e, ok, err := singleRange(x.name, start, end, maxRows, 0, x.bound)
	if err != nil || !ok {
		return nil, err
	}
	chunks := int((e - s + int64(maxRows) - 1) / int64(maxRows))
	out := make([]arrow.Record, chunks)
	gen := func(i int, sc *nxScratch) error {
		from := s + int64(i)*int64(maxRows)
		n := int(min(int64(maxRows), e-from))
		rec, err := x.record(mem, from, n, sc)
		out[i] = rec
		return err
	}
	workers := min(x.opts.Parallelism, chunks)
	var firstErr error
	if workers <= 1 {
		var sc nxScratch
		for i := range chunks {
			if err := ctx.Err(); err != nil {
				firstErr = err
				break
			}
			if err := gen(i, &sc); err != nil {
				firstErr = err
				break
			}
		}
	} else {
		var next atomic.Int64
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var sc nxScratch
				for {
					i := int(next.Add(1) - 1)
					if i >= chunks {
						return
					}
					err := ctx.Err()
					if err == nil {
						err = gen(i, &sc)
					}
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						next.Store(int64(chunks))
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	if firstErr != nil {
		for _, r := range out {
			if r != nil {
				r.Release()
			}
		}
		return nil, firstErr
	}
	return out, nil
}

// Close implements Source.
func (x *Nexmark) Close() error { return nil }

// nxScratch is what one goroutine generating records reuses from one
// record to the next.
type nxScratch struct {
	ev    []int64  // the rows' event numbers
	lp    []int64  // the newest person at each row's event (lastPerson)
	la    []int64  // the newest auction at each row's event (lastAuction)
	spans []nxSpan // a text column's values, before they are copied
	buf   []byte
}

// record generates rows [from, from+n) of the table.
func (x *Nexmark) record(mem memory.Allocator, from int64, n int, sc *nxScratch) (arrow.Record, error) {
	if cap(sc.ev) < n {
		sc.ev, sc.lp, sc.la = make([]int64, n), make([]int64, n), make([]int64, n)
		sc.spans = make([]nxSpan, n)
	}
	sc.ev, sc.lp, sc.la = sc.ev[:n], sc.lp[:n], sc.la[:n]
	ev := sc.ev
	x.eventsOf(from, ev, sc.lp, sc.la)
	arrs := make([]arrow.Array, len(x.cols))
	release := func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}
	for i, c := range x.cols {
		a, err := x.column(mem, c, from, sc)
		if err != nil {
			release()
			return nil, err
		}
		arrs[i] = a
	}
	rec := array.NewRecord(x.schema, arrs, int64(n))
	release()
	return rec, nil
}

// eventsOf fills, for rows from, from+1, ... of the table, their event
// numbers and the newest person and auction at each (the reference's
// lastBase0PersonId and lastBase0AuctionId), stepping through the epochs
// of the mix rather than dividing for every row.
func (x *Nexmark) eventsOf(from int64, ev, lp, la []int64) {
	m := x.mix
	var per, first int64 // rows of the table per epoch; its first event's place in an epoch
	switch x.opts.Table {
	case NexmarkPerson:
		per, first = m.p, 0
	case NexmarkAuction:
		per, first = m.a, m.p
	default:
		per, first = m.b, m.p+m.a
	}
	e, r := from/per, from%per
	for i := range ev {
		ev[i] = e*m.t + first + r
		switch x.opts.Table {
		case NexmarkPerson:
			lp[i], la[i] = e*m.p+r, e*m.a-1
		case NexmarkAuction:
			lp[i], la[i] = e*m.p+m.p-1, e*m.a+r
		default:
			lp[i], la[i] = e*m.p+m.p-1, e*m.a+m.a-1
		}
		if r++; r == per {
			e, r = e+1, 0
		}
	}
}

// column generates one column for the rows from, from+1, ... whose events
// are in sc.
func (x *Nexmark) column(mem memory.Allocator, c nxCol, from int64, sc *nxScratch) (arrow.Array, error) {
	ev := sc.ev
	n := len(ev)
	switch c.kind {
	case nxInt:
		buf, v := newInt64s(mem, n)
		x.ints(c.name, from, ev, sc.lp, sc.la, v)
		return fixedArray(c.dt, n, buf), nil
	case nxTime:
		buf, v := newInt64s(mem, n)
		if x.delay%1000 == 0 {
			step := x.delay / 1000
			for i, e := range ev {
				v[i] = x.base + e*step
			}
		} else {
			for i, e := range ev {
				v[i] = x.eventTime(e)
			}
		}
		if c.name == "expires" {
			x.expires(ev, v)
		}
		return fixedArray(c.dt, n, buf), nil
	}
	return x.strings(mem, c, ev, sc)
}

// eventTime is event n's date_time in microseconds.
func (x *Nexmark) eventTime(n int64) int64 {
	return x.base + (n/1000)*x.delay + (n%1000)*x.delay/1000
}

// ints fills v with an integer column; lp and la are the rows' newest
// person and auction.
func (x *Nexmark) ints(name string, from int64, ev, lp, la, v []int64) {
	o := &x.opts
	switch x.opts.Table + "." + name {
	case "person.id":
		for i := range v {
			v[i] = from + int64(i) + nxFirstPersonID
		}
	case "auction.id":
		for i := range v {
			v[i] = from + int64(i) + nxFirstAuctionID
		}
	case "bid.auction":
		for i, n := range ev {
			last := la[i]
			var a int64
			if uniform(x.draw(dBidAuctionHot, n), uint64(o.HotAuctionRatio)) > 0 {
				a = last / nxHotBatch * nxHotBatch
			} else {
				lo := max(last-o.NumInFlightAuctions, 0)
				a = lo + int64(uniform(x.draw(dBidAuction, n), uint64(last-lo+1+nxAuctionIDLead)))
			}
			v[i] = a + nxFirstAuctionID
		}
	case "bid.bidder":
		for i, n := range ev {
			var p int64
			if uniform(x.draw(dBidBidderHot, n), uint64(o.HotBidderRatio)) > 0 {
				p = lp[i]/nxHotBatch*nxHotBatch + 1
			} else {
				p = x.nextPerson(lp[i], x.draw(dBidBidder, n))
			}
			v[i] = p + nxFirstPersonID
		}
	case "bid.price":
		for i, n := range ev {
			v[i] = nextPrice(x.draw(dBidPrice, n))
		}
	case "auction.seller":
		for i, n := range ev {
			var p int64
			if uniform(x.draw(dAucSellerHot, n), uint64(o.HotSellerRatio)) > 0 {
				p = lp[i] / nxHotBatch * nxHotBatch
			} else {
				p = x.nextPerson(lp[i], x.draw(dAucSeller, n))
			}
			v[i] = p + nxFirstPersonID
		}
	case "auction.category":
		for i, n := range ev {
			v[i] = nxFirstCategoryID + int64(uniform(x.draw(dAucCategory, n), nxNumCategories))
		}
	case "auction.initial_bid":
		for i, n := range ev {
			v[i] = nextPrice(x.draw(dAucInitialBid, n))
		}
	case "auction.reserve":
		for i, n := range ev {
			v[i] = nextPrice(x.draw(dAucInitialBid, n)) + nextPrice(x.draw(dAucReserve, n))
		}
	}
}

// nextPerson is the reference's nextBase0PersonId: one of the active
// people at an event whose newest person is last, or a little past it.
func (x *Nexmark) nextPerson(last int64, h uint64) int64 {
	people := last + 1
	active := min(people, x.opts.NumActivePeople)
	return people - active + int64(uniform(h, uint64(active+nxPersonIDLead)))
}

// nextPrice is the reference's price in cents: 10^(6u) dollars for u
// uniform in [0, 1), so from $1 to $1M, log-uniformly. 10^(6u) is a table
// entry for u's top 10 bits times a cubic for the rest (its exponent is
// below 0.0135, where the cubic's relative error is under 1.5e-9).
func nextPrice(h uint64) int64 {
	top := h >> (64 - nxPriceBits)
	rest := float64(h<<nxPriceBits>>11) * (1.0 / (1 << 53)) * (6 * math.Ln10 / (1 << nxPriceBits))
	return int64(nxPriceTable[top]*(1+rest*(1+rest*(0.5+rest*(1.0/6)))) + 0.5)
}

const nxPriceBits = 10

// nxPriceTable[i] is 100 * 10^(6i/1024): cents at the start of each
// of the 1024 steps of u.
var nxPriceTable = func() (t [1 << nxPriceBits]float64) {
	for i := range t {
		t[i] = 100 * math.Pow(10, 6*float64(i)/(1<<nxPriceBits))
	}
	return t
}()

// expires turns the date_times in v into the auctions' expiry times: a
// length uniform in (0, 2*horizon] milliseconds, where horizon is the
// event time until NumInFlightAuctions more auctions have started.
func (x *Nexmark) expires(ev []int64, v []int64) {
	o := &x.opts
	eventsAhead := o.NumInFlightAuctions * x.mix.t / x.mix.a
	horizonMs := (x.eventTime(eventsAhead) - x.eventTime(0)) / 1000
	span := uint64(max(horizonMs*2, 1))
	for i, n := range ev {
		v[i] += (1 + int64(uniform(x.draw(dAucExpires, n), span))) * 1000
	}
}

// nxString is the reference's nextString(maxLength): 3 to maxLength-1
// random characters, cut from the pool where h's low 16 bits say.
func nxString(h uint64, maxLength int) nxSpan {
	return nxSpan{off: int32(h & (nxPoolBytes - 1)), n: 3 + int32(uniform(h, uint64(maxLength-3)))}
}

// extra is the reference's nextExtra: random characters that pad an event
// of size current toward avg bytes, within 20% of the difference.
func extra(h uint64, current, avg int64) nxSpan {
	if current > avg {
		return nxSpan{}
	}
	avg -= current
	delta := int64(math.Round(float64(avg) * 0.2))
	size := avg - delta
	if delta > 0 {
		size += int64(uniform(h, uint64(2*delta)))
	}
	return nxSpan{off: int32(h & (nxPoolBytes - 1)), n: int32(size)}
}

// text is a span of the pool.
func (x *Nexmark) text(s nxSpan) string { return x.pool[s.off : s.off+s.n] }

// The parts of a person, from its draws (the extra column needs their
// lengths).
func (x *Nexmark) personName(n int64) (first, last string) {
	return nxFirstNames[uniform(x.draw(dPerFirst, n), uint64(len(nxFirstNames)))],
		nxLastNames[uniform(x.draw(dPerLast, n), uint64(len(nxLastNames)))]
}

func (x *Nexmark) personEmail(n int64) (user, host string) {
	return x.text(nxString(x.draw(dPerEmailUser, n), 7)), x.text(nxString(x.draw(dPerEmailHost, n), 5))
}

func (x *Nexmark) personCity(n int64) nxSpan {
	return nxCityText.span(uniform(x.draw(dPerCity, n), uint64(len(nxCities))))
}

func (x *Nexmark) personState(n int64) nxSpan {
	return nxStateText.span(uniform(x.draw(dPerState, n), uint64(len(nxStates))))
}

// creditCard appends four groups of four digits.
func creditCard(dst []byte, h uint64) []byte {
	for g := range 4 {
		if g > 0 {
			dst = append(dst, ' ')
		}
		for range 4 {
			var d uint64
			d, h = bits.Mul64(h, 10)
			dst = append(dst, '0'+byte(d))
		}
	}
	return dst
}

// strings generates a text column. Values that are cut from the pool or
// from packed lists are gathered first, as spans, and copied into a data
// buffer of exactly their size; the person's composed values are built in
// place.
func (x *Nexmark) strings(mem memory.Allocator, c nxCol, ev []int64, sc *nxScratch) (arrow.Array, error) {
	o := &x.opts
	spans := sc.spans[:len(ev)]
	src := x.pool
	switch x.opts.Table + "." + c.name {
	case "bid.channel", "bid.url":
		names := x.channels
		if c.name == "url" {
			names = x.urls
		}
		src = names.all
		hot := uint64(len(nxHotChannels))
		for i, e := range ev {
			h := x.draw(dBidChannel, e)
			k := hot + uniform(h, nxChannels)
			if uniform(x.draw(dBidChannelHot, e), uint64(o.HotChannelRatio)) > 0 {
				k = uniform(h, hot)
			}
			spans[i] = names.span(k)
		}
	case "bid.extra":
		for i, e := range ev {
			spans[i] = extra(x.draw(dBidExtra, e), 32, o.AvgBidBytes)
		}
	case "auction.item_name":
		for i, e := range ev {
			spans[i] = nxString(x.draw(dAucName, e), 20)
		}
	case "auction.description":
		for i, e := range ev {
			spans[i] = nxString(x.draw(dAucDesc, e), 100)
		}
	case "auction.extra":
		for i, e := range ev {
			size := 8 + nxString(x.draw(dAucName, e), 20).n + nxString(x.draw(dAucDesc, e), 100).n + 40
			spans[i] = extra(x.draw(dAucExtra, e), int64(size), o.AvgAuctionBytes)
		}
	case "person.city":
		src = nxCityText.all
		for i, e := range ev {
			spans[i] = x.personCity(e)
		}
	case "person.state":
		src = nxStateText.all
		for i, e := range ev {
			spans[i] = x.personState(e)
		}
	case "person.extra":
		for i, e := range ev {
			first, last := x.personName(e)
			user, host := x.personEmail(e)
			size := 8 + len(first) + 1 + len(last) + len(user) + 1 + len(host) + 4 + 19 + int(x.personCity(e).n) + int(x.personState(e).n)
			spans[i] = extra(x.draw(dPerExtra, e), int64(size), o.AvgPersonBytes)
		}
	default:
		return x.composed(mem, c, ev, sc)
	}
	total := 0
	for i, sp := range spans {
		if c.width > 0 && int(sp.n) > c.width {
			spans[i].n = int32(c.width)
		}
		total += int(spans[i].n)
	}
	if total > math.MaxInt32 {
		return nil, errTextTooLong()
	}
	s := newStrCol(mem, len(ev), total, 0)
	data, offs, pos := s.data, s.offs, 0
	for i, sp := range spans {
		pos += copy(data[pos:], src[sp.off:sp.off+sp.n])
		offs[i+1] = int32(pos)
	}
	s.pos = pos
	return s.finish()
}

// composed generates the person's text columns that are made of parts.
func (x *Nexmark) composed(mem memory.Allocator, c nxCol, ev []int64, sc *nxScratch) (arrow.Array, error) {
	s := newStrCol(mem, len(ev), len(ev)*20, c.width)
	buf := sc.buf[:0]
	switch c.name {
	case "name":
		for i, e := range ev {
			first, last := x.personName(e)
			buf = append(append(append(buf[:0], first...), ' '), last...)
			s.addBytes(i, buf)
		}
	case "email_address":
		for i, e := range ev {
			user, host := x.personEmail(e)
			buf = append(append(append(append(buf[:0], user...), '@'), host...), ".com"...)
			s.addBytes(i, buf)
		}
	case "credit_card":
		for i, e := range ev {
			buf = creditCard(buf[:0], x.draw(dPerCard, e))
			s.addBytes(i, buf)
		}
	default:
		s.finish()
		return nil, sqlerr.New(sqlerr.InternalError, "nexmark: no generator for column %s of table %s", c.name, x.opts.Table)
	}
	sc.buf = buf
	return s.finish()
}

func errTextTooLong() error {
	return sqlerr.New(sqlerr.ProgramLimitExceeded, "nexmark: a record's text column passed 2 GiB: read fewer rows at a time")
}

// newInt64s allocates a buffer of n int64s.
func newInt64s(mem memory.Allocator, n int) (*memory.Buffer, []int64) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * 8)
	return buf, arrow.Int64Traits.CastFromBytes(buf.Bytes())
}

// fixedArray makes an array without NULLs of a fixed-width type over buf,
// taking buf's reference.
func fixedArray(dt arrow.DataType, n int, buf *memory.Buffer) arrow.Array {
	data := array.NewData(dt, n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	buf.Release()
	defer data.Release()
	return array.MakeFromData(data)
}

// strCol builds a string array without NULLs directly in its buffers.
type strCol struct {
	offBuf, dataBuf *memory.Buffer
	offs            []int32
	data            []byte
	pos             int
	width           int // cut values to this many bytes (ASCII: characters); 0 none
	overflow        bool
}

func newStrCol(mem memory.Allocator, n, capBytes, width int) *strCol {
	s := &strCol{offBuf: memory.NewResizableBuffer(mem), dataBuf: memory.NewResizableBuffer(mem), width: width}
	s.offBuf.Resize((n + 1) * 4)
	s.offs = arrow.Int32Traits.CastFromBytes(s.offBuf.Bytes())
	s.offs[0] = 0
	s.dataBuf.Reserve(max(capBytes, 64))
	s.data = s.dataBuf.Buf()
	return s
}

func (s *strCol) addBytes(i int, v []byte) {
	if s.width > 0 && len(v) > s.width {
		v = v[:s.width]
	}
	if s.pos+len(v) > len(s.data) {
		s.grow(len(v))
	}
	s.pos += copy(s.data[s.pos:], v)
	if s.pos > math.MaxInt32 {
		s.overflow = true
	}
	s.offs[i+1] = int32(s.pos)
}

func (s *strCol) grow(need int) {
	s.dataBuf.ResizeNoShrink(s.pos)
	s.dataBuf.Reserve(max(2*len(s.data), s.pos+need))
	s.data = s.dataBuf.Buf()
}

// finish returns the array, taking the buffers' references.
func (s *strCol) finish() (arrow.Array, error) {
	defer s.offBuf.Release()
	defer s.dataBuf.Release()
	if s.overflow {
		return nil, errTextTooLong()
	}
	s.dataBuf.ResizeNoShrink(s.pos)
	n := len(s.offs) - 1
	data := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil, s.offBuf, s.dataBuf}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}

// ParseNexmarkOptions parses the WITH options of a nexmark source:
//
//	table                   'bid' (default), 'auction' or 'person'
//	seed                    integer (default 0)
//	events_per_second       integer >= 0 (default 0: unlimited)
//	max_events              integer > 0 (default: unbounded)
//	base_time               timestamp of event 0 (default '2026-01-01 00:00:00')
//	inter_event_delay       event time between events ('100us', '1 millisecond';
//	                        default 1s / events_per_second, or 100us)
//	person_proportion, auction_proportion, bid_proportion   (1, 3, 46)
//	num_active_people, num_in_flight_auctions               (1000, 100)
//	hot_auction_ratio, hot_bidder_ratio, hot_channel_ratio, hot_seller_ratio (2, 4, 2, 4)
//	avg_person_bytes, avg_auction_bytes, avg_bid_bytes      (200, 500, 100)
//
// Common source options (IsCommonOption) are skipped. An unknown key is a
// 42601 error naming it; a bad value is a 22023 error naming key and value.
func ParseNexmarkOptions(opts map[string]string) (NexmarkOptions, error) {
	var o NexmarkOptions
	positive := map[string]*int64{
		"max_events": &o.MaxEvents, "person_proportion": &o.PersonProportion,
		"auction_proportion": &o.AuctionProportion, "bid_proportion": &o.BidProportion,
		"num_active_people": &o.NumActivePeople, "num_in_flight_auctions": &o.NumInFlightAuctions,
		"hot_auction_ratio": &o.HotAuctionRatio, "hot_bidder_ratio": &o.HotBidderRatio,
		"hot_channel_ratio": &o.HotChannelRatio, "hot_seller_ratio": &o.HotSellerRatio,
		"avg_person_bytes": &o.AvgPersonBytes, "avg_auction_bytes": &o.AvgAuctionBytes,
		"avg_bid_bytes": &o.AvgBidBytes,
	}
	for _, key := range sortedKeys(opts) {
		val := opts[key]
		if IsCommonOption(key) {
			continue
		}
		lk := strings.ToLower(key)
		if p, ok := positive[lk]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n <= 0 {
				return NexmarkOptions{}, badValue(key, val, "a positive integer", err)
			}
			*p = n
			continue
		}
		switch lk {
		case "table":
			switch v := strings.ToLower(strings.TrimSpace(val)); v {
			case NexmarkBid, NexmarkAuction, NexmarkPerson:
				o.Table = v
			default:
				return NexmarkOptions{}, badValue(key, val, "'bid', 'auction' or 'person'", nil)
			}
		case "seed":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
				if uerr != nil {
					return NexmarkOptions{}, badValue(key, val, "an integer", err)
				}
				n = int64(u)
			}
			o.Seed = uint64(n)
		case "events_per_second":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 0 {
				return NexmarkOptions{}, badValue(key, val, "an integer >= 0", err)
			}
			o.EventsPerSecond = n
		case "base_time":
			v, err := sqltypes.ParseText(sqltypes.Timestamp, val)
			if err != nil {
				return NexmarkOptions{}, badValue(key, val, "a timestamp", err)
			}
			o.BaseTime = v.(time.Time).UTC()
		case "inter_event_delay":
			d, err := time.ParseDuration(strings.TrimSpace(val))
			if err != nil {
				d, err = parseDuration(val)
			}
			if err != nil || d <= 0 {
				if err == nil {
					err = errNotPositive
				}
				return NexmarkOptions{}, badValue(key, val, "a positive duration such as '100us'", err)
			}
			o.InterEventDelay = d
		default:
			return NexmarkOptions{}, unknownOption("nexmark", key)
		}
	}
	return o, o.Validate()
}
