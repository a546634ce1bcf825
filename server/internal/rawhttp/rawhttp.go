// Package rawhttp sends HTTP/1.1 requests with the request target written
// verbatim on the request line, for tests that need paths no client would
// send: Go's http.Client cleans and escapes the path first.
package rawhttp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Get dials addr, writes "GET <target> HTTP/1.1" and returns the response's
// status code and body. The dial and the whole exchange must each finish
// within timeout; any failure ends the test.
func Get(t testing.TB, addr, target string, timeout time.Duration) (status int, body string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading response to %q: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Result is what Do read back.
type Result struct {
	Status int
	Header http.Header
	Body   string
	// Closed reports that the server closed the connection after the
	// response (rather than sending more or keeping it open).
	Closed bool
}

// Do dials addr, writes request verbatim (it must be complete, CRLFs
// included), reads one response and then checks whether the server closes
// the connection within timeout. Any other failure ends the test.
func Do(t testing.TB, addr, request string, timeout time.Duration) Result {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response to %q: %v", request, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = br.ReadByte()
	closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
	return Result{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Closed: closed}
}
