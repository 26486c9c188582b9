package pgwire

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/sluice-sql/sluice/catalog/sqltypes"
)

// Backend is what the protocol layer serves: it opens one Session per
// client connection. Package server implements it over the planner and
// exec; this package knows nothing of SQL beyond types.
type Backend interface {
	// Connect is called after the startup message. params holds the
	// startup parameters (user, database, application_name, ...).
	Connect(ctx context.Context, params map[string]string) (Session, error)
}

// Session is one client's SQL session. Its methods are called from the
// connection's goroutine only, one at a time; ctx is cancelled by a
// CancelRequest for this session or by server shutdown.
type Session interface {
	// Prepare parses sql into statements and plans them. The simple query
	// protocol passes the whole query string (which may hold several
	// statements, and may be empty: zero statements); the extended
	// protocol's Parse passes one string and refuses more than one
	// statement. paramTypes are the types the client declared (Unknown
	// where it sent OID 0). Errors carry a SQLSTATE (package sqlerr).
	Prepare(ctx context.Context, sql string, paramTypes []sqltypes.Type) ([]Statement, error)
	// Close releases the session.
	Close() error
}

// Field is one column of a statement's result.
type Field struct {
	Name string
	Type sqltypes.Type
}

// Statement is one prepared statement.
type Statement interface {
	// ParamTypes are the parameter types, resolved ($n with no clue to
	// its type resolves to text, as in PostgreSQL).
	ParamTypes() []sqltypes.Type
	// Fields describes the result rows; nil when the statement returns
	// no rows (INSERT, CREATE TABLE, SET, ...).
	Fields() []Field
	// Execute runs the statement with parameter values (Go values as in
	// package sqltypes, already decoded by the protocol layer). ctx is
	// valid only during the call: a portal suspended by a row limit is
	// resumed later with Result.Next under a new ctx, so a Result must not
	// keep Execute's ctx.
	Execute(ctx context.Context, params []any) (Result, error)
}

// TxStatusReporter is an optional interface of a Session that models
// transactions. TxStatus returns the status sent in ReadyForQuery: 'I'
// (idle, not in a transaction block), 'T' (in a transaction block) or 'E'
// (in a failed transaction block). A Session without it is always 'I'.
// The protocol layer closes all portals at Sync only while the status is
// 'I', as PostgreSQL ends the implicit transaction there.
type TxStatusReporter interface {
	TxStatus() byte
}

// Result is the outcome of one execution.
type Result interface {
	// Next returns the next batch of rows, or nil at the end. The record
	// is borrowed until the next call to Next or Close; its columns match
	// Fields() in order and type (Arrow types per sqltypes.Type.Arrow).
	Next(ctx context.Context) (arrow.Record, error)
	// Tag is the CommandComplete tag, valid after Next has returned nil
	// ("SELECT 3", "INSERT 0 2", "UPDATE 1", "CREATE TABLE", ...).
	Tag() string
	// Close releases the result; safe to call twice.
	Close() error
}

// CopyOutResult is an optional interface of a Result whose rows go to the
// client as COPY TO STDOUT in text format instead of DataRows: a live feed
// (SUBSCRIBE). Its Statement's Fields() is nil (Describe answers NoData, as
// PostgreSQL does for COPY). Next blocks until rows arrive and returns nil
// at the end of the feed; a cancelled ctx (CancelRequest, client gone,
// shutdown) must make Next return promptly with the ctx error.
type CopyOutResult interface {
	Result
	// CopyFields describes the columns of the rows Next returns, in order
	// and type as Statement.Fields does for a query.
	CopyFields() []Field
}
