package main

import "testing"

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"123", 123, true},
		{"10K", 10 << 10, true},
		{"512m", 512 << 20, true},
		{"50G", 50 << 30, true},
		{"1T", 1 << 40, true},
		{"", 0, false},
		{"G", 0, false},
		{"-5G", 0, false},
		{"0", 0, false},
		{"1.5G", 0, false},
		{"10X", 0, false},
		{"99999999999T", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
