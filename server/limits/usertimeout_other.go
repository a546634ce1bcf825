//go:build !linux

package limits

import (
	"net"
	"time"
)

// setUserTimeout does nothing outside Linux: the write deadlines of Conn
// alone bound a stalled client there.
func setUserTimeout(net.Conn, time.Duration) {}
