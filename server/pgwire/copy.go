package pgwire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// errClientLeft cancels a COPY to a client that sent Terminate, closed or
// broke its connection, or broke the protocol.
var errClientLeft = errors.New("the client left during COPY")

// copyOut runs a COPY to the client over res, p's result: CopyOutResponse,
// one CopyData per row, flushed after each batch, and CopyDone; p is then
// done, with res's tag, and the caller sends CommandComplete. An error is
// returned for the caller to send, except errConnDone: the client left,
// or the server is stopping (57P01 has been sent); the connection ends.
//
// While the copy runs, a watcher goroutine reads what the client sends
// (see watchClient).
func (c *conn) copyOut(ctx context.Context, p *portal, res CopyOutResult) error {
	if len(p.fields) > 0 {
		return sqlerr.New(sqlerr.InternalError, "a statement with a COPY result describes %d columns, want none", len(p.fields))
	}
	fields := res.CopyFields()
	c.be.Send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: make([]uint16, len(fields))})
	if err := c.flush(); err != nil {
		return err
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	err := c.watchedCopy(ctx, cancel, p, res, fields)
	if err == nil {
		c.be.Send(&pgproto3.CopyDone{})
		return nil
	}
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errClientLeft):
			// Nothing more to tell a client that left, but a FATAL for
			// one that broke the protocol.
			if rerr := c.readErr; rerr != nil {
				c.readErr = nil
				c.receiveFailed(rerr)
			} else {
				c.log.Debug("pgwire: client left during COPY")
			}
			return fmt.Errorf("%w: %w", errConnDone, cause)
		case errors.Is(cause, errServerStopping):
			c.sendFatal(sqlerr.New(sqlerr.AdminShutdown, "terminating connection due to administrator command"))
			return fmt.Errorf("%w: %w", errConnDone, cause)
		}
	}
	return err
}

// watchedCopy runs copyRows with a watcher goroutine, which it stops
// even if the Backend panics.
func (c *conn) watchedCopy(ctx context.Context, cancel context.CancelCauseFunc, p *portal, res CopyOutResult, fields []Field) error {
	c.setCopying(true)
	w := c.watchClient(cancel)
	defer func() {
		c.setCopying(false)
		c.stopWatching(w)
	}()
	return c.copyRows(ctx, p, res, fields)
}

// copyRows sends res's rows as CopyData until res ends, then closes it.
func (c *conn) copyRows(ctx context.Context, p *portal, res CopyOutResult, fields []Field) error {
	formats := make([]int16, len(fields)) // all text
	for {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		rec, err := res.Next(ctx)
		if err != nil {
			return err
		}
		if rec == nil {
			p.done, p.tag = true, res.Tag()
			err := res.Close()
			p.res = nil
			return err
		}
		n := int(rec.NumRows())
		if n == 0 {
			continue
		}
		if err := c.enc.encode(rec, 0, n, fields, formats); err != nil {
			return sqlerr.Wrap(sqlerr.InternalError, err)
		}
		if err := c.writeRaw(func(w *bufio.Writer) error { return c.enc.writeCopyRows(w, n) }); err != nil {
			return err
		}
		// The rows of a live feed are due now.
		if err := c.flush(); err != nil {
			return err
		}
	}
}

// setCopying marks a COPY to the client as running or not. A COPY that
// starts after Shutdown has begun is cancelled at once, as drain cancels
// one that runs.
func (c *conn) setCopying(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.copying = on
	if on && c.draining && c.stmtCancel != nil {
		c.stmtCancel(errServerStopping)
	}
}

// queued is a message the client sent during a COPY to it: a copy, and
// its size on the wire.
type queued struct {
	msg  pgproto3.FrontendMessage
	size int
}

// copyWatch is the watcher goroutine of one COPY to the client.
type copyWatch struct {
	stop atomic.Bool
	done chan struct{} // closed when the goroutine has returned

	// Owned by the goroutine until done is closed.
	pending []queued
	err     error
}

// watchClient starts a goroutine that reads the client's messages while a
// COPY to it runs, so that a client that leaves ends a feed that may wait
// a long time for rows: Terminate, a closed or broken socket or a protocol
// violation cancel the copy with errClientLeft. Other messages are kept,
// copied, for the connection to serve after the copy, as PostgreSQL leaves
// them unread until then (a client may pipeline Sync after Execute, or its
// next query). Up to Config.MaxMessageSize bytes are kept; beyond that the
// watcher stops reading, leaving the client to TCP's flow control, and a
// client that leaves is noticed only when a write fails.
//
// The goroutine owns c.rd until stopWatching returns.
func (c *conn) watchClient(cancel context.CancelCauseFunc) *copyWatch {
	w := &copyWatch{done: make(chan struct{})}
	if c.readErr != nil || (len(c.pending) > 0 && isTerminate(c.pending[len(c.pending)-1].msg)) {
		// The client left during an earlier COPY of this query.
		cancel(errClientLeft)
		close(w.done)
		return w
	}
	budget := c.srv.cfg.MaxMessageSize
	for _, q := range c.pending {
		budget -= q.size
	}
	go func() {
		defer close(w.done)
		defer func() {
			if r := recover(); r != nil {
				w.err = fmt.Errorf("panic reading a message: %v", r)
				cancel(errClientLeft)
			}
		}()
		for budget > 0 && !w.stop.Load() {
			msg, err := c.rd.Receive()
			if err != nil {
				if !w.stop.Load() || !errors.Is(err, os.ErrDeadlineExceeded) {
					w.err = err
					cancel(errClientLeft)
				}
				return
			}
			q, err := cloneMessage(msg)
			if err != nil {
				w.err = err
				cancel(errClientLeft)
				return
			}
			w.pending = append(w.pending, q)
			if isTerminate(q.msg) {
				cancel(errClientLeft)
				return
			}
			budget -= q.size
		}
	}()
	return w
}

// stopWatching stops w's goroutine, interrupting its read, and takes over
// what it read. A message the read had begun stays half-read in c.rd, to be
// finished by the connection's next read.
func (c *conn) stopWatching(w *copyWatch) {
	w.stop.Store(true)
	c.nc.SetReadDeadline(time.Now())
	<-w.done
	c.nc.SetReadDeadline(time.Time{})
	c.pending = append(c.pending, w.pending...)
	if w.err != nil {
		c.readErr = w.err
	}
}

func isTerminate(msg pgproto3.FrontendMessage) bool {
	_, ok := msg.(*pgproto3.Terminate)
	return ok
}

// cloneMessage copies msg, which pgproto3 reuses at its next Receive, by
// encoding it and decoding the bytes into a new message of its type.
func cloneMessage(msg pgproto3.FrontendMessage) (queued, error) {
	buf, err := msg.Encode(nil)
	if err != nil {
		return queued{}, fmt.Errorf("copying a %T: %w", msg, err)
	}
	clone := reflect.New(reflect.TypeOf(msg).Elem()).Interface().(pgproto3.FrontendMessage)
	// Every message received after startup has a 5-byte header: its type
	// and its length.
	if err := clone.Decode(buf[5:]); err != nil {
		return queued{}, fmt.Errorf("copying a %T: %w", msg, err)
	}
	return queued{msg: clone, size: len(buf)}, nil
}
