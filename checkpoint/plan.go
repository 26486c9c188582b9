package checkpoint

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Plan is what batch Batch reads, fixed before it runs: per source
// partition the offsets [Start, End), the config-table versions it joins,
// and the watermark it starts from. A replay of the batch after a crash
// uses exactly this plan.
type Plan struct {
	Batch int64
	// Start and End map a source partition to an offset; the batch reads
	// [Start[p], End[p]) of every partition p. Both have the same
	// partitions, and 0 <= Start[p] <= End[p].
	Start, End map[int32]int64
	// Versions maps a config table's name to the version the batch reads.
	Versions map[string]uint64
	// Watermark is in microseconds since the Unix epoch; it is meaningful
	// only when HasWatermark is set.
	Watermark    int64
	HasWatermark bool
	// PlannedAt is when the batch was first planned. It is informational:
	// a re-plan of the same batch keeps the first one's time.
	PlannedAt time.Time
}

// Clone returns a deep copy of p.
func (p Plan) Clone() Plan {
	p.Start = maps.Clone(p.Start)
	p.End = maps.Clone(p.End)
	p.Versions = maps.Clone(p.Versions)
	return p
}

// SameAs reports whether p and q describe the same batch reading the same
// data: equal batch, offsets, versions and watermark. PlannedAt is not
// compared, and a nil map equals an empty one.
func (p Plan) SameAs(q Plan) bool {
	return p.Batch == q.Batch &&
		maps.Equal(p.Start, q.Start) &&
		maps.Equal(p.End, q.End) &&
		maps.Equal(p.Versions, q.Versions) &&
		p.HasWatermark == q.HasWatermark &&
		(!p.HasWatermark || p.Watermark == q.Watermark)
}

// String prints p on one line, partitions and tables in order, as
// "batch 3 [{0:10 1:4}, {0:20 1:9}) versions {rules:2} watermark 1700000000000000".
func (p Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "batch %d [%s, %s) versions {", p.Batch, offsetsString(p.Start), offsetsString(p.End))
	for i, t := range slices.Sorted(maps.Keys(p.Versions)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", t, p.Versions[t])
	}
	b.WriteByte('}')
	if p.HasWatermark {
		fmt.Fprintf(&b, " watermark %d", p.Watermark)
	}
	return b.String()
}

func offsetsString(o map[int32]int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, part := range slices.Sorted(maps.Keys(o)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", part, o[part])
	}
	b.WriteByte('}')
	return b.String()
}

// validate checks what a plan must satisfy on its own.
func (p Plan) validate() error {
	if p.Batch < 0 {
		return fmt.Errorf("batch %d is negative", p.Batch)
	}
	if len(p.Start) != len(p.End) {
		return fmt.Errorf("batch %d: start offsets have %d partitions, end offsets %d", p.Batch, len(p.Start), len(p.End))
	}
	for part, end := range p.End {
		start, ok := p.Start[part]
		if !ok {
			return fmt.Errorf("batch %d: partition %d has an end offset but no start offset", p.Batch, part)
		}
		if start < 0 || start > end {
			return fmt.Errorf("batch %d: partition %d has offsets [%d, %d)", p.Batch, part, start, end)
		}
	}
	for t := range p.Versions {
		if t == "" {
			return fmt.Errorf("batch %d: a config table with an empty name", p.Batch)
		}
	}
	return nil
}

// planRecord is a plan as the offsets log stores it.
type planRecord struct {
	Batch     int64             `json:"batch"`
	Start     map[int32]int64   `json:"start"`
	End       map[int32]int64   `json:"end"`
	Versions  map[string]uint64 `json:"versions,omitempty"`
	Watermark *int64            `json:"watermark,omitempty"`
	PlannedAt int64             `json:"planned_at_unix_nano"`
}

func encodePlan(p Plan) ([]byte, error) {
	r := planRecord{Batch: p.Batch, Start: p.Start, End: p.End, Versions: p.Versions, PlannedAt: p.PlannedAt.UnixNano()}
	if r.Start == nil {
		r.Start = map[int32]int64{}
	}
	if r.End == nil {
		r.End = map[int32]int64{}
	}
	if p.HasWatermark {
		w := p.Watermark
		r.Watermark = &w
	}
	return json.Marshal(r)
}

func decodePlan(body []byte) (Plan, error) {
	var r planRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return Plan{}, err
	}
	p := Plan{Batch: r.Batch, Start: r.Start, End: r.End, Versions: r.Versions, PlannedAt: time.Unix(0, r.PlannedAt).UTC()}
	if p.Start == nil {
		p.Start = map[int32]int64{}
	}
	if p.End == nil {
		p.End = map[int32]int64{}
	}
	if r.Watermark != nil {
		p.Watermark, p.HasWatermark = *r.Watermark, true
	}
	return p, p.validate()
}

// commitRecord is an entry of the commit log.
type commitRecord struct {
	Batch       int64 `json:"batch"`
	CommittedAt int64 `json:"committed_at_unix_nano"`
}

func encodeCommit(c commitRecord) ([]byte, error) { return json.Marshal(c) }

func decodeCommit(body []byte) (commitRecord, error) {
	var c commitRecord
	if err := json.Unmarshal(body, &c); err != nil {
		return c, err
	}
	if c.Batch < 0 {
		return c, fmt.Errorf("batch %d is negative", c.Batch)
	}
	return c, nil
}
