package catalog

import (
	"hash/maphash"
	"maps"
)

// keyIndex maps encoded primary keys to row locations. It is immutable
// once built and shared between versions: a write copies only the shards it
// touches (copy-on-write), so a single-row UPDATE on a 100k-row table
// copies a few hundred map entries, not the whole index.
//
// A location packs a chunk id and a row within that chunk (see loc). Chunk
// ids, not positions, keep locations stable when other chunks change size.
type keyIndex struct {
	seed   maphash.Seed
	shards []map[string]uint64 // len is a power of two
	n      int
}

// Shard sizing: a shard holds about targetShard keys after a resize and is
// split when the average passes maxShard.
const (
	targetShard = 128
	maxShard    = 512
)

// Locations: chunk id in the high bits, row within the chunk in the low
// locRowBits bits, which bounds the chunk size.
const (
	locRowBits = 20
	maxChunk   = 1 << locRowBits
)

func loc(chunkID uint64, row int) uint64 { return chunkID<<locRowBits | uint64(row) }

func locParts(l uint64) (chunkID uint64, row int) {
	return l >> locRowBits, int(l & (maxChunk - 1))
}

func newKeyIndex(seed maphash.Seed, sizeHint int) *keyIndex {
	n := 1
	for n*targetShard < sizeHint {
		n *= 2
	}
	x := &keyIndex{seed: seed, shards: make([]map[string]uint64, n)}
	for i := range x.shards {
		x.shards[i] = make(map[string]uint64)
	}
	return x
}

func (x *keyIndex) shard(key string) int {
	return int(maphash.String(x.seed, key) & uint64(len(x.shards)-1))
}

func (x *keyIndex) get(key string) (uint64, bool) {
	l, ok := x.shards[x.shard(key)][key]
	return l, ok
}

// indexEditor builds the next version of an index. Shards are copied on
// their first change; the base index is never modified.
type indexEditor struct {
	x     *keyIndex // the index being built; shares untouched shards with base
	owned []bool
}

func (x *keyIndex) edit() *indexEditor {
	next := &keyIndex{seed: x.seed, shards: make([]map[string]uint64, len(x.shards)), n: x.n}
	copy(next.shards, x.shards)
	return &indexEditor{x: next, owned: make([]bool, len(x.shards))}
}

func (e *indexEditor) own(key string) map[string]uint64 {
	i := e.x.shard(key)
	if !e.owned[i] {
		e.x.shards[i] = maps.Clone(e.x.shards[i])
		e.owned[i] = true
	}
	return e.x.shards[i]
}

func (e *indexEditor) del(key string) {
	m := e.own(key)
	if _, ok := m[key]; ok {
		delete(m, key)
		e.x.n--
	}
}

func (e *indexEditor) set(key string, l uint64) {
	m := e.own(key)
	if _, ok := m[key]; !ok {
		e.x.n++
	}
	m[key] = l
}

// finish returns the new index, resharded when shards grew too large.
func (e *indexEditor) finish() *keyIndex {
	x := e.x
	if x.n <= len(x.shards)*maxShard {
		return x
	}
	y := newKeyIndex(x.seed, x.n)
	for _, m := range x.shards {
		for k, l := range m {
			y.shards[y.shard(k)][k] = l
		}
	}
	y.n = x.n
	return y
}
