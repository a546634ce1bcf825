// Package limits bounds what clients can hold on to: the number of open
// connections, and how long a write to a client may make no progress.
package limits

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// rejectResponse is written to connections over the limit.
const rejectResponse = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 20\r\n\r\n" +
	"too many connections"

// rejectTimeout bounds writing rejectResponse to a fresh connection.
const rejectTimeout = 100 * time.Millisecond

// Listener wraps ln so that at most maxConns accepted connections are
// open at once, and every write to a connection must make progress within
// sendTimeout.
//
// When all places are taken, a new connection takes the place of the
// oldest one that is not busy (see Conn.Enter): one still sending its request
// headers (slowloris) or idle between keep-alive requests. Only when every
// connection is busy is the new one answered 503 and closed at once, so
// clients fail fast instead of queueing unseen in the kernel's backlog.
// Connections busy for long are bounded by the send timeout.
func Listener(ln net.Listener, maxConns int, sendTimeout time.Duration) net.Listener {
	l := &listener{Listener: ln, max: maxConns, open: map[*Conn]struct{}{}}
	l.sendTimeout.Store(int64(sendTimeout))
	return l
}

type listener struct {
	net.Listener
	max         int
	sendTimeout atomic.Int64 // time.Duration

	mu   sync.Mutex
	open map[*Conn]struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &Conn{Conn: nc, l: l, idleSince: time.Now()}
		setUserTimeout(nc, time.Duration(l.sendTimeout.Load()))
		l.mu.Lock()
		var victim *Conn
		if len(l.open) >= l.max {
			victim = l.oldestIdleLocked()
			if victim != nil {
				delete(l.open, victim)
			}
		}
		admitted := len(l.open) < l.max
		if admitted {
			l.open[c] = struct{}{}
		}
		l.mu.Unlock()
		if victim != nil {
			_ = victim.Conn.Close() // its server goroutine sees the error and closes it too
		}
		if admitted {
			return c, nil
		}
		_ = nc.SetWriteDeadline(time.Now().Add(rejectTimeout))
		_, _ = io.WriteString(nc, rejectResponse)
		_ = nc.Close()
	}
}

// oldestIdleLocked returns the open connection that has not been busy for
// the longest time, or nil if all are busy. l.mu is held.
func (l *listener) oldestIdleLocked() *Conn {
	var oldest *Conn
	for c := range l.open {
		if c.busy > 0 {
			continue
		}
		if oldest == nil || c.idleSince.Before(oldest.idleSince) {
			oldest = c
		}
	}
	return oldest
}

// Open returns how many connections ln (made by Listener) holds open.
func Open(ln net.Listener) int {
	l, ok := ln.(*listener)
	if !ok {
		return -1
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open)
}

// Enter marks c (a connection from Listener, e.g. from
// http.Server.ConnContext) as serving a request until the matching Leave:
// it cannot be displaced meanwhile.
func (c *Conn) Enter() {
	c.l.mu.Lock()
	c.busy++
	c.l.mu.Unlock()
}

// Leave ends what Enter started; c is idle from now on if no other
// request is being served on it.
func (c *Conn) Leave() {
	c.l.mu.Lock()
	c.busy--
	if c.busy == 0 {
		c.idleSince = time.Now()
	}
	c.l.mu.Unlock()
}

// Conn is a connection whose writes must make progress within a send
// timeout. It keeps *net.TCPConn's sendfile path (ReadFrom) and half-close
// (CloseWrite).
//
// Each Write or ReadFrom is made in one call to the underlying connection,
// so a file goes out with as few sendfile calls as the kernel allows. Two
// clocks bound a client that stops reading:
//   - on Linux, the kernel's TCP_USER_TIMEOUT, set to the send timeout on
//     every accepted TCP connection: the kernel aborts the connection (the
//     write fails with ETIMEDOUT, reported as os.ErrDeadlineExceeded) once
//     sent data stays unacknowledged, or the peer's window stays zero, for
//     that long; a reader that keeps reading is never cut;
//   - everywhere, a write deadline at least one send timeout ahead when a
//     write starts, renewed whenever it passes while the write is still
//     moving (some bytes accepted since it was set). Without the kernel's
//     help a stalled reader is thus cut between one and two send timeouts
//     after its last read. The deadline is set to 1.5 send timeouts ahead
//     and renewed only once less than one is left, so most writes do not
//     touch the runtime's timers (a deadline per write cost about 1.5 % of
//     a small response).
type Conn struct {
	net.Conn
	l    *listener
	once sync.Once
	// wdl is the write deadline last set by Write or ReadFrom, in
	// nanoseconds since the Unix epoch (0: none).
	wdl atomic.Int64

	// guarded by l.mu
	busy      int
	idleSince time.Time
}

// ShortenSendTimeout lowers the send timeout of ln (made by Listener) to d
// if d is shorter, for the writes in progress too. At shutdown it makes
// stalled readers go before the grace period ends, while clients that
// keep reading carry on.
func ShortenSendTimeout(ln net.Listener, d time.Duration) {
	l, ok := ln.(*listener)
	if !ok || time.Duration(l.sendTimeout.Load()) <= d {
		return
	}
	l.sendTimeout.Store(int64(d))
	l.mu.Lock()
	defer l.mu.Unlock()
	deadline := time.Now().Add(d)
	for c := range l.open {
		// The kernel's timeout applies to stalls from now on; a write in
		// progress also gets the new deadline, renewed while it moves.
		setUserTimeout(c.Conn, d)
		_ = c.Conn.SetWriteDeadline(deadline)
		c.wdl.Store(deadline.UnixNano())
	}
}

func (c *Conn) timeout() time.Duration { return time.Duration(c.l.sendTimeout.Load()) }

// armWrite makes sure the write deadline is at least one send timeout
// ahead (see Conn); renew forces a new one.
func (c *Conn) armWrite(renew bool) error {
	now := time.Now()
	t := c.timeout()
	if !renew && c.wdl.Load()-now.UnixNano() >= int64(t) {
		return nil
	}
	d := now.Add(t + t/2)
	if err := c.Conn.SetWriteDeadline(d); err != nil {
		return err
	}
	c.wdl.Store(d.UnixNano())
	return nil
}

// SetWriteDeadline sets the underlying connection's write deadline; the
// send timeout's renewals start from it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.noteWriteDeadline(t)
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets the underlying connection's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.noteWriteDeadline(t)
	return c.Conn.SetDeadline(t)
}

func (c *Conn) noteWriteDeadline(t time.Time) {
	if t.IsZero() {
		c.wdl.Store(0)
	} else {
		c.wdl.Store(t.UnixNano())
	}
}

// Write writes p under the send timeout (see Conn).
func (c *Conn) Write(p []byte) (int, error) {
	var n int
	for renew := false; ; renew = true {
		if err := c.armWrite(renew); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(p[n:])
		n += m
		if err == nil || !c.moved(int64(m), err) {
			return n, stalled(err)
		}
	}
}

// ReadFrom copies from r under the send timeout (see Conn), using the
// underlying connection's ReadFrom (sendfile for files) when it has one,
// so that a file goes out in as few system calls as the kernel allows.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{c}, r)
	}
	var total int64
	for renew := false; ; renew = true {
		if err := c.armWrite(renew); err != nil {
			return total, err
		}
		// A file's offset (and an *io.LimitedReader's N) follow what was
		// sent, so calling again after a timeout carries on where it
		// stopped.
		m, err := rf.ReadFrom(r)
		total += m
		if err == nil || !c.moved(m, err) {
			return total, stalled(err)
		}
	}
}

// moved reports whether a write that ended with err after sending m bytes
// should go on: its deadline passed while it was still making progress.
// Otherwise err is final; if the client stalled, the coming Close resets
// the connection, so the kernel drops the unsent data at once instead of
// keeping the orphaned socket's buffers for a reader that does not read.
func (c *Conn) moved(m int64, err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) && m > 0 {
		return true
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		if l, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
			_ = l.SetLinger(0)
		}
	}
	return false
}

// stalled returns err, marked as a passed deadline (os.ErrDeadlineExceeded)
// if it is the kernel's send timeout (ETIMEDOUT), so callers see one error
// for "the client made no progress" whichever clock noticed first.
func stalled(err error) error {
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, syscall.ETIMEDOUT) {
		return err
	}
	return stallError{err}
}

type stallError struct{ err error }

func (e stallError) Error() string   { return e.err.Error() }
func (e stallError) Unwrap() []error { return []error{e.err, os.ErrDeadlineExceeded} }
func (e stallError) Timeout() bool   { return true }

// CloseWrite half-closes the connection if the underlying one can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Close closes the connection and frees its place under the limit.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.mu.Unlock()
	})
	return err
}

type writerOnly struct{ io.Writer }
