// Package registrytest runs a real registry for tests: Debian's docker-registry
// (CNCF distribution 2.8) on 127.0.0.1 with a free port, htpasswd (bcrypt)
// authentication and TLS from a CA generated for the test. Everything it
// writes lives in the test's temporary directory; the process is killed when
// the test ends (and when the test binary dies).
//
// Tests that use it are tagged requires-registry; without the package they
// fail and say how to install it or leave them out.
package registrytest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// User and Password are the one account in the registry's htpasswd file.
const (
	User     = "cat"
	Password = "meow-meow-test"
)

// startTimeout bounds how long the registry may take to answer on its port
// (a variable for the test that breaks it).
var startTimeout = 20 * time.Second

// Registry is a running docker-registry.
type Registry struct {
	// Host is 127.0.0.1:PORT.
	Host string
	// CAFile is the PEM certificate of the CA that signed the registry's
	// certificate: pass it as SSL_CERT_FILE to Go clients.
	CAFile string
	// Log is the file the registry's JSON log goes to.
	Log string
	// Client trusts CAFile only.
	Client *http.Client
}

// Need fails the test when a command the registry tests use is missing,
// saying how to install it or leave the tests out.
func Need(t testing.TB, command, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(command)
	if err != nil {
		t.Fatalf("this test needs %s from Debian's %s package (%v): install it with tools/provision/install-test-deps.sh "+
			"(apt-get install %s), or leave these tests out with --test_tag_filters=-requires-registry", command, pkg, err, pkg)
	}
	return p
}

// Start runs a registry until the test ends.
func Start(t testing.TB) *Registry {
	t.Helper()
	bin := Need(t, "docker-registry", "docker-registry")
	htpasswd := Need(t, "htpasswd", "apache2-utils")
	dir := t.TempDir()

	caPEM, certPEM, keyPEM, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{CAFile: filepath.Join(dir, "ca.crt"), Log: filepath.Join(dir, "registry.log")}
	for name, b := range map[string][]byte{"ca.crt": caPEM, "registry.crt": certPEM, "registry.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(htpasswd, "-Bbn", User, Password).Output()
	if err != nil {
		t.Fatalf("htpasswd -Bbn: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	r.Client = &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}

	// A free port can be taken by someone else between Close and the
	// registry's bind: try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		r.Host = fmt.Sprintf("127.0.0.1:%d", port)
		if lastErr = r.run(t, bin, dir, port); lastErr == nil {
			return r
		}
	}
	t.Fatalf("docker-registry did not start: %v", lastErr)
	return nil
}

func (r *Registry) run(t testing.TB, bin, dir string, port int) error {
	t.Helper()
	data := filepath.Join(dir, "data")
	config := filepath.Join(dir, "config.yml")
	yml := fmt.Sprintf(`version: 0.1
log:
  level: info
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
  secret: cat-server-test-secret
  tls:
    certificate: %q
    key: %q
auth:
  htpasswd:
    realm: cat-server-test
    path: %q
`, data, port, filepath.Join(dir, "registry.crt"), filepath.Join(dir, "registry.key"), filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(config, []byte(yml), 0o600); err != nil {
		return err
	}
	logf, err := os.Create(r.Log)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Never outlive the test binary, whatever kills it (on Linux).
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s serve: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
		logf.Close()
	}

	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := r.Client.Get("https://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
			stop()
			return fmt.Errorf("GET /v2/ without credentials answered %s, want 401", resp.Status)
		}
		select {
		case err := <-exited:
			logf.Close()
			return fmt.Errorf("docker-registry exited (%v):\n%s", err, r.tail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("no answer on %s within %s (last error %v):\n%s", r.Host, startTimeout, err, r.tail())
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("registry log:\n%s", r.tail())
		}
	})
	return nil
}

// tail returns the last lines of the registry log.
func (r *Registry) tail() string {
	b, _ := os.ReadFile(r.Log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// ManifestPuts returns, in the order the registry received them, the
// references ("sha256:..." or a tag) of the manifests stored in repository.
func (r *Registry) ManifestPuts(repository string) ([]string, error) {
	f, err := os.Open(r.Log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var refs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	prefix := "/v2/" + repository + "/manifests/"
	for sc.Scan() {
		var e struct {
			Method string `json:"http.request.method"`
			URI    string `json:"http.request.uri"`
			Status int    `json:"http.response.status"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Method != http.MethodPut || e.Status != http.StatusCreated {
			continue
		}
		if ref, ok := strings.CutPrefix(e.URI, prefix); ok {
			refs = append(refs, ref)
		}
	}
	return refs, sc.Err()
}

// CheckPushed checks what a push printed and what the registry received:
// the push reported "pushed HOST/REPOSITORY@DIGEST" and then one "tagged"
// line for each of tags (in any order); the registry stored the manifest by
// digest (after the manifests of an index's images, if any), then the tags
// in the order the push reported them; and each resolves to digest.
func (r *Registry) CheckPushed(t testing.TB, out, repository, digest string, tags []string) {
	t.Helper()
	repo := r.Host + "/" + repository
	var reported []string
	sawDigest := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "pushed "+repo+"@"+digest:
			sawDigest = true
		case strings.HasPrefix(line, "tagged "+repo+":"):
			if !sawDigest {
				t.Errorf("push reported %q before pushing the digest:\n%s", line, out)
			}
			reported = append(reported, strings.TrimPrefix(line, "tagged "+repo+":"))
		}
	}
	if !sawDigest {
		t.Errorf("push did not report \"pushed %s@%s\":\n%s", repo, digest, out)
	}
	sortedWant, sortedGot := slices.Sorted(slices.Values(tags)), slices.Sorted(slices.Values(reported))
	if diff := cmp.Diff(sortedWant, sortedGot); diff != "" {
		t.Errorf("tags the push reported (-want +got):\n%s", diff)
	}

	puts, err := r.ManifestPuts(repository)
	if err != nil {
		t.Fatal(err)
	}
	// An index's images go in first, by digest; then the digest itself, then the tags.
	i := slices.Index(puts, digest)
	if i < 0 || slices.ContainsFunc(puts[:i], func(ref string) bool { return !strings.HasPrefix(ref, "sha256:") }) {
		t.Errorf("the registry log does not show %s stored before any tag: manifest PUTs in order %q", digest, puts)
	} else if diff := cmp.Diff(append([]string{digest}, reported...), puts[i:]); diff != "" {
		t.Errorf("manifest PUTs in the registry log from the digest on, in order (-want +got):\n%s", diff)
	}
	for _, ref := range append([]string{digest}, tags...) {
		req, err := http.NewRequest(http.MethodHead, "https://"+r.Host+"/v2/"+repository+"/manifests/"+ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(User, Password)
		req.Header.Set("Accept", strings.Join([]string{
			"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
			"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
		}, ", "))
		resp, err := r.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Docker-Content-Digest"); resp.StatusCode != http.StatusOK || got != digest {
			t.Errorf("HEAD %s: %s, digest %q, want 200 and %s", ref, resp.Status, got, digest)
		}
	}
}

// DockerConfig writes a docker config.json with the registry's credentials
// (what `docker login` writes without a credential store) into a new
// directory and returns it, for DOCKER_CONFIG.
func (r *Registry) DockerConfig(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(User + ":" + Password))
	b, err := json.Marshal(map[string]any{"auths": map[string]any{r.Host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Run runs a command bounded by timeout with extra environment and returns
// its combined output.
func Run(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (gave up after %s)", err, timeout)
	}
	return out.String(), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newCA returns a CA certificate, and a certificate and key for 127.0.0.1
// and localhost signed by it, all PEM, valid for a day.
func newCA() (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cat-server registry test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("test CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("registry certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
