package server

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/sluice-sql/sluice/catalog"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
	"github.com/sluice-sql/sluice/exec"
	"github.com/sluice-sql/sluice/exec/stream"
	"github.com/sluice-sql/sluice/planner"
	"github.com/sluice-sql/sluice/planner/plan"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// backend implements pgwire.Backend over the server's catalog.
type backend struct {
	srv *Server
}

var _ pgwire.Backend = (*backend)(nil)

// Connect implements pgwire.Backend.
func (b *backend) Connect(_ context.Context, params map[string]string) (pgwire.Session, error) {
	s := &session{srv: b.srv, parser: planner.NewParser(), settings: defaultSettings()}
	if app, ok := params["application_name"]; ok {
		s.settings["application_name"] = app
	}
	for k, v := range params {
		if k == "options" || k == "user" || k == "database" || k == "replication" {
			continue
		}
		if _, known := s.settings[strings.ToLower(k)]; known {
			s.settings[strings.ToLower(k)] = v
		}
	}
	return s, nil
}

// catalogView adapts the catalog and the stream manager to
// planner.Catalog.
type catalogView struct {
	cat     *catalog.Catalog
	streams *stream.Manager
}

func (v catalogView) TableDef(name string) (catalog.TableDef, error) {
	t, err := v.cat.Table(name)
	if err != nil {
		return catalog.TableDef{}, err
	}
	return t.Def(), nil
}

func (v catalogView) TableNames() []string { return v.cat.TableNames() }

// Transaction states as ReadyForQuery reports them.
const (
	txIdle   = 'I'
	txBlock  = 'T'
	txFailed = 'E'
)

// session is one client's session: its parser (not goroutine-safe, so one
// per session), settings and transaction state.
type session struct {
	srv      *Server
	parser   *planner.Parser
	settings map[string]string
	tx       byte
}

var _ pgwire.Session = (*session)(nil)

func defaultSettings() map[string]string {
	return map[string]string{
		"server_version":                      planner.ServerVersion,
		"server_version_num":                  "150000",
		"server_encoding":                     "UTF8",
		"client_encoding":                     "UTF8",
		"datestyle":                           "ISO, MDY",
		"intervalstyle":                       "postgres",
		"timezone":                            "UTC",
		"standard_conforming_strings":         "on",
		"integer_datetimes":                   "on",
		"application_name":                    "",
		"search_path":                         "public",
		"transaction_isolation":               "serializable",
		"default_transaction_isolation":       "serializable",
		"extra_float_digits":                  "1",
		"statement_timeout":                   "0",
		"lock_timeout":                        "0",
		"idle_in_transaction_session_timeout": "0",
		"client_min_messages":                 "notice",
		"bytea_output":                        "hex",
		"max_identifier_length":               "63",
		"is_superuser":                        "off",
	}
}

// readOnlySettings may be shown but not changed.
var readOnlySettings = map[string]bool{
	"server_version": true, "server_version_num": true, "server_encoding": true,
	"integer_datetimes": true, "max_identifier_length": true, "is_superuser": true,
}

// TxStatus reports the transaction status for ReadyForQuery.
func (s *session) TxStatus() byte {
	if s.tx == 0 {
		return txIdle
	}
	return s.tx
}

// Close implements pgwire.Session.
func (s *session) Close() error { return nil }

// Prepare implements pgwire.Session. A lone statement is bound at once, so
// errors such as an unknown table surface at Parse as in PostgreSQL; the
// statements of a multi-statement string are bound when each runs, since
// an earlier one may create what a later one reads.
func (s *session) Prepare(_ context.Context, sql string, paramTypes []sqltypes.Type) ([]pgwire.Statement, error) {
	if s.tx == txFailed {
		// Parse errors are reported as such; everything else waits for
		// the transaction to end (see Execute).
		if _, err := s.parser.Parse(sql); err != nil {
			return nil, err
		}
	}
	parsed, err := s.parser.Parse(sql)
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]pgwire.Statement, len(parsed))
	for i, p := range parsed {
		st := &statement{s: s, parsed: p, declared: paramTypes}
		if len(parsed) == 1 {
			if err := st.bind(); err != nil && s.tx != txFailed {
				return nil, s.fail(err)
			}
		}
		out[i] = st
	}
	return out, nil
}

func (s *session) setting(name string) (string, bool) {
	v, ok := s.settings[strings.ToLower(name)]
	return v, ok
}

// statement is one prepared statement of a session.
type statement struct {
	s        *session
	parsed   planner.Parsed
	declared []sqltypes.Type
	bound    *planner.Bound
}

var _ pgwire.Statement = (*statement)(nil)

func (st *statement) bind() error {
	declared := st.declared
	if st.bound != nil {
		declared = st.bound.ParamTypes
	}
	b, err := planner.Bind(planner.BindEnv{
		Catalog:    st.s.srv.catalogView(),
		Now:        time.Now(),
		Setting:    st.s.setting,
		ParamTypes: declared,
	}, st.parsed)
	if err != nil {
		return err
	}
	st.bound = b
	return nil
}

// ParamTypes implements pgwire.Statement.
func (st *statement) ParamTypes() []sqltypes.Type {
	if st.bound == nil {
		if err := st.bind(); err != nil {
			return st.declared
		}
	}
	return st.bound.ParamTypes
}

// Fields implements pgwire.Statement.
func (st *statement) Fields() []pgwire.Field {
	if st.bound == nil {
		if err := st.bind(); err != nil {
			return nil
		}
	}
	if st.bound.Columns == nil {
		return nil
	}
	fields := make([]pgwire.Field, len(st.bound.Columns))
	for i, c := range st.bound.Columns {
		fields[i] = pgwire.Field{Name: c.Name, Type: c.Type}
	}
	return fields
}

// Execute implements pgwire.Statement. The statement is bound again
// against the current catalog (with the parameter types fixed at
// preparation) so that now() is the statement's start and DDL since
// preparation is seen.
func (st *statement) Execute(ctx context.Context, params []any) (pgwire.Result, error) {
	s := st.s
	if s.tx == txFailed {
		if t, ok := st.parsed.Stmt.(*planner.TxnStmt); ok && t.Kind != "begin" {
			s.tx = txIdle
			return tagResult("ROLLBACK"), nil
		}
		return nil, sqlerr.New(sqlerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	if err := st.bind(); err != nil {
		return nil, s.fail(err)
	}
	stmt := st.bound.Stmt
	switch stmt := stmt.(type) {
	case *plan.Empty:
		return tagResult(""), nil
	case *plan.Txn:
		return s.txn(stmt), nil
	case *plan.SetVar:
		return s.set(stmt)
	case *plan.ShowVar:
		return s.show(stmt)
	case *plan.Query, *plan.Explain:
	default:
		if s.tx == txBlock {
			return nil, s.fail(sqlerr.New(sqlerr.FeatureNotSupported,
				"multi-statement transactions are not supported yet: run %s outside BEGIN ... COMMIT (each statement is atomic on its own)",
				stmt.StatementTag()))
		}
	}
	if res, ok, err := s.runStreamStatement(ctx, stmt); ok || err != nil {
		if err != nil {
			return nil, s.fail(err)
		}
		return res, nil
	}
	env := &exec.Env{Mem: s.srv.mem, Catalog: s.srv.cat, Params: params, Sources: s.srv.streams}
	release := func() {}
	if q, ok := stmt.(*plan.Query); ok {
		inputs, rel, err := s.srv.systemInputs(ctx, q.Root, s.srv.mem)
		if err != nil {
			return nil, s.fail(err)
		}
		env.InputRecords, release = inputs, rel
	}
	res, err := exec.Run(ctx, env, stmt)
	if err != nil {
		release()
		return nil, s.fail(err)
	}
	return &sessionResult{Result: res, s: s, release: release}, nil
}

// sessionResult marks the transaction failed when producing rows fails.
type sessionResult struct {
	*exec.Result
	s       *session
	release func() // frees the system-table rows the result reads
}

// Close implements pgwire.Result.
func (r *sessionResult) Close() error {
	err := r.Result.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// Next implements pgwire.Result.
func (r *sessionResult) Next(ctx context.Context) (arrow.Record, error) {
	rec, err := r.Result.Next(ctx)
	if err != nil {
		return nil, r.s.fail(err)
	}
	return rec, nil
}

// fail records an error inside a transaction block.
func (s *session) fail(err error) error {
	if s.tx == txBlock {
		s.tx = txFailed
	}
	return err
}

func (s *session) txn(t *plan.Txn) pgwire.Result {
	switch t.Kind {
	case plan.TxnBegin:
		s.tx = txBlock
		return tagResult("BEGIN")
	case plan.TxnCommit:
		s.tx = txIdle
		return tagResult("COMMIT")
	default:
		s.tx = txIdle
		return tagResult("ROLLBACK")
	}
}

func (s *session) set(v *plan.SetVar) (pgwire.Result, error) {
	name := strings.ToLower(v.Name)
	if name == "time zone" || name == "time_zone" {
		name = "timezone"
	}
	_, known := s.settings[name]
	if !known && !strings.Contains(name, ".") {
		return nil, s.fail(sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", v.Name))
	}
	if readOnlySettings[name] {
		return nil, s.fail(sqlerr.New(sqlerr.CantChangeRuntimeParam, "parameter %q cannot be changed", name))
	}
	val := v.Value
	if v.Default {
		val = defaultSettings()[name]
	}
	switch name {
	case "timezone":
		if u := strings.ToUpper(val); u != "UTC" && u != "GMT" && u != "ETC/UTC" && u != "Z" && val != "0" && u != "LOCAL" && u != "DEFAULT" {
			return nil, s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "Sluice runs in UTC: time zone %q is not supported", val))
		}
		val = "UTC"
	case "client_encoding":
		if u := strings.ToUpper(strings.ReplaceAll(val, "-", "")); u != "UTF8" && u != "UNICODE" {
			return nil, s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "client encoding %q is not supported; use UTF8", val))
		}
		val = "UTF8"
	case "standard_conforming_strings":
		if strings.ToLower(val) != "on" {
			return nil, s.fail(sqlerr.New(sqlerr.FeatureNotSupported, "standard_conforming_strings must stay on"))
		}
	}
	s.settings[name] = val
	return tagResult("SET"), nil
}

func (s *session) show(v *plan.ShowVar) (pgwire.Result, error) {
	name := strings.ToLower(v.Name)
	if name == "all" {
		names := make([]string, 0, len(s.settings))
		for k := range s.settings {
			names = append(names, k)
		}
		sort.Strings(names)
		rows := make([]string, len(names))
		for i, n := range names {
			rows[i] = n + " = " + s.settings[n]
		}
		return textResult(name, rows, "SHOW"), nil
	}
	val, ok := s.settings[name]
	if !ok {
		return nil, s.fail(sqlerr.New(sqlerr.UndefinedObject, "unrecognized configuration parameter %q", v.Name))
	}
	return textResult(name, []string{val}, "SHOW"), nil
}

// simpleResult is a result computed by the session itself.
type simpleResult struct {
	rec  arrow.Record
	done bool
	tag  string
}

func tagResult(tag string) *simpleResult { return &simpleResult{done: true, tag: tag} }

// textResult is a one-column text result.
func textResult(col string, rows []string, tag string) *simpleResult {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(rows, nil)
	arr := b.NewArray()
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: col, Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	return &simpleResult{rec: array.NewRecord(schema, []arrow.Array{arr}, int64(len(rows))), tag: tag}
}

func (r *simpleResult) Next(context.Context) (arrow.Record, error) {
	if r.done {
		return nil, nil
	}
	r.done = true
	return r.rec, nil
}

func (r *simpleResult) Tag() string { return r.tag }

func (r *simpleResult) Close() error {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	r.done = true
	return nil
}
