package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func layout(t *testing.T, indexJSON string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(indexJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCommand(t *testing.T) {
	dir := layout(t, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"`+digest+`","size":1}]}`)
	for _, tc := range []struct {
		name string
		verb string
		args []string
		want []string
	}{
		{"attribute only", "sign", []string{"--repository", "r.example/a"}, []string{"sign", "r.example/a@" + digest}},
		{"flag overrides attribute", "sign", []string{"--repository", "r.example/a", "--repository=r.example/b"}, []string{"sign", "r.example/b@" + digest}},
		{"last flag wins", "sign", []string{"--repository=r.example/b", "--repository", "r.example/c"}, []string{"sign", "r.example/c@" + digest}},
		{"other arguments go to cosign in order", "sign", []string{"--key", "k", "--repository=r.example/b", "-y", "--tlog-upload=false"},
			[]string{"sign", "r.example/b@" + digest, "--key", "k", "-y", "--tlog-upload=false"}},
		{"attest keeps predicate and type first", "attest", []string{"--predicate", "p.json", "--type", "cyclonedx", "--repository", "r.example/a", "--key=k"},
			[]string{"attest", "r.example/a@" + digest, "--predicate", "p.json", "--type", "cyclonedx", "--key=k"}},
		{"-r is not --repository (cosign gets it)", "sign", []string{"--repository=r.example/a", "-r"}, []string{"sign", "r.example/a@" + digest, "-r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Command(tc.verb, dir, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Command(%q, %q) (-want +got):\n%s", tc.verb, tc.args, d)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	good := layout(t, `{"manifests":[{"digest":"`+digest+`"}]}`)
	for _, tc := range []struct {
		name   string
		verb   string
		layout string
		args   []string
		want   string
	}{
		{"no repository: upstream's message", "sign", good, []string{"--key", "k"}, ErrNoRepository.Error()},
		{"empty repository", "attest", good, []string{"--repository="}, ErrNoRepository.Error()},
		{"--repository without value", "sign", good, []string{"--repository"}, "--repository needs a value"},
		{"unknown verb", "verify", good, []string{"--repository=r/a"}, `unknown cosign command "verify"`},
		{"no layout", "sign", filepath.Join(t.TempDir(), "missing"), []string{"--repository=r/a"}, "reading the image's OCI layout"},
		{"two manifests", "sign", layout(t, `{"manifests":[{"digest":"`+digest+`"},{"digest":"`+digest+`"}]}`), []string{"--repository=r/a"}, "want exactly one"},
		{"bad digest", "sign", layout(t, `{"manifests":[{"digest":"sha256:xyz"}]}`), []string{"--repository=r/a"}, `manifests[0].digest "sha256:xyz"`},
		{"not JSON", "sign", layout(t, `nope`), []string{"--repository=r/a"}, "not an OCI index"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Command(tc.verb, tc.layout, tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Command: error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if got, want := ErrNoRepository.Error(), "ERROR: repository not set. Please pass --repository flag or set the 'repository' attribute in the rule."; got != want {
		t.Errorf("no-repository message %q, want upstream's %q", got, want)
	}
}
