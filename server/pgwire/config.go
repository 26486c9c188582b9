package pgwire

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config fields left zero.
const (
	DefaultMaxMessageSize = 8 << 20 // 8 MiB
	DefaultStartupTimeout = time.Minute
	DefaultServerVersion  = "15.0"
	defaultWriteBufSize   = 32 << 10
)

// Config configures a Server. The zero value is ready to use: every zero
// field takes its documented default.
type Config struct {
	// MaxMessageSize bounds the body of one client message, in bytes. A
	// larger message is refused with an ErrorResponse (SQLSTATE 08P01) and
	// the connection is closed, before its body is read. It bounds the
	// memory a client can make a connection hold: with 200 connections
	// the default allows at most 1.6 GB of pending messages. The largest
	// thing a client sends is one query string or one Bind with its
	// parameters; 8 MiB holds a multi-row INSERT of some ten thousand rows.
	// Default DefaultMaxMessageSize (8 MiB); must not be negative.
	MaxMessageSize int

	// StartupTimeout bounds the time from accepting a connection to
	// receiving its startup message (after any SSLRequest). Default
	// DefaultStartupTimeout (one minute, PostgreSQL's
	// authentication_timeout); must not be negative.
	StartupTimeout time.Duration

	// ServerVersion is reported in the server_version parameter. Clients
	// parse its leading number (psql's and pgx's feature checks), so it
	// should start with a PostgreSQL version Sluice resembles.
	// Default DefaultServerVersion ("15.0").
	ServerVersion string

	// Logger receives connection events (debug), protocol errors and
	// recovered panics (error). Default: no logging.
	Logger *slog.Logger
}

// Validate reports whether c is usable.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxMessageSize < 0 {
		errs = append(errs, fmt.Errorf("max message size %d is negative", c.MaxMessageSize))
	}
	if c.StartupTimeout < 0 {
		errs = append(errs, fmt.Errorf("startup timeout %s is negative", c.StartupTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgwire: invalid config: %w", err)
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.StartupTimeout == 0 {
		c.StartupTimeout = DefaultStartupTimeout
	}
	if c.ServerVersion == "" {
		c.ServerVersion = DefaultServerVersion
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
