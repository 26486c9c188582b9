//go:build unix

package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// lockDir takes an exclusive advisory lock on dir/LOCK, so two catalogs
// (in one process or two) never write the same directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, sqlerr.New(sqlerr.IOError, "catalog: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, sqlerr.New(sqlerr.IOError, "catalog: data directory %s is in use by another catalog", dir)
		}
		return nil, sqlerr.New(sqlerr.IOError, "catalog: lock data directory: %w", err)
	}
	return f, nil
}

// unlockDir releases the lock taken by lockDir.
func unlockDir(f *os.File) { _ = f.Close() }
