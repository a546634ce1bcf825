package specfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzReadKeyValues reads arbitrary env/labels/annotations files. It must not
// panic; errors name the field, file and a line; every accepted entry is
// one an image config can carry as written, and writing the entries back
// out reads back the same.
func FuzzReadKeyValues(f *testing.F) {
	f.Add([]byte("B=2\n\nA=x=y\r\nEMPTY=\n"))
	f.Add([]byte("A B=1\n"))
	f.Add([]byte("A=x\x00y\n"))
	f.Add([]byte("org.opencontainers.image.title=\xff\n"))
	f.Add([]byte("=x\nnovalue\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "env.txt")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		kvs, err := ReadKeyValues("env", p)
		if err != nil {
			if !strings.HasPrefix(err.Error(), `"env": `+p+":") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error does not name field, file and line on one line: %q", err)
			}
			return
		}
		var b strings.Builder
		for _, kv := range kvs {
			if kv.Key == "" || strings.ContainsAny(kv.Key, "=\x00") || strings.ContainsRune(kv.Value, 0) || !utf8.ValidString(kv.Key+kv.Value) {
				t.Errorf("accepted %q=%q", kv.Key, kv.Value)
			}
			for _, r := range kv.Key {
				if unicode.IsSpace(r) || unicode.IsControl(r) {
					t.Errorf("accepted key %q", kv.Key)
				}
			}
			if strings.ContainsAny(kv.Value, "\n") {
				t.Errorf("accepted a value with a newline: %q", kv.Value)
			}
			b.WriteString(kv.Key + "=" + kv.Value + "\n")
		}
		p2 := filepath.Join(t.TempDir(), "again.txt")
		os.WriteFile(p2, []byte(b.String()), 0o644)
		again, err := ReadKeyValues("env", p2)
		if err != nil {
			t.Fatalf("written back, it fails: %v", err)
		}
		if len(again) != len(kvs) {
			t.Fatalf("written back, %d entries, want %d", len(again), len(kvs))
		}
		for i := range kvs {
			if again[i] != kvs[i] {
				t.Errorf("written back, entry %d is %q, want %q", i, again[i], kvs[i])
			}
		}
	})
}
