package planner

import (
	"strings"
)

// SluiceStmt is a statement the front parses itself instead of handing
// it to TiDB: Sluice's own statements and the PostgreSQL utility
// statements the MySQL grammar reads differently.
type SluiceStmt interface{ sluiceStmt() }

// SetStmt sets a session setting: SET [SESSION|LOCAL] name {=|TO} value,
// SET TIME ZONE, SET NAMES, SET SCHEMA, SET TRANSACTION ..., and RESET.
type SetStmt struct {
	// Name is the setting, lowercased: "timezone" for SET TIME ZONE,
	// "client_encoding" for SET NAMES, "search_path" for SET SCHEMA,
	// "all" for RESET ALL.
	Name string
	// Value is the value as text: a string unquoted, a number or a word
	// as written (words lowercased), a list joined with ", ".
	Value string
	// Default is set for RESET and for SET ... TO DEFAULT (Value is "").
	Default bool
	// Local is set for SET LOCAL and SET TRANSACTION: the setting lasts
	// until the end of the transaction.
	Local bool
}

// ShowStmt shows a session setting.
type ShowStmt struct {
	// Name is the setting, lowercased; "all" for SHOW ALL, "timezone" for
	// SHOW TIME ZONE, "transaction_isolation" for SHOW TRANSACTION
	// ISOLATION LEVEL.
	Name string
}

// ShowTablesStmt is SHOW TABLES.
type ShowTablesStmt struct{}

// DescribeStmt is DESCRIBE t or DESC t.
type DescribeStmt struct {
	Table string
	// Schema is the qualifier of schema.table, "" when there is none.
	Schema string
}

// TxnStmt begins, commits or rolls back a transaction.
type TxnStmt struct {
	// Kind is "begin" (BEGIN, START TRANSACTION), "commit" (COMMIT, END)
	// or "rollback" (ROLLBACK, ABORT).
	Kind string
	// Isolation is the ISOLATION LEVEL a BEGIN asks for, lowercased
	// ("read committed", "serializable", ...), "" when none.
	Isolation string
	// ReadOnly is set by BEGIN ... READ ONLY.
	ReadOnly bool
}

// ExplainStmt is EXPLAIN of an inner statement.
type ExplainStmt struct {
	Inner Parsed
}

func (*SetStmt) sluiceStmt()        {}
func (*ShowStmt) sluiceStmt()       {}
func (*ShowTablesStmt) sluiceStmt() {}
func (*DescribeStmt) sluiceStmt()   {}
func (*TxnStmt) sluiceStmt()        {}
func (*ExplainStmt) sluiceStmt()    {}

var (
	_ SluiceStmt = (*SetStmt)(nil)
	_ SluiceStmt = (*ShowStmt)(nil)
	_ SluiceStmt = (*ShowTablesStmt)(nil)
	_ SluiceStmt = (*DescribeStmt)(nil)
	_ SluiceStmt = (*TxnStmt)(nil)
	_ SluiceStmt = (*ExplainStmt)(nil)
)

// frontParseFunc parses a statement the cursor is at the start of. It
// returns nil, nil when the statement is not the front's after all (so
// CREATE TABLE can go to TiDB while CREATE SOURCE stays here).
type frontParseFunc func(p *Parser, c *cursor) (SluiceStmt, error)

// frontStatement returns the parser for statements that start with the
// (lowercased) word, nil when TiDB parses them. Adding a statement is
// one case here and one function.
func frontStatement(word string) frontParseFunc {
	switch word {
	case "set":
		return parseSet
	case "reset":
		return parseReset
	case "show":
		return parseShow
	case "describe", "desc":
		return parseDescribe
	case "begin", "start":
		return parseBegin
	case "commit", "end", "rollback", "abort":
		return parseCommit
	case "savepoint", "release":
		return parseSavepoint
	case "explain":
		return parseExplain
	case "create":
		return parseCreate
	case "alter":
		return parseAlter
	case "drop":
		return parseDrop
	case "pause", "resume":
		return parseStreamControl
	case "subscribe":
		return parseSubscribe
	case "copy":
		return parseCopy
	}
	return nil
}

// parseSet parses SET in PostgreSQL's forms.
func parseSet(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // SET
	s := &SetStmt{}
	switch {
	case c.isWord("session", "authorization"), c.isWord("role") && !c.followedByAssign(1):
		return nil, c.st.featureErr(c.peek(), "SET ROLE and SET SESSION AUTHORIZATION are not supported")
	case c.accept("session", "characteristics"):
		if err := c.expect("as", "transaction"); err != nil {
			return nil, err
		}
		return s, setTransaction(c, s, "default_transaction_")
	}
	if c.accept("local") {
		s.Local = true
	} else {
		c.accept("session")
	}
	switch {
	case c.accept("time", "zone"):
		s.Name = "timezone"
		if err := setTimeZoneValue(c, s); err != nil {
			return nil, err
		}
		return s, c.end()
	case c.isWord("names") && !c.followedByAssign(1):
		c.next()
		s.Name = "client_encoding"
		return s, setOneValue(c, s)
	case c.isWord("schema") && !c.followedByAssign(1):
		c.next()
		s.Name = "search_path"
		return s, setOneValue(c, s)
	case c.isWord("transaction") && !c.followedByAssign(1):
		c.next()
		s.Local = true
		return s, setTransaction(c, s, "transaction_")
	}
	name, err := settingName(c)
	if err != nil {
		return nil, err
	}
	s.Name = name
	if t := c.peek(); t != nil && (t.is("=") || t.is("to")) {
		c.next()
	} else {
		return nil, c.st.errAt(t)
	}
	if c.accept("default") {
		s.Default = true
		return s, c.end()
	}
	vals, err := setValues(c)
	if err != nil {
		return nil, err
	}
	s.Value = strings.Join(vals, ", ")
	return s, nil
}

// followedByAssign reports whether the k-th token from the cursor is =
// or TO: SET names = 'x' sets a setting called "names".
func (c *cursor) followedByAssign(k int) bool {
	t := c.peekN(k)
	return t != nil && (t.is("=") || t.is("to"))
}

// settingName parses a setting name: a word or "quoted" name, possibly
// dotted (my.setting), lowercased.
func settingName(c *cursor) (string, error) {
	var parts []string
	for {
		n, err := c.name()
		if err != nil {
			return "", err
		}
		parts = append(parts, strings.ToLower(n))
		if t := c.peek(); t == nil || !t.is(".") {
			break
		}
		c.next()
	}
	return strings.Join(parts, "."), nil
}

// setValues parses a comma-separated list of SET values to the end of
// the statement.
func setValues(c *cursor) ([]string, error) {
	var vals []string
	for {
		v, err := setValue(c)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := c.peek()
		if t == nil {
			return vals, nil
		}
		if !t.is(",") {
			return nil, c.st.errAt(t)
		}
		c.next()
	}
}

// setOneValue parses the single value of SET NAMES and SET SCHEMA.
func setOneValue(c *cursor, s *SetStmt) error {
	if c.accept("default") {
		s.Default = true
		return c.end()
	}
	v, err := setValue(c)
	if err != nil {
		return err
	}
	s.Value = v
	return c.end()
}

// setValue parses one SET value: a string, a word, a "quoted" word or a
// signed number.
func setValue(c *cursor) (string, error) {
	t := c.next()
	switch {
	case t == nil:
		return "", c.st.endErr()
	case t.kind == tkString:
		return t.val, nil
	case t.kind == tkWord, t.kind == tkNumber:
		return t.text, nil
	case t.kind == tkQIdent:
		return t.val, nil
	case t.is("-") || t.is("+"):
		n := c.peek()
		if n == nil || n.kind != tkNumber {
			return "", c.st.errAt(n)
		}
		c.next()
		if t.text == "-" {
			return "-" + n.text, nil
		}
		return n.text, nil
	}
	return "", c.st.errAt(t)
}

// setTimeZoneValue parses the value of SET TIME ZONE.
func setTimeZoneValue(c *cursor, s *SetStmt) error {
	if c.accept("local") || c.accept("default") {
		s.Default = true
		return nil
	}
	if c.isWord("interval") {
		return c.st.featureErr(c.peek(), "SET TIME ZONE INTERVAL is not supported")
	}
	v, err := setValue(c)
	if err != nil {
		return err
	}
	s.Value = v
	return nil
}

// setTransaction parses the one mode of SET TRANSACTION (prefix
// "transaction_") or SET SESSION CHARACTERISTICS AS TRANSACTION (prefix
// "default_transaction_").
func setTransaction(c *cursor, s *SetStmt, prefix string) error {
	iso, readOnly, n, err := transactionModes(c)
	if err != nil {
		return err
	}
	if n != 1 {
		if n == 0 {
			return c.errNext()
		}
		return c.st.featureErr(nil, "setting several transaction modes in one statement is not supported")
	}
	if iso != "" {
		s.Name, s.Value = prefix+"isolation", iso
		return nil
	}
	s.Name, s.Value = prefix+"read_only", "off"
	if readOnly {
		s.Value = "on"
	}
	return nil
}

// transactionModes parses PostgreSQL's transaction modes to the end of
// the statement: ISOLATION LEVEL ..., READ ONLY | READ WRITE,
// [NOT] DEFERRABLE, optionally separated by commas. n counts the modes
// that set something.
func transactionModes(c *cursor) (iso string, readOnly bool, n int, err error) {
	for c.peek() != nil {
		if n > 0 {
			if t := c.peek(); t.is(",") {
				c.next()
			}
		}
		switch {
		case c.accept("isolation"):
			if err := c.expect("level"); err != nil {
				return "", false, 0, err
			}
			switch {
			case c.accept("serializable"):
				iso = "serializable"
			case c.accept("repeatable"):
				if err := c.expect("read"); err != nil {
					return "", false, 0, err
				}
				iso = "repeatable read"
			case c.accept("read"):
				switch {
				case c.accept("committed"):
					iso = "read committed"
				case c.accept("uncommitted"):
					iso = "read uncommitted"
				default:
					return "", false, 0, c.errNext()
				}
			default:
				return "", false, 0, c.errNext()
			}
			n++
		case c.accept("read"):
			switch {
			case c.accept("only"):
				readOnly = true
			case c.accept("write"):
				readOnly = false
			default:
				return "", false, 0, c.errNext()
			}
			n++
		case c.accept("deferrable"), c.accept("not", "deferrable"):
			// No effect outside SERIALIZABLE READ ONLY; accepted as
			// PostgreSQL accepts it.
		default:
			return "", false, 0, c.errNext()
		}
	}
	return iso, readOnly, n, nil
}

// parseReset parses RESET name, RESET ALL and RESET TIME ZONE.
func parseReset(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // RESET
	s := &SetStmt{Default: true}
	switch {
	case c.accept("time", "zone"):
		s.Name = "timezone"
	case c.isWord("session", "authorization"), c.isWord("role") && c.peekN(1) == nil:
		return nil, c.st.featureErr(c.peek(), "RESET ROLE and RESET SESSION AUTHORIZATION are not supported")
	default:
		name, err := settingName(c)
		if err != nil {
			return nil, err
		}
		s.Name = name
	}
	return s, c.end()
}

// parseShow parses SHOW name, SHOW ALL, SHOW TIME ZONE, SHOW TRANSACTION
// ISOLATION LEVEL, SHOW TABLES, SHOW STREAMS and SHOW SOURCES.
func parseShow(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // SHOW
	var s SluiceStmt
	switch {
	case c.accept("tables"):
		s = &ShowTablesStmt{}
	case c.accept("streams"):
		s = &ShowStreamsStmt{}
	case c.accept("sources"):
		s = &ShowSourcesStmt{}
	case c.accept("time", "zone"):
		s = &ShowStmt{Name: "timezone"}
	case c.accept("transaction", "isolation", "level"):
		s = &ShowStmt{Name: "transaction_isolation"}
	case c.accept("session", "authorization"):
		s = &ShowStmt{Name: "session_authorization"}
	default:
		name, err := settingName(c)
		if err != nil {
			return nil, err
		}
		s = &ShowStmt{Name: name}
	}
	return s, c.end()
}

// parseDescribe parses DESCRIBE t and DESC t.
func parseDescribe(_ *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // DESCRIBE
	name, err := c.name()
	if err != nil {
		return nil, err
	}
	s := &DescribeStmt{Table: name}
	if t := c.peek(); t != nil && t.is(".") {
		c.next()
		if s.Table, err = c.name(); err != nil {
			return nil, err
		}
		s.Schema = name
	}
	return s, c.end()
}

// parseBegin parses BEGIN [WORK|TRANSACTION] [modes] and START
// TRANSACTION [modes].
func parseBegin(_ *Parser, c *cursor) (SluiceStmt, error) {
	if c.next().text == "start" {
		if err := c.expect("transaction"); err != nil {
			return nil, err
		}
	} else if !c.accept("work") {
		c.accept("transaction")
	}
	iso, readOnly, _, err := transactionModes(c)
	if err != nil {
		return nil, err
	}
	return &TxnStmt{Kind: "begin", Isolation: iso, ReadOnly: readOnly}, nil
}

// parseCommit parses COMMIT, END, ROLLBACK and ABORT, each with an
// optional WORK or TRANSACTION and AND NO CHAIN.
func parseCommit(_ *Parser, c *cursor) (SluiceStmt, error) {
	first := c.next()
	s := &TxnStmt{Kind: "commit"}
	if first.text == "rollback" || first.text == "abort" {
		s.Kind = "rollback"
	}
	if first.text == "rollback" && c.isWord("to") {
		return nil, c.st.featureErr(c.peek(), "savepoints are not supported")
	}
	if c.isWord("prepared") && first.text != "end" && first.text != "abort" {
		return nil, c.st.featureErr(c.peek(), "prepared transactions are not supported")
	}
	if !c.accept("work") {
		c.accept("transaction")
	}
	if c.isWord("and", "chain") {
		return nil, c.st.featureErr(c.peekN(1), "AND CHAIN is not supported")
	}
	c.accept("and", "no", "chain")
	return s, c.end()
}

// parseSavepoint rejects SAVEPOINT and RELEASE [SAVEPOINT].
func parseSavepoint(_ *Parser, c *cursor) (SluiceStmt, error) {
	return nil, c.st.featureErr(c.peek(), "savepoints are not supported")
}

// parseExplain parses EXPLAIN stmt; the inner statement is parsed as if
// it stood alone.
func parseExplain(p *Parser, c *cursor) (SluiceStmt, error) {
	c.next() // EXPLAIN
	t := c.peek()
	switch {
	case t == nil:
		return nil, c.st.endErr()
	case t.is("("), t.kind == tkWord && (t.text == "analyze" || t.text == "analyse" || t.text == "verbose"):
		return nil, c.st.featureErr(t, "EXPLAIN options are not supported")
	}
	inner, err := p.parseStmt(c.rest())
	if err != nil {
		return nil, err
	}
	if _, nested := inner.Stmt.(*ExplainStmt); nested {
		return nil, c.st.errAt(t)
	}
	return &ExplainStmt{Inner: inner}, nil
}
