// Package planner turns SQL text into plans: a parsing front, a binder
// that resolves names and types against the catalog, and the plan nodes
// (package plan) that the executor builds operators from.
//
// # The front: SQL text to statements
//
// Sluice speaks PostgreSQL on the wire but parses with the TiDB parser
// (a MySQL grammar) in SQL mode ANSI_QUOTES | PIPES_AS_CONCAT |
// NO_BACKSLASH_ESCAPES. The front stands between the two. A session owns
// one *Parser (the TiDB parser inside is not goroutine-safe) and calls
// Parse for each query string:
//
//  1. lex (prelex.go) cuts the whole text into PostgreSQL tokens, each
//     with its byte span in the original: words folded to lower case,
//     "quoted" names, strings in every form ('..', E'..', $$..$$) with
//     their values decoded, $n parameters, numbers, operators by
//     PostgreSQL's rules. Comments become spaces. What PostgreSQL
//     rejects, or what Sluice cannot carry over faithfully (# and ^,
//     a bare ?, backquotes, bit strings, arrays), fails here with a
//     position.
//  2. split (front.go) cuts the tokens at each top-level ';'. A ';' in a
//     string, name, comment or dollar quote is inside a token, so it
//     never splits. Statements with no tokens are dropped.
//  3. Each statement whose first word names a statement the front
//     handles itself (frontStatement in sluice_stmt.go: SET, RESET,
//     SHOW, DESCRIBE, BEGIN/COMMIT/ROLLBACK and their synonyms, EXPLAIN,
//     and the streaming statements of stream_stmt.go) is parsed from its
//     tokens into a SluiceStmt. Adding a statement is one case in
//     frontStatement and one function over a cursor; a function may hand
//     the rest of its statement to TiDB with Parser.parseStmt(cursor.rest()).
//  4. Every other statement is rewritten (prelex_rewrite.go) into text
//     the TiDB parser reads the way PostgreSQL reads the original, and
//     parsed by TiDB (parse.go). The rewrite keeps a map from each byte
//     of its output back to the original, so a TiDB syntax error
//     ("near ...") becomes PostgreSQL's "syntax error at or near X" at
//     the 1-based character position in the original text.
//
// The streaming statements (stream_stmt.go) are CREATE SOURCE, CREATE
// [OR REPLACE] STREAM, ALTER STREAM ... SET, PAUSE and RESUME STREAM,
// DROP STREAM and DROP SOURCE, SHOW STREAMS and SHOW SOURCES, and
// SUBSCRIBE (also as COPY (SUBSCRIBE name) TO STDOUT). The front reads
// only their shape: names folded like any identifier, column types
// resolved with sqltypes.ParseName (an unknown one is 42704), and WITH
// (...) / SET (...) option lists as Options of text keys and values,
// each with the character position of its key so that the binder, which
// decides what an option means and whether its value is valid, can
// point at it; a key given twice is 42710. The query after CREATE
// STREAM ... AS is handed to parseStmt like EXPLAIN's inner statement,
// so it goes through the same rewrite as any SELECT and must come back
// as a TiDB SELECT or set operation. The same first words in other
// statements (CREATE TABLE, DROP TABLE, ALTER TABLE, COPY t) still go
// to TiDB: the parse function returns nil for them.
//
// The rewrite conventions the binder relies on:
//
//	$n                    ?  (a *test_driver.ParamMarkerExpr; Parsed.ParamOrder[Order] = n-1)
//	x::type, CAST(x AS type), type 'lit'
//	                      sluice_cast(x, 'type')  (FuncCallExpr, Args[1] a string ValueExpr:
//	                      the type as written, lowercased and normalised: 'int8',
//	                      'varchar(10)', 'double precision', 'timestamp without time zone')
//	INTERVAL '1 minute', INTERVAL '5' SECOND, INTERVAL 5 SECOND
//	                      sluice_interval('5 second')  (FuncCallExpr, one string ValueExpr)
//	a ~ b, a !~ b         PatternRegexpExpr{Expr: a, Pattern: b, Not}
//	a ~* b, a !~* b       the same with Pattern concat('(?i)', b)
//	a IS NOT DISTINCT FROM b   a <=> b (BinaryOperationExpr, opcode.NullEQ)
//	a IS DISTINCT FROM b       (a <=> b) IS FALSE (IsTruthExpr, True 0)
//	a ISNULL, a NOTNULL        a IS NULL, a IS NOT NULL
//	E'..', $$..$$, N'..'  a plain string ValueExpr
//	long numbers          sluice_cast('digits', 'numeric') past TiDB's decimal size
//	a || b * 2            concat(a, (b * 2)): arithmetic next to || is
//	                      parenthesised, as PostgreSQL binds it tighter
//	CREATE TABLE column types   real/float4 -> FLOAT, float/float8/double
//	                      precision -> DOUBLE, varchar -> TEXT, timestamp
//	                      without time zone -> TIMESTAMP
//	t AS OF VERSION n [[AS] r], t [AS] r AS OF VERSION n
//	                      t AS r AS OF TIMESTAMP sluice_version(n) (TableName.AsOf,
//	                      TsExpr a FuncCallExpr of one integer ValueExpr or marker):
//	                      the alias may come after the clause (as in the SQL
//	                      standard's FOR SYSTEM_TIME AS OF) or before it (as in
//	                      TiDB and CockroachDB); the binder makes it plan.Scan.Version
//	                      (or VersionParam), refused in a stream's query and as a
//	                      DML target
//
// Where PostgreSQL and MySQL would read the same tokens differently and
// the rewrite cannot say it the MySQL way (operators of PostgreSQL's ||
// level mixed without parentheses, a comparison before ~, MySQL's
// LIMIT a, b, 'a' AS 'b'), the front fails with a position rather than
// guess.
//
// # The binder and the plan
//
// Bind (bind.go) resolves a Parsed statement against the catalog into a
// plan.Statement: one type switch over the statement kinds, with
// expressions (bind_expr.go, bind_func.go), FROM clauses (bind_from.go),
// queries (bind_select.go) and DML and DDL (bind_dml.go) beside it. Plan
// nodes are plain data that print stably; EXPLAIN prints them.
package planner
