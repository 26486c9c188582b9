package pgwire_test

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// openPTY opens a pseudo-terminal: a program given tty as its stdout sees
// a terminal (and line-buffers its output), and what it writes is read
// from pt. Output processing is off, so newlines stay newlines.
func openPTY() (pt, tty *os.File, err error) {
	pt, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			pt.Close()
			if tty != nil {
				tty.Close()
			}
		}
	}()
	var unlock int32
	if err := ioctl(pt, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return nil, nil, fmt.Errorf("unlocking the terminal: %w", err)
	}
	var n uint32
	if err := ioctl(pt, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return nil, nil, fmt.Errorf("numbering the terminal: %w", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var t syscall.Termios
	if err := ioctl(tty, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		return nil, nil, fmt.Errorf("reading the terminal's settings: %w", err)
	}
	t.Oflag &^= syscall.OPOST
	if err := ioctl(tty, syscall.TCSETS, unsafe.Pointer(&t)); err != nil {
		return nil, nil, fmt.Errorf("setting the terminal's settings: %w", err)
	}
	return pt, tty, nil
}

// ioctl runs an ioctl on f without taking f out of Go's poller (as Fd
// would), so that closing f interrupts a Read.
func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
