// Package releasetest releases //image for real: Debian's docker-registry
// (htpasswd auth, TLS from a test CA, on 127.0.0.1) and Debian's cosign, with
// keys and passwords made by the test in its temporary directory. A consumer's
// `cosign verify` and `cosign verify-attestation` must then pass with the
// release key, and fail with another key, for a moved tag and for a tampered
// attestation.
package releasetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cat-server/cat-server/image/registrytest"
	"github.com/cat-server/cat-server/tools/bazeltest"
)

// runfile is the file Bazel passes in $env.
func runfile(t *testing.T, env string) string {
	t.Helper()
	return bazeltest.Path(t, env, "//image/releasetest")
}

// layoutDir is the OCI layout among the files Bazel passes in $env.
func layoutDir(t *testing.T, env string) string {
	t.Helper()
	return bazeltest.Dir(t, env, "//image/releasetest")
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, p, content string) string {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// env is what every command of a test gets: the registry's credentials and CA,
// a HOME of its own (cosign's caches), the key password.
type env struct {
	vars []string
}

// run runs name with args under e, bounded in time, and returns its stdout
// and (separately) its combined output for messages.
func (e env) run(t *testing.T, name string, args ...string) (stdout, all string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), e.vars...)
	var out, both bytes.Buffer
	m := &multi{a: &out, b: &both}
	cmd.Stdout, cmd.Stderr = m, stderrOf{m}
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (gave up after 2m)", err)
	}
	return out.String(), both.String(), err
}

// multi writes stdout to a and b, stderr (through stderr()) to b alone; cosign
// writes both at once, so writes are serialized.
type multi struct {
	mu   sync.Mutex
	a, b *bytes.Buffer
}

func (m *multi) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.a.Write(p)
	return m.b.Write(p)
}

type stderrOf struct{ m *multi }

func (s stderrOf) Write(p []byte) (int, error) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.m.b.Write(p)
}

// keyPair generates a cosign key pair in a directory of its own and returns
// the private and public key files.
func (e env) keyPair(t *testing.T) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("cosign", "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), e.vars...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

func randomPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "pw-" + hex.EncodeToString(b)
}

// setup starts the registry and returns the environment for cosign and the
// release, with a fresh key password.
func setup(t *testing.T) (*registrytest.Registry, env, string) {
	t.Helper()
	registrytest.Need(t, "cosign", "cosign")
	r := registrytest.Start(t)
	password := randomPassword(t)
	return r, env{vars: []string{
		"DOCKER_CONFIG=" + r.DockerConfig(t),
		"SSL_CERT_FILE=" + r.CAFile,
		"HOME=" + t.TempDir(),
		"COSIGN_PASSWORD=" + password,
	}}, password
}

// verifyFlags are a consumer's flags for a registry without a transparency log.
var verifyFlags = []string{"--insecure-ignore-tlog"}

// predicates returns the predicates of the attestations of type typ on ref
// that verify with pub.
func (e env) predicates(t *testing.T, pub, typ, ref string) ([]json.RawMessage, error) {
	t.Helper()
	args := append([]string{"verify-attestation", "--key", pub, "--type", typ}, verifyFlags...)
	stdout, all, err := e.run(t, "cosign", append(args, ref)...)
	if err != nil {
		return nil, fmt.Errorf("cosign verify-attestation --type %s %s: %v\n%s", typ, ref, err, all)
	}
	var preds []json.RawMessage
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var envelope struct {
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &envelope); err != nil {
			t.Fatalf("verify-attestation printed %q: %v", line, err)
		}
		raw, err := base64.StdEncoding.DecodeString(envelope.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			PredicateType string          `json:"predicateType"`
			Subject       []any           `json:"subject"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
		preds = append(preds, st.Predicate)
	}
	return preds, nil
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, want, got []byte) string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	return cmp.Diff(w, g)
}
