// Package httpdate keeps the HTTP Date header value of the current second,
// so that a response does not format the time again: net/http formats
// Date for every response that has none, and at tens of thousands of
// responses per second that is a measurable share of a small response's
// cost.
package httpdate

import (
	"net/http"
	"sync/atomic"
	"time"
)

type stamp struct {
	sec int64
	v   []string
}

var current atomic.Pointer[stamp]

// Value returns the Date header value for now, as a one-element slice to
// be put in an http.Header directly. The slice is shared by every caller
// within the same second and must not be modified; its capacity is 1, so
// an append (Header.Add) copies it instead.
func Value(now time.Time) []string {
	sec := now.Unix()
	if s := current.Load(); s != nil && s.sec == sec {
		return s.v
	}
	s := &stamp{sec: sec, v: []string{now.UTC().Format(http.TimeFormat)}}
	current.Store(s)
	return s.v
}

// Set sets h's Date to now's value (see Value).
func Set(h http.Header, now time.Time) {
	h["Date"] = Value(now)
}
