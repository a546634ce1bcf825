package limits

import (
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func userTimeout(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	raw, err := c.(*Conn).Conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ms int
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		ms, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT)
	}); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatalf("getsockopt TCP_USER_TIMEOUT: %v", gerr)
	}
	return time.Duration(ms) * time.Millisecond
}

func TestUserTimeoutFollowsSendTimeout(t *testing.T) {
	ln := listen(t, 2, 1500*time.Millisecond)
	server, _ := pair(t, ln)
	if got := userTimeout(t, server); got != 1500*time.Millisecond {
		t.Errorf("TCP_USER_TIMEOUT of an accepted connection = %s, want the 1.5s send timeout", got)
	}
	ShortenSendTimeout(ln, 300*time.Millisecond)
	if got := userTimeout(t, server); got != 300*time.Millisecond {
		t.Errorf("TCP_USER_TIMEOUT after ShortenSendTimeout = %s, want 300ms", got)
	}
	later, _ := pair(t, ln)
	if got := userTimeout(t, later); got != 300*time.Millisecond {
		t.Errorf("TCP_USER_TIMEOUT of a connection accepted after ShortenSendTimeout = %s, want 300ms", got)
	}
}
