package limits

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pair returns a connected TCP pair on 127.0.0.1: the server side wrapped
// by Listener(maxConns, sendTimeout) and the client side.
func pair(t *testing.T, ln net.Listener) (server, client net.Conn) {
	t.Helper()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	select {
	case server = <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted")
	}
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close() })
	return server, client
}

func listen(t *testing.T, maxConns int, sendTimeout time.Duration) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listener(ln, maxConns, sendTimeout)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestWriteToStalledReaderTimesOut(t *testing.T) {
	ln := listen(t, 1, 300*time.Millisecond)
	server, _ := pair(t, ln)
	big := make([]byte, 64<<20) // far more than socket buffers hold
	start := time.Now()
	n, err := server.Write(big)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write to a reader that never reads = %d, %v; want a deadline error", n, err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Write took %s to give up", took)
	}
}

func TestReadFromStalledReaderTimesOut(t *testing.T) {
	ln := listen(t, 1, 300*time.Millisecond)
	server, _ := pair(t, ln)
	f, err := os.CreateTemp(t.TempDir(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	lr := &io.LimitedReader{R: f, N: 48 << 20}
	n, err := server.(io.ReaderFrom).ReadFrom(lr)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom to a reader that never reads = %d, %v; want a deadline error", n, err)
	}
	if lr.N != 48<<20-n {
		t.Errorf("LimitedReader.N = %d after sending %d of %d", lr.N, n, 48<<20)
	}
}

func TestReadFromMovingReaderCompletes(t *testing.T) {
	ln := listen(t, 1, 200*time.Millisecond)
	server, client := pair(t, ln)
	const size = 3 << 20
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, client)
		got <- n
	}()
	lr := &io.LimitedReader{R: strings.NewReader(strings.Repeat("x", size+100)), N: size}
	n, err := server.(io.ReaderFrom).ReadFrom(lr)
	if err != nil || n != size || lr.N != 0 {
		t.Fatalf("ReadFrom = %d, %v (N %d); want %d, nil, 0", n, err, lr.N, size)
	}
	server.Close()
	if n := <-got; n != size {
		t.Errorf("client read %d bytes, want %d", n, size)
	}
}

func TestListenerRejectsOverLimitWhenAllBusy(t *testing.T) {
	ln := listen(t, 2, time.Second)
	first, _ := pair(t, ln)
	second, _ := pair(t, ln)
	first.(*Conn).Enter()
	second.(*Conn).Enter()
	defer second.(*Conn).Leave()
	go func() { _, _ = ln.Accept() }() // keeps accepting (and rejecting)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if line != "HTTP/1.1 503 Service Unavailable\r\n" {
		t.Errorf("third connection got %q, want a 503", line)
	}
	first.(*Conn).Leave()
	// Closing twice frees one place only.
	first.Close()
	first.Close()
	if got := Open(ln); got != 1 {
		t.Errorf("%d places taken after closing one of two, want 1", got)
	}
}

func TestListenerDisplacesOldestIdle(t *testing.T) {
	ln := listen(t, 2, time.Second)
	oldest, oldestClient := pair(t, ln)
	_ = oldest
	time.Sleep(10 * time.Millisecond)
	busy, busyClient := pair(t, ln)
	busy.(*Conn).Enter()
	defer busy.(*Conn).Leave()
	time.Sleep(10 * time.Millisecond)
	newest, newestClient := pair(t, ln) // takes oldest's place
	_ = newest
	if got := Open(ln); got != 2 {
		t.Errorf("%d connections open, want 2", got)
	}
	for name, c := range map[string]net.Conn{"oldest": oldestClient, "busy": busyClient, "newest": newestClient} {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
		if closed != (name == "oldest") {
			t.Errorf("%s connection: read %v, want closed only for the oldest idle one", name, err)
		}
	}
}

func TestShortenSendTimeoutCutsWriteInProgress(t *testing.T) {
	ln := listen(t, 1, time.Hour)
	server, _ := pair(t, ln)
	errc := make(chan error, 1)
	go func() {
		_, err := server.Write(make([]byte, 64<<20))
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond) // the write is stalled
	ShortenSendTimeout(ln, 100*time.Millisecond)
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Write = %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stalled write went on after ShortenSendTimeout")
	}
}

// A client that reads slowly but steadily keeps its connection through
// a write that lasts several send timeouts.
func TestWriteToSlowReaderCompletes(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ln := listen(t, 1, timeout)
	server, client := pair(t, ln)
	_ = server.(*Conn).Conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
	_ = client.(*net.TCPConn).SetReadBuffer(16 << 10)
	const size = 1 << 20
	got := make(chan int64, 1)
	start := time.Now()
	go func() {
		var total int64
		buf := make([]byte, 8<<10)
		for {
			n, err := client.Read(buf)
			total += int64(n)
			if err != nil {
				got <- total
				return
			}
			time.Sleep(5 * time.Millisecond) // ~1.6 MB/s at most
		}
	}()
	n, err := server.Write(make([]byte, size))
	if err != nil || n != size {
		t.Fatalf("Write to a slow reader = %d, %v; want %d, nil", n, err, size)
	}
	server.Close()
	if n := <-got; n != size {
		t.Errorf("client read %d bytes, want %d", n, size)
	}
	if took := time.Since(start); took < 2*timeout {
		t.Errorf("write took %s, want it to outlast the send timeout (%s) to prove anything", took, timeout)
	}
}

// TestWriteDeadlineRenewal checks when a write sets a new deadline: only
// when less than one send timeout is left (or none is set), and then to
// 1.5 send timeouts ahead.
func TestWriteDeadlineRenewal(t *testing.T) {
	const timeout = time.Minute
	tests := []struct {
		name    string
		before  func(c *Conn) // state before the write
		renewed bool
	}{
		{"first write", func(c *Conn) {}, true},
		{"deadline far enough ahead", func(c *Conn) { c.wdl.Store(time.Now().Add(timeout + time.Second).UnixNano()) }, false},
		{"less than a send timeout left", func(c *Conn) { c.wdl.Store(time.Now().Add(timeout - time.Second).UnixNano()) }, true},
		{"deadline cleared by SetWriteDeadline", func(c *Conn) { _ = c.SetWriteDeadline(time.Time{}) }, true},
		{"deadline set far by SetDeadline", func(c *Conn) { _ = c.SetDeadline(time.Now().Add(2 * timeout)) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := listen(t, 1, timeout)
			server, client := pair(t, ln)
			c := server.(*Conn)
			tt.before(c)
			prev := c.wdl.Load()
			start := time.Now()
			if _, err := c.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1)
			if _, err := io.ReadFull(client, buf); err != nil {
				t.Fatal(err)
			}
			got := c.wdl.Load()
			if renewed := got != prev; renewed != tt.renewed {
				t.Fatalf("renewed = %v, want %v (deadline before %v, after %v)", renewed, tt.renewed, time.Unix(0, prev), time.Unix(0, got))
			}
			if lo := start.Add(timeout).UnixNano(); got < lo {
				t.Errorf("deadline after the write is %v, less than one send timeout after the write started", time.Unix(0, got))
			}
			if tt.renewed {
				if hi := time.Now().Add(timeout + timeout/2).UnixNano(); got > hi {
					t.Errorf("renewed deadline %v is more than 1.5 send timeouts ahead", time.Unix(0, got))
				}
			}
		})
	}
}
