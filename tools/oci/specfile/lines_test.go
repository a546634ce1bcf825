package specfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"latest", []string{"latest"}},
		{"a\n\n b \r\nc\n", []string{"a", "b", "c"}},
	} {
		got, err := ReadLines("remote_tags", write(t, tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ReadLines(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
	for _, bad := range []string{"a\nb\x00c\n", "a\n\xffb\n"} {
		p := write(t, bad)
		if _, err := ReadLines("repo_tags", p); err == nil || !strings.HasPrefix(err.Error(), "repo_tags: "+p+":2: ") {
			t.Errorf("ReadLines(%q) error = %v, want it to name the field, file and line 2", bad, err)
		}
	}
	if _, err := ReadLines("remote_tags", "/nonexistent/tags"); err == nil || !strings.Contains(err.Error(), "remote_tags: open /nonexistent/tags") {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadKeyValues(t *testing.T) {
	got, err := ReadKeyValues("env", write(t, "B=2\n\nA=x=y\r\nEMPTY=\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyValue{{"B", "2"}, {"A", "x=y"}, {"EMPTY", ""}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"novalue\n", "=x\n", "A B=1\n", "A=x\x00y\n", "A\x00=1\n", "A=\xff\n", "A\tB=1\n"} {
		p := write(t, bad)
		if _, err := ReadKeyValues("labels", p); err == nil || !strings.Contains(err.Error(), `"labels": `+p+":1:") {
			t.Errorf("ReadKeyValues(%q) error = %v, want it to name the field, file and line", bad, err)
		}
	}
}
