// Package pgwire serves the PostgreSQL wire protocol (version 3.0) on top
// of a Backend. It knows messages, formats and connection states; it knows
// nothing of SQL beyond the types of package sqltypes. Message framing and
// encoding come from pgx's pgproto3; the hot path, DataRow, is encoded
// here straight from Arrow arrays.
//
// # Files
//
//	backend.go  the interface served: Backend, Session, Statement, Result, CopyOutResult
//	server.go   Server: listeners, the connection registry, cancel keys, Shutdown
//	conn.go     one connection: startup, the message loop, simple and extended query
//	copy.go     COPY to the client of a live feed, and the goroutine watching the client meanwhile
//	encode.go   RowDescription, DataRow and COPY text rows from Arrow records
//	decode.go   Bind parameters, text and binary, into sqltypes Go values
//
// # Connection lifecycle
//
// Serve accepts a connection and gives it a goroutine (conn.serve), which
// alone reads and writes the socket (but see COPY below). Writes go through pgproto3's buffer
// into a 32 KiB bufio.Writer; they reach the client at ReadyForQuery, after
// an ErrorResponse, on Flush, after each batch of rows, or when the buffer
// fills.
//
// Startup. The first packet has no type byte. An SSLRequest or
// GSSEncRequest is answered 'N' (no encryption; the client goes on in
// plain text) and the next packet is read. A CancelRequest arrives on a
// connection of its own: its process ID and secret key are looked up among
// live sessions, the matching session's running statement is cancelled,
// and the connection is closed without a reply, as PostgreSQL does. A
// StartupMessage asking for protocol 3.2 or for _pq_ options gets a
// NegotiateProtocolVersion (3.0, no options). Then, with no
// authentication: AuthenticationOk, Backend.Connect with the startup
// parameters, ParameterStatus (server_version, encodings, DateStyle,
// TimeZone, ...), BackendKeyData with a random process ID and secret
// (crypto/rand), and ReadyForQuery. The whole startup must finish within
// Config.StartupTimeout.
//
// Simple query. A Query's string goes to Session.Prepare whole; each
// statement it yields is executed in turn: RowDescription (if it returns
// rows), DataRows in text, CommandComplete. The first error is sent as an
// ErrorResponse and ends the query; zero statements give
// EmptyQueryResponse. ReadyForQuery follows in every case.
//
// Extended query. Parse prepares one statement (more is 42601), named or
// unnamed; Bind decodes the parameters (text, or binary per PostgreSQL's
// send/recv formats) and fixes the result formats into a portal; Describe
// reports a statement's ParameterDescription and RowDescription (or
// NoData), or a portal's RowDescription in its formats; Execute runs the
// portal, or resumes it: a row limit stops it with PortalSuspended, its
// Result and current Arrow record kept for the next Execute. Close drops a
// statement or portal; Flush sends what is buffered; Sync ends the
// exchange with ReadyForQuery and, outside a transaction block, closes all
// portals. After an error the connection skips every message up to Sync,
// so a pipelined batch fails as a unit.
//
// COPY to the client. A Result that implements CopyOutResult (SUBSCRIBE,
// COPY (SUBSCRIBE ...) TO STDOUT) is sent as COPY TO STDOUT in text
// format, in both protocols: its statement describes as NoData,
// CopyOutResponse, one CopyData per row (tab-separated, NULL as \N,
// backslash and control characters escaped as PostgreSQL does), flushed
// after each batch so a live feed reaches the client as it comes, then
// CopyDone and CommandComplete. Execute's row limit does not apply. An
// error ends it with an ErrorResponse (no CopyDone), as in PostgreSQL.
// Such a feed may wait long for rows, so while it runs a watcher goroutine
// reads the client's messages (the connection's goroutine only writes):
// Terminate, a closed or broken socket or a protocol violation cancel the
// feed and end the connection; any other message is copied and served
// after the COPY, in order, as PostgreSQL leaves them unread until then.
// The watcher stops, its read interrupted by a read deadline, before the
// connection's goroutine reads again; a message it had half read is
// finished by the next read. It holds at most Config.MaxMessageSize bytes
// of messages, then leaves the rest in the socket.
//
// Cancellation and contexts. Each round of Backend calls (Prepare,
// Execute, the Next calls of one Execute message) runs under a statement
// context derived from the connection's; a matching CancelRequest cancels
// it, and the error that results is reported as 57014. Force-closing a
// connection (Serve's ctx done, Shutdown's deadline passed, startup
// timeout) cancels both and closes the socket.
//
// Errors. Errors carry their SQLSTATE from where they were born (package
// sqlerr); here they become ErrorResponse fields: severity, code, message,
// detail, hint and a 1-based character position. An error without one is
// XX000. A malformed or oversized message (Config.MaxMessageSize) breaks
// the framing: it gets a FATAL 08P01 and the connection is closed. A panic
// in a Backend call is recovered, logged with its stack and reported as
// XX000; the connection goes on (skipping to Sync if extended), and the
// server never goes down for it.
//
// Transaction status. ReadyForQuery reports 'I' unless the Session
// implements TxStatusReporter.
//
// Shutdown. Listeners close first. A connection waiting for its next
// query is interrupted (its read deadline is set to now) and closed with
// a FATAL 57P01; one that is busy, running a statement or in the middle
// of an extended exchange, finishes, sends ReadyForQuery, and is closed
// the same way at that point, except a COPY to the client: a live feed
// would never finish, so it is cancelled and its connection closed with
// the FATAL at once. When Shutdown's context ends first, the remaining
// connections are force-closed.
//
// End. Terminate, a broken socket or any of the above closes the
// connection: its portals' Results and its Session are closed, its cancel
// key is forgotten, and its goroutine returns.
package pgwire
