package limits

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout makes the kernel abort c (a TCP connection) once data it
// sent stays unacknowledged, or the peer keeps a zero window, for longer
// than d (TCP_USER_TIMEOUT; zero-window probes count since Linux 5.x): a
// client that stops reading is cut at no cost per write. Other
// connections are left alone; the write deadlines of Conn still apply.
func setUserTimeout(c net.Conn, d time.Duration) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	ms := max(int(d.Milliseconds()), 1)
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
	})
}
