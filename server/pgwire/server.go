package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// ErrServerClosed is returned by Serve once Shutdown has begun.
var ErrServerClosed = errors.New("pgwire: server closed")

// Causes of a cancelled statement or connection context.
var (
	errCancelRequested = errors.New("canceled by a cancel request")
	errServerStopping  = errors.New("server is stopping")
	errStartupTimeout  = errors.New("startup timed out")
)

// Server serves the PostgreSQL wire protocol on listeners, one goroutine
// per connection, with a Backend behind it. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger

	mu        sync.Mutex
	closing   bool // Shutdown has begun
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	byPID     map[uint32]*conn // connections with a session, for CancelRequest
	connWG    sync.WaitGroup   // one per entry in conns
}

// NewServer returns a Server for b configured by cfg.
func NewServer(cfg Config, b Backend) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("pgwire: nil backend")
	}
	cfg = cfg.withDefaults()
	return &Server{
		cfg:       cfg,
		backend:   b,
		log:       cfg.Logger,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		byPID:     make(map[uint32]*conn),
	}, nil
}

// Serve accepts connections on ln and serves each on its own goroutine.
// It returns ErrServerClosed once Shutdown has closed ln. When ctx is
// done it closes ln and the connections it accepted (no goodbye message,
// running statements are cancelled), waits for their goroutines and
// returns ctx.Err(). Any other accept error is returned as is, leaving the
// accepted connections to finish (Shutdown ends them).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()

	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var served sync.WaitGroup // connections accepted here
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				served.Wait()
				return ctx.Err()
			}
			if s.isClosing() {
				return ErrServerClosed
			}
			if isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("pgwire: accept failed; retrying", "err", err, "delay", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				continue
			}
			return fmt.Errorf("pgwire: accept: %w", err)
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			continue
		}
		served.Add(1)
		stopWatch := context.AfterFunc(ctx, func() { c.forceClose(errServerStopping) })
		go func() {
			defer served.Done()
			defer s.untrack(c)
			defer stopWatch()
			c.serve()
		}()
	}
}

// isTemporary reports whether an accept error may go away by itself.
func isTemporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// Shutdown stops the server gracefully: it closes every listener (Serve
// returns ErrServerClosed), closes idle connections at once with an
// ErrorResponse 57P01, and lets a connection that is running a statement
// or an extended-protocol exchange finish it and send ReadyForQuery before
// closing it the same way. A COPY to the client, a live feed that would
// not finish, is cancelled and its connection closed with 57P01 at once.
// It returns nil once every connection is gone. If ctx ends first, it
// cancels the running statements, closes the remaining connections and
// returns ctx's error without waiting further for a Backend that ignores
// cancellation.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.drain()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.forceClose(errServerStopping)
		}
		s.mu.Unlock()
		return fmt.Errorf("pgwire: shutdown: %w", ctx.Err())
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// track registers a new connection; false once Shutdown has begun.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.pid != 0 && s.byPID[c.pid] == c {
		delete(s.byPID, c.pid)
	}
	s.mu.Unlock()
	s.connWG.Done()
}

// register gives c a process ID and secret key, unique among live
// connections, for BackendKeyData and CancelRequest.
func (s *Server) register(c *conn) error {
	var key [8]byte
	for {
		if _, err := rand.Read(key[:]); err != nil {
			return fmt.Errorf("pgwire: backend key: %w", err)
		}
		// A positive int32, as clients print it as a process ID.
		pid := binary.BigEndian.Uint32(key[:4]) & 0x7fffffff
		if pid == 0 {
			continue
		}
		s.mu.Lock()
		_, taken := s.byPID[pid]
		if !taken {
			c.pid, c.secret = pid, append([]byte(nil), key[4:]...)
			s.byPID[pid] = c
		}
		s.mu.Unlock()
		if !taken {
			return nil
		}
	}
}

// cancelRequest cancels the running statement of the session with this
// process ID and secret key, if any. As in PostgreSQL, a request that
// matches nothing is silently ignored.
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, secret) != 1 {
		s.log.Debug("pgwire: cancel request matches no session", "pid", pid)
		return
	}
	c.cancelStatement(errCancelRequested)
}
