//go:build !unix

package catalog

import (
	"os"
	"path/filepath"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// lockDir only creates dir/LOCK on platforms without flock: there, keeping
// two catalogs off one directory is the operator's job.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, sqlerr.New(sqlerr.IOError, "catalog: open lock file: %w", err)
	}
	return f, nil
}

// unlockDir releases the file opened by lockDir.
func unlockDir(f *os.File) { _ = f.Close() }
