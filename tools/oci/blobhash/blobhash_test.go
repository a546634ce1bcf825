package blobhash

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
	}{
		{"nothing", nil},
		{"one write", []string{"hello"}},
		{"several writes", []string{"he", "", "llo, ", "world"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New()
			for _, p := range tt.pieces {
				if _, err := io.WriteString(w, p); err != nil {
					t.Fatal(err)
				}
			}
			all := strings.Join(tt.pieces, "")
			want := []string{fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(all))), fmt.Sprint(len(all))}
			got := []string{w.Digest().String(), fmt.Sprint(w.Size())}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("digest and size (-want +got):\n%s", diff)
			}
			w.Reset()
			if diff := cmp.Diff([]string{fmt.Sprintf("sha256:%x", sha256.Sum256(nil)), "0"}, []string{w.Digest().String(), fmt.Sprint(w.Size())}); diff != "" {
				t.Errorf("after Reset (-want +got):\n%s", diff)
			}
		})
	}
}
