//go:build !unix

package checkpoint

import (
	"os"
	"path/filepath"
)

// lockDir only creates dir/LOCK on platforms without flock: there, keeping
// two writers off one checkpoint is the operator's job.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, ioError("open lock file", err)
	}
	return f, nil
}

// unlockDir releases the file opened by lockDir.
func unlockDir(f *os.File) { _ = f.Close() }
