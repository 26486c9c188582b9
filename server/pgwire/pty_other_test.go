//go:build !linux

package pgwire_test

import (
	"errors"
	"os"
)

// openPTY is implemented on Linux only; elsewhere tests that need a
// terminal skip.
func openPTY() (pt, tty *os.File, err error) {
	return nil, nil, errors.ErrUnsupported
}
