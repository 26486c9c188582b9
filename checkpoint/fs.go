package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sluice-sql/sluice/catalog/sqlerr"
)

// tmpSuffix marks a file being written. A crash can leave one behind; Open
// removes them, and nothing ever reads them.
const tmpSuffix = ".tmp"

// errDamaged marks a file whose content fails its checks (checksum, length,
// trailer, format), as opposed to one that could not be read at all.
var errDamaged = errors.New("damaged")

func damaged(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errDamaged}, args...)...)
}

func corrupted(path string, err error) error {
	return sqlerr.New(sqlerr.DataCorrupted, "checkpoint: %s is corrupt: %w", path, err)
}

func ioError(op string, err error) error {
	return sqlerr.New(sqlerr.IOError, "checkpoint: %s: %w", op, err)
}

// misuse reports a call that breaks the checkpoint's rules (batch order, a
// different plan for a planned batch): the caller's state and the
// checkpoint's disagree.
func misuse(format string, args ...any) error {
	return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "checkpoint: "+format, args...)
}

func errClosed() error {
	return sqlerr.New(sqlerr.ObjectNotInPrerequisiteState, "checkpoint: directory is closed")
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return sqlerr.New(sqlerr.QueryCanceled, "canceling statement: %w", err)
	}
	return nil
}

// writeFileSync writes data to path (created or truncated) and fsyncs it.
func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// replaceFile atomically replaces dir/name with data: it writes
// dir/name.tmp, fsyncs it, renames it over dir/name and fsyncs dir, so a
// crash leaves either the old file or the new one, never a mix.
func replaceFile(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+tmpSuffix)
	if err := writeFileSync(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// syncDir makes renames, creations and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeTemps deletes the temporary files interrupted writes left in dir
// and returns how many there were.
func removeTemps(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), tmpSuffix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, syncDir(dir)
	}
	return 0, nil
}
