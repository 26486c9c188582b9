package planner

import (
	"strings"
	"testing"
)

func BenchmarkParseLargeInsert(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("INSERT INTO t VALUES ")
	for i := 0; i < 10000; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("($1::int8, 'a' || x * 2, E'x\\n', INTERVAL '1 minute', a ~* 'x', CAST(b AS text))")
	}
	sql := sb.String()
	p := NewParser()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
}
