package planner

import (
	"fmt"
	"strings"
	"testing"
)

// describe prints the significant tokens of sql as kind:text or
// kind=value.
func describe(t *testing.T, sql string) string {
	t.Helper()
	toks, err := lex(sql)
	if err != nil {
		t.Fatalf("lex(%q): %v", sql, err)
	}
	names := map[tokKind]string{tkWord: "word", tkQIdent: "name", tkString: "str", tkNumber: "num", tkParam: "param", tkOp: "op", tkPunct: "punct"}
	var parts []string
	for _, tok := range toks {
		switch tok.kind {
		case tkSpace:
		case tkQIdent, tkString:
			parts = append(parts, fmt.Sprintf("%s=%q", names[tok.kind], tok.val))
		case tkParam:
			parts = append(parts, fmt.Sprintf("param=%d", tok.n))
		default:
			parts = append(parts, names[tok.kind]+":"+tok.text)
		}
		if got := sql[tok.pos:tok.end]; tok.kind == tkWord && !strings.EqualFold(got, tok.text) {
			t.Errorf("word %q spans %q", tok.text, got)
		}
	}
	return strings.Join(parts, " ")
}

func TestLexCutsTokensAsPostgres(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string
	}{
		{"words fold to lower case and may hold digits and dollars", "Ab_1 x$y", "word:ab_1 word:x$y"},
		{"quoted names keep case and undouble quotes", `"A""b"`, `name="A\"b"`},
		{"strings in every form", `'a''b' E'\n' e'\'' N'n' $$d$$ $t$e$t$`, `str="a'b" str="\n" str="'" str="n" str="d" str="e"`},
		{"numbers", "1 1.5 .5 1. 1e3 1.5E-3", "num:1 num:1.5 num:.5 num:1. num:1e3 num:1.5E-3"},
		{"parameters", "$1 $23", "param=1 param=23"},
		{"a minus after = is its own operator", "a=-1", "word:a op:= op:- num:1"},
		{"a minus after * is its own operator", "a*-1", "word:a op:* op:- num:1"},
		{"a comment start ends an operator", "a+--c\n1", "word:a op:+ num:1"},
		{"two-character operators", "<= >= <> != || << >> ::", "op:<= op:>= op:<> op:!= op:|| op:<< op:>> op:::"},
		{"regex operators", "~ !~ ~* !~*", "op:~ op:!~ op:~* op:!~*"},
		{"punctuation", "( ) , ; . :", "punct:( punct:) punct:, punct:; punct:. punct::"},
		{"comments are spaces", "a/* x /* y */ z */b -- c", "word:a word:b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(t, tt.sql); got != tt.want {
				t.Errorf("lex(%q):\n got %s\nwant %s", tt.sql, got, tt.want)
			}
		})
	}
}

func TestLexRejectsOperatorsWithoutAFaithfulReading(t *testing.T) {
	for _, op := range []string{"#", "^", "?", "&&", "<=>", "@", "!", "->>", "#>", ":=", "!~-"} {
		t.Run("operator "+op, func(t *testing.T) {
			if _, err := lex("SELECT a " + op + " b"); err == nil {
				t.Errorf("lex accepted %s", op)
			}
		})
	}
}
