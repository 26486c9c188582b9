package pgwire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// errConnDone ends a connection's message loop without further messages.
var errConnDone = errors.New("connection done")

// conn is one client connection. Everything but the fields under mu is
// owned by the connection's goroutine, the only one that writes to nc and
// the only one that reads it, except while a COPY to the client runs: then
// a watcher goroutine owns rd (see copy.go).
type conn struct {
	srv *Server
	nc  net.Conn
	bw  *bufio.Writer     // under be: pgproto3 encodes into its buffer, Flush moves it here
	be  *pgproto3.Backend // sends; never receives
	rd  *pgproto3.Backend // receives; never sends
	log *slog.Logger

	ctx    context.Context // cancelled by forceClose; parent of statement contexts
	cancel context.CancelCauseFunc

	pid    uint32 // BackendKeyData; set by Server.register
	secret []byte
	sess   Session
	user   string

	mu         sync.Mutex
	idle       bool                    // reading the first message after ReadyForQuery (or the startup packet)
	draining   bool                    // Shutdown has begun
	copying    bool                    // a COPY to the client runs
	stmtCancel context.CancelCauseFunc // cancels the running statement; nil when none runs

	atReady      bool // nothing received since ReadyForQuery
	skipTillSync bool // an extended-protocol message failed
	stmts        map[string]*prepared
	portals      map[string]*portal
	enc          rowEncoder

	// What the client sent while a COPY to it ran, to serve before
	// reading on: messages, then the error that ended the reading, if any.
	pending []queued
	readErr error
}

// prepared is a prepared statement: the Backend's Statement (nil for an
// empty query string) and the parameter type OIDs the client declared.
type prepared struct {
	stmt     Statement
	declared []uint32
}

// portal is a bound statement and, once executed, its running result.
type portal struct {
	stmt    *prepared
	params  []any
	fields  []Field
	formats []int16 // one per field

	res  Result       // nil until the first Execute
	rec  arrow.Record // current batch, borrowed from res
	row  int          // next row of rec to send
	done bool         // ran to completion
	tag  string
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancelCause(context.Background())
	bw := bufio.NewWriterSize(nc, defaultWriteBufSize)
	// Two pgproto3.Backends, one to send and one to receive, so that the
	// COPY watcher can receive while the connection's goroutine sends
	// without sharing any state.
	rd := pgproto3.NewBackend(nc, nil)
	rd.SetMaxBodyLen(s.cfg.MaxMessageSize)
	return &conn{
		srv:     s,
		nc:      nc,
		bw:      bw,
		be:      pgproto3.NewBackend(nil, bw),
		rd:      rd,
		log:     s.log.With("remote", nc.RemoteAddr().String()),
		ctx:     ctx,
		cancel:  cancel,
		stmts:   make(map[string]*prepared),
		portals: make(map[string]*portal),
	}
}

// drain asks the connection to close at its next idle moment: at once if
// it is waiting for a client's next query (its read is interrupted), else
// after the ReadyForQuery that ends its current work. A COPY to the client,
// a live feed that would not end by itself, is cancelled and the
// connection closed at once.
func (c *conn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.draining = true
	if c.idle {
		c.nc.SetReadDeadline(time.Now())
	}
	if c.copying && c.stmtCancel != nil {
		c.stmtCancel(errServerStopping)
	}
}

// forceClose cancels whatever runs and closes the socket; the connection's
// goroutine then finds its reads and writes failing and exits.
func (c *conn) forceClose(cause error) {
	c.cancel(cause)
	c.cancelStatement(cause)
	c.nc.Close()
}

// cancelStatement cancels the running statement, if any.
func (c *conn) cancelStatement(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmtCancel != nil {
		c.stmtCancel(cause)
	}
}

// startStatement returns the context for one round of Backend calls,
// cancellable by CancelRequest, and the function that ends it.
func (c *conn) startStatement() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(c.ctx)
	c.mu.Lock()
	c.stmtCancel = cancel
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		c.stmtCancel = nil
		c.mu.Unlock()
		cancel(nil)
	}
}

// beginRead marks the connection idle when it is about to wait for the
// first message after ReadyForQuery; false when it should close instead.
func (c *conn) beginRead(idle bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idle && c.draining {
		return false
	}
	c.idle = idle
	return true
}

// endRead marks the connection busy again and reports whether a drain
// interrupted (or raced with) an idle read. If the read delivered a
// message anyway, the deadline drain set is lifted so the work it starts
// can read the rest of its messages.
func (c *conn) endRead() (drained bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	drained = c.idle && c.draining
	if drained {
		c.nc.SetReadDeadline(time.Time{})
	}
	c.idle = false
	return drained
}

// serve runs the connection to its end.
func (c *conn) serve() {
	defer c.close()
	defer func() {
		// Every Backend call is already guarded; this is the last line.
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic in connection", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	c.log.Debug("pgwire: connection accepted")
	if err := c.startup(); err != nil {
		if !errors.Is(err, errConnDone) {
			c.log.Debug("pgwire: startup ended", "err", err)
		}
		return
	}
	c.loop()
}

// close releases everything the connection holds.
func (c *conn) close() {
	for name := range c.portals {
		c.closePortal(name)
	}
	if c.sess != nil {
		if err := c.guard(func() error { return c.sess.Close() }); err != nil {
			c.log.Warn("pgwire: closing session", "err", err)
		}
	}
	c.cancel(errConnDone)
	c.nc.Close()
	c.log.Debug("pgwire: connection closed", "pid", c.pid)
}

// guard calls f, turning a panic into an XX000 error.
func (c *conn) guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic in backend", "pid", c.pid, "panic", r, "stack", string(debug.Stack()))
			err = sqlerr.New(sqlerr.InternalError, "internal error: %v", r)
		}
	}()
	return f()
}

// startup reads the startup packet, answering SSLRequest and
// GSSEncRequest with 'N' and serving a CancelRequest, then authenticates
// (everyone is welcome) and opens the session.
func (c *conn) startup() error {
	timer := time.AfterFunc(c.srv.cfg.StartupTimeout, func() { c.forceClose(errStartupTimeout) })
	defer timer.Stop()
	for {
		if !c.beginRead(true) {
			return errConnDone
		}
		msg, err := c.rd.ReceiveStartupMessage()
		if c.endRead() {
			return errConnDone
		}
		if err != nil {
			if !isIOError(err) {
				c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid startup packet: %w", err))
			}
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			// No encryption: the client goes on in plain text.
			c.bw.WriteByte('N')
			if err := c.bw.Flush(); err != nil {
				return err
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return errConnDone
		case *pgproto3.StartupMessage:
			if !timer.Stop() {
				return errStartupTimeout
			}
			return c.handshake(m)
		default:
			c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "unexpected startup message %T", msg))
			return errConnDone
		}
	}
}

// handshake answers a StartupMessage: protocol negotiation if needed,
// AuthenticationOk, the session, ParameterStatus, BackendKeyData.
func (c *conn) handshake(m *pgproto3.StartupMessage) error {
	params := maps.Clone(m.Parameters)
	// Sluice speaks protocol 3.0 and knows no protocol options (_pq_.*):
	// a client asking for more is told so, and goes on with 3.0.
	var unknown []string
	for k := range params {
		if strings.HasPrefix(k, "_pq_.") {
			unknown = append(unknown, k)
			delete(params, k)
		}
	}
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknown) > 0 {
		slices.Sort(unknown)
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	}
	c.be.Send(&pgproto3.AuthenticationOk{})

	c.user = params["user"]
	var sess Session
	err := c.guard(func() error {
		var err error
		sess, err = c.srv.backend.Connect(c.ctx, params)
		return err
	})
	if err == nil && sess == nil {
		err = errors.New("backend returned no session")
	}
	if err != nil {
		c.sendFatal(err)
		return fmt.Errorf("connect: %w", err)
	}
	c.sess = sess
	if err := c.srv.register(c); err != nil {
		c.sendFatal(err)
		return err
	}
	c.log = c.log.With("pid", c.pid)
	c.log.Debug("pgwire: session started", "user", c.user, "database", params["database"])

	for _, p := range [][2]string{
		{"application_name", params["application_name"]},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"default_transaction_read_only", "off"},
		{"in_hot_standby", "off"},
		{"integer_datetimes", "on"},
		{"IntervalStyle", "postgres"},
		{"is_superuser", "off"},
		{"server_encoding", "UTF8"},
		{"server_version", c.srv.cfg.ServerVersion},
		{"session_authorization", c.user},
		{"standard_conforming_strings", "on"},
		{"TimeZone", "UTC"},
	} {
		c.be.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	return nil
}

// loop serves messages until the client leaves, the connection breaks or
// the server drains it.
func (c *conn) loop() {
	needReady := true
	for {
		if needReady {
			c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus()})
			if err := c.flush(); err != nil {
				return
			}
			needReady, c.atReady = false, true
		}
		if !c.beginRead(c.atReady) {
			c.sendFatal(sqlerr.New(sqlerr.AdminShutdown, "terminating connection due to administrator command"))
			return
		}
		msg, err := c.receive()
		if c.endRead() && err != nil {
			c.sendFatal(sqlerr.New(sqlerr.AdminShutdown, "terminating connection due to administrator command"))
			return
		}
		if err != nil {
			c.receiveFailed(err)
			return
		}
		c.atReady = false
		ready, err := c.handle(msg)
		if errors.Is(err, errConnDone) {
			return
		}
		needReady = ready
	}
}

// receive returns the client's next message: one that came during a COPY
// to the client, if any is left, else the next from the socket.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	if len(c.pending) > 0 {
		msg := c.pending[0].msg
		c.pending[0] = queued{}
		c.pending = c.pending[1:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return msg, nil
	}
	if err := c.readErr; err != nil {
		c.readErr = nil
		return nil, err
	}
	return c.rd.Receive()
}

// receiveFailed ends the connection after a failed Receive: silently when
// the connection broke, with a FATAL 08P01 when the client broke the
// protocol (a malformed or oversized message).
func (c *conn) receiveFailed(err error) {
	if isIOError(err) {
		c.log.Debug("pgwire: connection lost", "err", err)
		return
	}
	var tooBig *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooBig) {
		err = sqlerr.New(sqlerr.ProtocolViolation, "message of %d bytes exceeds the limit of %d bytes", tooBig.ActualBodyLen, tooBig.MaxExpectedBodyLen)
	} else {
		err = sqlerr.New(sqlerr.ProtocolViolation, "invalid frontend message: %w", err)
	}
	c.log.Warn("pgwire: protocol violation", "err", err)
	c.sendFatal(err)
}

// isIOError reports whether err comes from the connection rather than
// from the bytes on it.
func isIOError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne)
}

func (c *conn) txStatus() byte {
	if ts, ok := c.sess.(TxStatusReporter); ok {
		var st byte
		if err := c.guard(func() error { st = ts.TxStatus(); return nil }); err == nil && (st == 'I' || st == 'T' || st == 'E') {
			return st
		}
	}
	return 'I'
}

// handle serves one message; ready reports whether ReadyForQuery is due.
func (c *conn) handle(msg pgproto3.FrontendMessage) (ready bool, err error) {
	switch m := msg.(type) {
	case *pgproto3.Query:
		// PostgreSQL ignores a Query too while it skips to Sync.
		if !c.skipTillSync {
			if err := c.simpleQuery(m.String); err != nil {
				return false, err
			}
			return true, nil
		}
		return false, nil
	case *pgproto3.Sync:
		c.skipTillSync = false
		if c.txStatus() == 'I' {
			// The implicit transaction ends: so do its portals.
			for name := range c.portals {
				c.closePortal(name)
			}
		}
		return true, nil
	case *pgproto3.Terminate:
		return false, errConnDone
	case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Execute, *pgproto3.Close, *pgproto3.Flush:
		if c.skipTillSync {
			return false, nil
		}
		if err := c.extended(msg); err != nil {
			if errors.Is(err, errConnDone) {
				return false, err
			}
			c.skipTillSync = true
		}
		return false, nil
	case *pgproto3.FunctionCall:
		c.sendError(nil, sqlerr.New(sqlerr.FeatureNotSupported, "the function call protocol is not supported"))
		return true, nil
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Outside COPY these are ignored, as PostgreSQL does: they are
		// what is left of a COPY that failed.
		return false, nil
	default:
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "unexpected message %T", msg))
		return false, errConnDone
	}
}

// extended serves one extended-protocol message. An error it returns has
// been sent to the client.
func (c *conn) extended(msg pgproto3.FrontendMessage) error {
	var ctx context.Context // the statement context, when one ran
	err := c.guard(func() error {
		switch m := msg.(type) {
		case *pgproto3.Parse:
			var done func()
			ctx, done = c.startStatement()
			defer done()
			return c.parse(ctx, m)
		case *pgproto3.Bind:
			return c.bind(m)
		case *pgproto3.Describe:
			return c.describe(m)
		case *pgproto3.Execute:
			var done func()
			ctx, done = c.startStatement()
			defer done()
			return c.execute(ctx, m)
		case *pgproto3.Close:
			if m.ObjectType == 'S' {
				delete(c.stmts, m.Name)
			} else {
				c.closePortal(m.Name)
			}
			c.be.Send(&pgproto3.CloseComplete{})
			return nil
		case *pgproto3.Flush:
			return c.flush()
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errConnDone) {
			return err
		}
		c.sendError(ctx, err)
	}
	return err
}

// simpleQuery serves a Query message: every statement in sql in turn, up
// to the first error. It returns only errConnDone, when the connection
// must end; other errors have been sent to the client.
func (c *conn) simpleQuery(sql string) error {
	// As in PostgreSQL, a simple query drops the unnamed statement and
	// portal.
	delete(c.stmts, "")
	c.closePortal("")

	if err := checkText(sql); err != nil {
		c.sendError(nil, err)
		return nil
	}
	ctx, done := c.startStatement()
	defer done()
	var stmts []Statement
	err := c.guard(func() error {
		var err error
		stmts, err = c.sess.Prepare(ctx, sql, nil)
		return err
	})
	if err != nil {
		c.sendError(ctx, err)
		return nil
	}
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	for _, st := range stmts {
		if err := c.guard(func() error { return c.runSimple(ctx, st) }); err != nil {
			c.closePortal("")
			if errors.Is(err, errConnDone) {
				return err
			}
			c.sendError(ctx, err)
			return nil
		}
	}
	return nil
}

// runSimple runs one statement of a simple query, all rows in text, or a
// COPY to the client.
func (c *conn) runSimple(ctx context.Context, st Statement) error {
	if n := len(st.ParamTypes()); n > 0 {
		return sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $1")
	}
	fields := st.Fields()
	formats := make([]int16, len(fields))
	if fields != nil {
		c.be.Send(rowDescription(fields, formats))
	}
	res, err := st.Execute(ctx, nil)
	if err != nil {
		return err
	}
	p := &portal{stmt: &prepared{stmt: st}, fields: fields, formats: formats, res: res}
	c.portals[""] = p
	if cr, ok := res.(CopyOutResult); ok {
		if err := c.copyOut(ctx, p, cr); err != nil {
			return err
		}
	} else if _, err := c.sendRows(ctx, p, 0); err != nil {
		return err
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	c.closePortal("")
	return nil
}

// parse serves Parse: one statement (or none) into a prepared statement.
func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	if _, dup := c.stmts[m.Name]; dup && m.Name != "" {
		return sqlerr.New(codeDuplicatePreparedStatement, "prepared statement \"%s\" already exists", m.Name)
	}
	if err := checkText(m.Query); err != nil {
		return err
	}
	declared := slices.Clone(m.ParameterOIDs)
	types := make([]sqltypes.Type, len(declared))
	for i, oid := range declared {
		// 0 is "unspecified"; an OID Sluice does not know is left to the
		// statement to resolve, and its parameter must come as text.
		types[i], _ = sqltypes.FromOID(oid)
	}
	stmts, err := c.sess.Prepare(ctx, m.Query, types)
	if err != nil {
		return err
	}
	if len(stmts) > 1 {
		return sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	ps := &prepared{declared: declared}
	if len(stmts) == 1 {
		ps.stmt = stmts[0]
	}
	c.stmts[m.Name] = ps
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

// formatCodes expands a Bind's format codes (none: all text; one: all
// alike; else one each) to n codes; what names them in errors.
func formatCodes(codes []int16, n int, what string) ([]int16, error) {
	out := make([]int16, n)
	switch len(codes) {
	case 0:
	case 1:
		for i := range out {
			out[i] = codes[0]
		}
	case n:
		copy(out, codes)
	default:
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d formats for %d %s", len(codes), n, what)
	}
	for _, f := range out {
		if f != formatText && f != formatBinary {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	return out, nil
}

// bind serves Bind: a prepared statement and parameter values into a
// portal. Parameters are decoded (and so copied) here.
func (c *conn) bind(m *pgproto3.Bind) error {
	ps, ok := c.stmts[m.PreparedStatement]
	if !ok {
		return sqlerr.New(codeInvalidSQLStatementName, "prepared statement \"%s\" does not exist", m.PreparedStatement)
	}
	if _, dup := c.portals[m.DestinationPortal]; dup && m.DestinationPortal != "" {
		return sqlerr.New(codeDuplicateCursor, "portal \"%s\" already exists", m.DestinationPortal)
	}
	var paramTypes []sqltypes.Type
	var fields []Field
	if ps.stmt != nil {
		paramTypes, fields = ps.stmt.ParamTypes(), ps.stmt.Fields()
	}
	if len(m.Parameters) != len(paramTypes) {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement \"%s\" requires %d",
			len(m.Parameters), m.PreparedStatement, len(paramTypes))
	}
	pformats, err := formatCodes(m.ParameterFormatCodes, len(paramTypes), "parameters")
	if err != nil {
		return err
	}
	rformats, err := formatCodes(m.ResultFormatCodes, len(fields), "columns")
	if err != nil {
		return err
	}
	params := make([]any, len(paramTypes))
	for i, t := range paramTypes {
		var declared uint32
		if i < len(ps.declared) {
			declared = ps.declared[i]
		}
		if params[i], err = decodeParam(i+1, t, declared, pformats[i], m.Parameters[i]); err != nil {
			return err
		}
	}
	c.closePortal(m.DestinationPortal)
	c.portals[m.DestinationPortal] = &portal{stmt: ps, params: params, fields: fields, formats: rformats}
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// describe serves Describe of a statement (ParameterDescription, then
// RowDescription in text or NoData) or of a portal (RowDescription in its
// result formats or NoData).
func (c *conn) describe(m *pgproto3.Describe) error {
	var fields []Field
	var formats []int16
	if m.ObjectType == 'S' {
		ps, ok := c.stmts[m.Name]
		if !ok {
			return sqlerr.New(codeInvalidSQLStatementName, "prepared statement \"%s\" does not exist", m.Name)
		}
		pd := &pgproto3.ParameterDescription{}
		if ps.stmt != nil {
			for _, t := range ps.stmt.ParamTypes() {
				pd.ParameterOIDs = append(pd.ParameterOIDs, t.OID())
			}
			fields = ps.stmt.Fields()
		}
		c.be.Send(pd)
		formats = make([]int16, len(fields))
	} else {
		p, ok := c.portals[m.Name]
		if !ok {
			return sqlerr.New(codeInvalidCursorName, "portal \"%s\" does not exist", m.Name)
		}
		fields, formats = p.fields, p.formats
	}
	if fields == nil {
		c.be.Send(&pgproto3.NoData{})
		return nil
	}
	c.be.Send(rowDescription(fields, formats))
	return nil
}

// execute serves Execute: runs the portal or resumes it, sending at most
// maxRows rows (0: all) and then PortalSuspended or CommandComplete. A
// COPY to the client ignores maxRows: it runs to its end.
func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	p, ok := c.portals[m.Portal]
	if !ok {
		return sqlerr.New(codeInvalidCursorName, "portal \"%s\" does not exist", m.Portal)
	}
	if p.stmt.stmt == nil {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if !p.done && p.res == nil {
		res, err := p.stmt.stmt.Execute(ctx, p.params)
		if err != nil {
			return err
		}
		p.res = res
	}
	if cr, ok := p.res.(CopyOutResult); ok && !p.done {
		if err := c.copyOut(ctx, p, cr); err != nil {
			c.closePortal(m.Portal)
			return err
		}
	}
	if !p.done {
		// The wire's int32: zero or negative means no limit.
		suspended, err := c.sendRows(ctx, p, max(int(int32(m.MaxRows)), 0))
		if err != nil {
			c.closePortal(m.Portal)
			return err
		}
		if suspended {
			c.be.Send(&pgproto3.PortalSuspended{})
			return nil
		}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(p.tag)})
	return nil
}

// sendRows sends p's next rows, at most maxRows (0: all). It returns true
// when it stopped at the limit; otherwise the result is done, closed, and
// p.tag set.
func (c *conn) sendRows(ctx context.Context, p *portal, maxRows int) (suspended bool, err error) {
	sent := 0
	for {
		if p.rec == nil || p.row >= int(p.rec.NumRows()) {
			if ctx.Err() != nil {
				return false, context.Cause(ctx)
			}
			rec, err := p.res.Next(ctx)
			if err != nil {
				return false, err
			}
			if rec == nil {
				p.rec, p.done, p.tag = nil, true, p.res.Tag()
				err := p.res.Close()
				p.res = nil
				return false, err
			}
			p.rec, p.row = rec, 0
			continue
		}
		n := int(p.rec.NumRows()) - p.row
		if maxRows > 0 {
			n = min(n, maxRows-sent)
		}
		if err := c.enc.encode(p.rec, p.row, p.row+n, p.fields, p.formats); err != nil {
			return false, sqlerr.Wrap(sqlerr.InternalError, err)
		}
		if err := c.writeRaw(func(w *bufio.Writer) error { return c.enc.writeRows(w, n) }); err != nil {
			return false, err
		}
		p.row += n
		sent += n
		if p.row >= int(p.rec.NumRows()) {
			// A batch is out: let the client see it now, which matters
			// for results that arrive over time.
			if err := c.flush(); err != nil {
				return false, err
			}
		}
		if maxRows > 0 && sent >= maxRows {
			return true, nil
		}
	}
}

// closePortal closes a portal and its result, if it exists.
func (c *conn) closePortal(name string) {
	p, ok := c.portals[name]
	if !ok {
		return
	}
	delete(c.portals, name)
	if p.res != nil {
		res := p.res
		p.res, p.rec = nil, nil
		if err := c.guard(res.Close); err != nil {
			c.log.Warn("pgwire: closing result", "err", err)
		}
	}
}

// writeRaw writes bytes after the messages pgproto3 has buffered.
func (c *conn) writeRaw(f func(*bufio.Writer) error) error {
	if err := c.be.Flush(); err != nil {
		return c.broken(err)
	}
	if err := f(c.bw); err != nil {
		return c.broken(err)
	}
	return nil
}

// flush sends everything buffered to the client.
func (c *conn) flush() error {
	if err := c.be.Flush(); err != nil {
		return c.broken(err)
	}
	if err := c.bw.Flush(); err != nil {
		return c.broken(err)
	}
	return nil
}

// broken notes a failed write: the connection is unusable.
func (c *conn) broken(err error) error {
	c.log.Debug("pgwire: write failed", "err", err)
	return fmt.Errorf("%w: write: %w", errConnDone, err)
}

// sendError sends err as an ErrorResponse and flushes, as PostgreSQL does
// so a client sees an error even before Sync. ctx is the statement's
// context, if one ran: a statement cancelled by a CancelRequest reports
// 57014 and one cancelled by a stopping server 57P01, which also ends the
// connection.
func (c *conn) sendError(ctx context.Context, err error) {
	if ctx != nil && ctx.Err() != nil {
		cause := context.Cause(ctx)
		generic := errors.Is(err, context.Canceled) || errors.Is(err, cause) || sqlerr.Code(err) == sqlerr.InternalError
		switch {
		case errors.Is(cause, errCancelRequested) && generic:
			err = sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
		case errors.Is(cause, errServerStopping):
			c.sendFatal(sqlerr.New(sqlerr.AdminShutdown, "terminating connection due to administrator command"))
			return
		}
	}
	c.be.Send(errorResponse(err, "ERROR"))
	c.flush()
}

// sendFatal sends err as a FATAL ErrorResponse; the connection closes next.
func (c *conn) sendFatal(err error) {
	c.be.Send(errorResponse(err, "FATAL"))
	c.flush()
}

// errorResponse turns err into an ErrorResponse: its SQLSTATE, message,
// detail, hint and position from package sqlerr (XX000 without one).
func errorResponse(err error, severity string) *pgproto3.ErrorResponse {
	e := sqlerr.As(err)
	code := e.Code
	if len(code) != 5 {
		code = sqlerr.InternalError
	}
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                code,
		Message:             wireString(e.Error()),
		Detail:              wireString(e.Detail),
		Hint:                wireString(e.Hint),
		Position:            int32(e.Position),
	}
}

// wireString makes s safe in a NUL-terminated protocol string.
func wireString(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\\0")
}
