package pgwire_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/server/pgwire"
)

// rawClient speaks the protocol message by message.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// startup connects as user u and reads up to ReadyForQuery.
func (c *rawClient) startup() (pid uint32, secret []byte) {
	c.t.Helper()
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u", "database": "d"}})
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatal(err)
		}
		switch m := msg.(type) {
		case *pgproto3.BackendKeyData:
			pid, secret = m.ProcessID, append([]byte(nil), m.SecretKey...)
		case *pgproto3.ReadyForQuery:
			return pid, secret
		case *pgproto3.ErrorResponse:
			c.t.Fatalf("startup: %s %s", m.Code, m.Message)
		}
	}
}

// summary is a short text for a backend message.
func summary(msg pgproto3.BackendMessage) string {
	switch m := msg.(type) {
	case *pgproto3.ReadyForQuery:
		return "Ready " + string(m.TxStatus)
	case *pgproto3.ErrorResponse:
		return m.Severity + " " + m.Code
	case *pgproto3.CommandComplete:
		return "Complete " + string(m.CommandTag)
	case *pgproto3.DataRow:
		var vals []string
		for _, v := range m.Values {
			if v == nil {
				vals = append(vals, "NULL")
			} else {
				vals = append(vals, fmt.Sprintf("%x", v))
			}
		}
		return "Row " + strings.Join(vals, ",")
	case *pgproto3.RowDescription:
		var fs []string
		for _, f := range m.Fields {
			fs = append(fs, fmt.Sprintf("%s:%d:%d", f.Name, f.DataTypeOID, f.Format))
		}
		return "RowDescription " + strings.Join(fs, ",")
	case *pgproto3.ParameterDescription:
		return fmt.Sprintf("ParameterDescription %v", m.ParameterOIDs)
	case *pgproto3.CopyOutResponse:
		return fmt.Sprintf("CopyOutResponse %d %v", m.OverallFormat, m.ColumnFormatCodes)
	case *pgproto3.CopyData:
		return fmt.Sprintf("CopyData %q", m.Data)
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

// untilReady reads messages up to ReadyForQuery, summarised.
func (c *rawClient) untilReady() string {
	c.t.Helper()
	var got []string
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, summary(msg))
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return strings.Join(got, "; ")
		}
	}
}

// untilClosed reads messages until the server closes the connection.
func (c *rawClient) untilClosed() string {
	c.t.Helper()
	var got []string
	for {
		msg, err := c.fe.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") {
				c.t.Fatalf("after %v: %v, want the connection closed", got, err)
			}
			return strings.Join(got, "; ")
		}
		got = append(got, summary(msg))
	}
}

func be64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func TestExtendedProtocolExchanges(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	tests := []struct {
		name string
		send []pgproto3.FrontendMessage
		want string
	}{
		{
			name: "a portal with a row limit is suspended and resumed",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT series(5, 2)"},
				&pgproto3.Bind{ResultFormatCodes: []int16{1}},
				&pgproto3.Execute{MaxRows: 3},
				&pgproto3.Execute{MaxRows: 3},
				&pgproto3.Execute{MaxRows: 3},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; Row 0000000000000001; Row 0000000000000002; Row 0000000000000003; PortalSuspended; " +
				"Row 0000000000000004; Row 0000000000000005; Complete SELECT 5; Complete SELECT 5; Ready I",
		},
		{
			name: "a row limit equal to the rows left still suspends, as in PostgreSQL",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "s", Query: "SELECT series(2)"},
				&pgproto3.Bind{PreparedStatement: "s", DestinationPortal: "p", ResultFormatCodes: []int16{0}},
				&pgproto3.Execute{Portal: "p", MaxRows: 2},
				&pgproto3.Execute{Portal: "p"},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; Row 31; Row 32; PortalSuspended; Complete SELECT 2; Ready I",
		},
		{
			name: "portals do not outlive Sync",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "s2", Query: "SELECT series(3)"},
				&pgproto3.Bind{PreparedStatement: "s2", DestinationPortal: "p2"},
				&pgproto3.Execute{Portal: "p2", MaxRows: 1},
				&pgproto3.Sync{},
				&pgproto3.Execute{Portal: "p2", MaxRows: 1},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; Row 31; PortalSuspended; Ready I; ERROR 34000; Ready I",
		},
		{
			name: "describe reports parameters and columns of a statement, and a portal's formats",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "d", Query: "SELECT $1::int8 AS a, $2 AS b", ParameterOIDs: []uint32{0, 0}},
				&pgproto3.Describe{ObjectType: 'S', Name: "d"},
				&pgproto3.Bind{PreparedStatement: "d", ParameterFormatCodes: []int16{1, 0}, Parameters: [][]byte{be64(-2), []byte("x")}, ResultFormatCodes: []int16{1, 0}},
				&pgproto3.Describe{ObjectType: 'P'},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ParameterDescription [20 25]; RowDescription a:20:0,b:25:0; BindComplete; RowDescription a:20:1,b:25:0; " +
				"Row fffffffffffffffe,78; Complete SELECT 1; Ready I",
		},
		{
			name: "a statement without rows describes as NoData",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "INSERT INTO t VALUES (1)"},
				&pgproto3.Describe{ObjectType: 'S'},
				&pgproto3.Bind{},
				&pgproto3.Describe{ObjectType: 'P'},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ParameterDescription []; NoData; BindComplete; NoData; Complete INSERT 0 1; Ready I",
		},
		{
			name: "an empty query parses and executes as EmptyQueryResponse",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: " "},
				&pgproto3.Bind{},
				&pgproto3.Describe{ObjectType: 'P'},
				&pgproto3.Execute{},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; NoData; EmptyQueryResponse; Ready I",
		},
		{
			name: "after an error everything up to Sync is skipped",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELEC 1"},
				&pgproto3.Bind{},
				&pgproto3.Execute{},
				&pgproto3.Query{String: "SELECT 1"},
				&pgproto3.Sync{},
				&pgproto3.Parse{Query: "SELECT 1"},
				&pgproto3.Sync{},
			},
			want: "ERROR 42601; Ready I; ParseComplete; Ready I",
		},
		{
			name: "Close drops statements and portals, and is fine with unknown names",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Name: "c", Query: "SELECT 1"},
				&pgproto3.Bind{PreparedStatement: "c", DestinationPortal: "cp"},
				&pgproto3.Close{ObjectType: 'P', Name: "cp"},
				&pgproto3.Close{ObjectType: 'S', Name: "c"},
				&pgproto3.Close{ObjectType: 'S', Name: "never"},
				&pgproto3.Bind{PreparedStatement: "c"},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; CloseComplete; CloseComplete; CloseComplete; ERROR 26000; Ready I",
		},
		{
			name: "Flush sends what is pending before Sync",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT 1"},
				&pgproto3.Flush{},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; Ready I",
		},
		{
			name: "a wrong number of parameters is a protocol violation",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT $1::int4"},
				&pgproto3.Bind{Parameters: [][]byte{[]byte("1"), []byte("2")}},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ERROR 08P01; Ready I",
		},
		{
			name: "a binary parameter of the wrong length is 22P03",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT $1::int4"},
				&pgproto3.Bind{ParameterFormatCodes: []int16{1}, Parameters: [][]byte{be64(1)}},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ERROR 22P03; Ready I",
		},
		{
			name: "an unknown format code is 22023",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT 1"},
				&pgproto3.Bind{ResultFormatCodes: []int16{2}},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ERROR 22023; Ready I",
		},
		{
			name: "text that is not UTF-8 is refused",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT $1::text"},
				&pgproto3.Bind{Parameters: [][]byte{{0xff, 0xfe}}},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; ERROR 22021; Ready I",
		},
		{
			name: "a query string that is not UTF-8 is refused",
			send: []pgproto3.FrontendMessage{&pgproto3.Query{String: "SELECT '\xff'"}},
			want: "ERROR 22021; Ready I",
		},
		{
			name: "a negative row limit means no limit",
			send: []pgproto3.FrontendMessage{
				&pgproto3.Parse{Query: "SELECT series(2)"},
				&pgproto3.Bind{},
				&pgproto3.Execute{MaxRows: math.MaxUint32},
				&pgproto3.Sync{},
			},
			want: "ParseComplete; BindComplete; Row 31; Row 32; Complete SELECT 2; Ready I",
		},
		{
			name: "a simple query with a parameter has no parameter $1",
			send: []pgproto3.FrontendMessage{&pgproto3.Query{String: "SELECT $1::int4"}},
			want: "ERROR 42P02; Ready I",
		},
		{
			name: "the function call protocol is refused",
			send: []pgproto3.FrontendMessage{&pgproto3.FunctionCall{Function: 1}},
			want: "ERROR 0A000; Ready I",
		},
		{
			name: "stray COPY messages are ignored",
			send: []pgproto3.FrontendMessage{&pgproto3.CopyDone{}, &pgproto3.Query{String: "SELECT 1"}},
			want: "RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			c.startup()
			c.send(tc.send...)
			got := c.untilReady()
			for strings.Count(got, "Ready") < strings.Count(tc.want, "Ready") {
				got += "; " + c.untilReady()
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			c.send(&pgproto3.Terminate{})
			if rest := c.untilClosed(); rest != "" {
				t.Errorf("after Terminate: %s", rest)
			}
		})
	}
}

func TestBinaryParametersOfEveryType(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	f32 := binary.BigEndian.AppendUint32(nil, math.Float32bits(-1.5))
	f64 := binary.BigEndian.AppendUint64(nil, math.Float64bits(math.Inf(1)))
	ts2000 := be64(-1)                                             // 1999-12-31 23:59:59.999999
	date := binary.BigEndian.AppendUint32(nil, uint32(0xffffffff)) // 1999-12-31
	iv := append(be64(3_600_000_001), 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff)
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(
		&pgproto3.Parse{Query: "SELECT $1::bool, $2::int2, $3::int4, $4::int8, $5::float4, $6::float8, $7::text, $8::varchar(3), $9::timestamp, $10::date, $11::interval"},
		&pgproto3.Bind{
			ParameterFormatCodes: []int16{1},
			Parameters:           [][]byte{{1}, {0xff, 0xfe}, {0, 0, 1, 0}, be64(math.MaxInt64), f32, f64, []byte("héllo"), nil, ts2000, date, iv},
		},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	got := c.untilReady()
	var vals []string
	for _, v := range []string{"t", "-2", "256", "9223372036854775807", "-1.5", "Infinity", "héllo"} {
		vals = append(vals, fmt.Sprintf("%x", v))
	}
	vals = append(vals, "NULL",
		fmt.Sprintf("%x", "1999-12-31 23:59:59.999999"), fmt.Sprintf("%x", "1999-12-31"), fmt.Sprintf("%x", "-1 mons +2 days 01:00:00.000001"))
	want := "BindComplete; Row " + strings.Join(vals, ",") + "; Complete SELECT 1; Ready I"
	if !strings.HasPrefix(got, "ParseComplete; ") || strings.TrimPrefix(got, "ParseComplete; ") != want {
		t.Errorf("got  %s\nwant ParseComplete; %s", got, want)
	}
}

func TestStartupAnswersEncryptionRequestsWithN(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	for _, req := range []pgproto3.FrontendMessage{&pgproto3.SSLRequest{}, &pgproto3.GSSEncRequest{}} {
		t.Run(summary2(req), func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			c.send(req)
			b := make([]byte, 1)
			if _, err := io.ReadFull(c.nc, b); err != nil || b[0] != 'N' {
				t.Fatalf("answer %q, %v; want N", b, err)
			}
			c.startup()
			c.send(&pgproto3.Query{String: "SELECT 1"})
			if got := c.untilReady(); got != "RowDescription ?column?:23:0; Row 31; Complete SELECT 1; Ready I" {
				t.Errorf("got %s", got)
			}
		})
	}
}

func summary2(m pgproto3.FrontendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
}

func TestStartupNegotiatesProtocol30(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := dialRaw(t, ts.addr)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32, Parameters: map[string]string{"user": "u", "_pq_.frob": "1"}})
	msg, err := c.fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	npv, ok := msg.(*pgproto3.NegotiateProtocolVersion)
	if !ok || npv.NewestMinorProtocol != 0 || fmt.Sprint(npv.UnrecognizedOptions) != "[_pq_.frob]" {
		t.Fatalf("got %#v, want NegotiateProtocolVersion 0 [_pq_.frob]", msg)
	}
	if got := c.untilReady(); !strings.HasPrefix(got, "AuthenticationOk; ParameterStatus") || !strings.HasSuffix(got, "BackendKeyData; Ready I") {
		t.Errorf("got %s", got)
	}
}

func TestMalformedMessagesGet08P01AndTheConnectionCloses(t *testing.T) {
	ts := startServer(t, pgwire.Config{MaxMessageSize: 1024})
	tests := []struct {
		name string
		raw  []byte
	}{
		{"an unknown message type", []byte{'z', 0, 0, 0, 4}},
		{"a length below four", []byte{'Q', 0, 0, 0, 3}},
		{"a Bind cut short", []byte{'B', 0, 0, 0, 6, 0, 0}},
		{"a Parse with a bad parameter count", append([]byte{'P', 0, 0, 0, 10, 0, 'x', 0, 0, 9}, 0)},
		{"a message over MaxMessageSize", []byte{'Q', 0, 0, 0x10, 0}},
		{"a password message after startup", []byte{'p', 0, 0, 0, 6, 'x', 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			c.startup()
			if _, err := c.nc.Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			if got := c.untilClosed(); got != "FATAL 08P01" {
				t.Errorf("got %q, want FATAL 08P01 then close", got)
			}
		})
	}
	t.Run("a startup packet that is not one", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.nc.Write([]byte{0, 0, 0, 8, 0, 9, 9, 9})
		if got := c.untilClosed(); got != "FATAL 08P01" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("the server still serves", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.startup()
		c.send(&pgproto3.Query{String: "SELECT 1"})
		if got := c.untilReady(); !strings.HasSuffix(got, "Ready I") {
			t.Errorf("got %s", got)
		}
	})
}

func TestOversizeQueryIsRefused(t *testing.T) {
	ts := startServer(t, pgwire.Config{MaxMessageSize: 1 << 10})
	c := dialRaw(t, ts.addr)
	c.startup()
	c.send(&pgproto3.Query{String: "SELECT '" + strings.Repeat("x", 2000) + "'"})
	msg, err := c.fe.Receive()
	if err != nil {
		t.Fatal(err)
	}
	e, ok := msg.(*pgproto3.ErrorResponse)
	if !ok || e.Code != "08P01" || e.Message != "message of 2010 bytes exceeds the limit of 1024 bytes" {
		t.Fatalf("got %#v", msg)
	}
	if rest := c.untilClosed(); rest != "" {
		t.Errorf("then %s", rest)
	}
}

func TestCancelRequestCancelsOnlyWithTheRightKey(t *testing.T) {
	ts := startServer(t, pgwire.Config{})
	c := dialRaw(t, ts.addr)
	pid, secret := c.startup()
	cancel := func(pid uint32, secret []byte) {
		t.Helper()
		// The server closes a cancel connection, silently, once it has
		// acted on the request.
		cc := dialRaw(t, ts.addr)
		cc.send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret})
		if got := cc.untilClosed(); got != "" {
			t.Errorf("cancel connection got %s, want a silent close", got)
		}
	}

	c.send(&pgproto3.Query{String: "SELECT wait()"})
	<-ts.backend.started
	cancel(pid, []byte{secret[0] ^ 1, secret[1], secret[2], secret[3]})
	cancel(pid+1, secret)
	close(ts.backend.release)
	if got := c.untilReady(); got != "RowDescription wait:23:0; Row 31; Complete SELECT 1; Ready I" {
		t.Errorf("got %s, want the statement to finish despite the wrong keys", got)
	}

	c.send(&pgproto3.Query{String: "SELECT sleep(20000)"})
	<-ts.backend.started
	cancel(pid, secret)
	if got := c.untilReady(); got != "RowDescription sleep:23:0; ERROR 57014; Ready I" {
		t.Errorf("got %s, want 57014", got)
	}
}
