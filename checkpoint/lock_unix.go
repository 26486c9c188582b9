//go:build unix

package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// lockDir takes an exclusive advisory lock on dir/LOCK, so two Dirs (in one
// process or two) never write the same checkpoint.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, ioError("open lock file", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "checkpoint: %s is in use by another process or stream", dir)
		}
		return nil, ioError("lock checkpoint directory", err)
	}
	return f, nil
}

// unlockDir releases the lock taken by lockDir.
func unlockDir(f *os.File) { _ = f.Close() }
