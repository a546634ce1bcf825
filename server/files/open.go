package files

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned by OpenRegular for anything but a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens name inside root for reading and returns it with its
// FileInfo, or an error wrapping ErrNotRegular if what it opened is not a
// regular file. It is safe whatever is at name at any moment: the open
// uses O_NONBLOCK, so a FIFO or device swapped in after an earlier Stat
// cannot block it, and the check is made on the opened descriptor.
// O_NONBLOCK has no effect on reading regular files.
//
// Every open of a file to serve goes through this function.
func OpenRegular(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("open %s: %w (%s)", name, ErrNotRegular, fi.Mode().Type())
	}
	return f, fi, nil
}

// RootAlive reports whether root's directory can still be listed: it
// fails once the directory was removed (or replaced: root keeps the old
// one) or became unreadable.
func RootAlive(root *os.Root) error {
	d, err := root.OpenFile(".", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open served directory: %w", err)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return fmt.Errorf("stat served directory: %w", err)
	}
	if removed(fi) {
		return errors.New("served directory was removed")
	}
	if _, err := d.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read served directory: %w", err)
	}
	return nil
}
