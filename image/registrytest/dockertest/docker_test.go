// Package dockertest pushes //image to a real registry (registrytest) after a
// real `docker login`, then has Docker pull what was pushed and run it until
// it is healthy. It needs a Docker engine and Debian's docker-registry; the
// Bazel target is tagged requires-docker and requires-registry.
//
// TLS: the registry's certificate comes from a CA made for the test, which
// Docker is never told about. Docker treats registries on 127.0.0.0/8 as
// insecure by default, and for those it does not verify the certificate, so
// no /etc/docker/certs.d entry is written; the Go clients (ocitool) trust the
// CA through SSL_CERT_FILE.
package dockertest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cat-server/cat-server/image/registrytest"
	"github.com/cat-server/cat-server/tools/bazeltest"
)

// dockerTimeout bounds each docker command.
const dockerTimeout = 2 * time.Minute

// runfile is the file Bazel passes in $env.
func runfile(t *testing.T, env string) string {
	t.Helper()
	return bazeltest.Path(t, env, "//image/registrytest/dockertest")
}

// docker runs the docker client with DOCKER_CONFIG=config and stdin, and
// returns its trimmed stdout.
func docker(t *testing.T, config, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+config)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), &cmdError{args: args, err: err, stderr: stderr.String()}
	}
	return strings.TrimSpace(stdout.String()), nil
}

type cmdError struct {
	args   []string
	err    error
	stderr string
}

func (e *cmdError) Error() string {
	return "docker " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}

func mustDocker(t *testing.T, config, stdin string, args ...string) string {
	t.Helper()
	out, err := docker(t, config, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("this test needs a Docker engine and docker is not on PATH (%v); exclude it with --test_tag_filters=-requires-docker", err)
	}
	if _, err := docker(t, t.TempDir(), "", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Fatalf("this test needs a Docker engine and the daemon does not answer (%v); exclude it with --test_tag_filters=-requires-docker", err)
	}
}

func TestDockerLoginPushPullRunHealthy(t *testing.T) {
	type artifact struct{ name, script, digest, repository string }
	var artifacts []artifact
	for _, a := range []struct{ name, scriptEnv, digestEnv, repository string }{
		{"image", "PUSH_SCRIPT", "IMAGE_DIGEST_FILE", "cat-server-docker"},
		{"index", "PUSH_INDEX_SCRIPT", "INDEX_DIGEST_FILE", "cat-server-index-docker"},
	} {
		b, err := os.ReadFile(runfile(t, a.digestEnv))
		if err != nil {
			t.Fatal(err)
		}
		artifacts = append(artifacts, artifact{a.name, runfile(t, a.scriptEnv), strings.TrimSpace(string(b)), a.repository})
	}
	requireDocker(t)
	r := registrytest.Start(t)
	config := t.TempDir() // never the user's ~/.docker

	// A wrong password is refused; then the real login.
	if _, err := docker(t, config, "wrong\n", "login", "--username", registrytest.User, "--password-stdin", r.Host); err == nil {
		t.Fatalf("docker login %s with a wrong password succeeded", r.Host)
	}
	mustDocker(t, config, registrytest.Password+"\n", "login", "--username", registrytest.User, "--password-stdin", r.Host)
	cfg, err := os.ReadFile(filepath.Join(config, "config.json"))
	if err != nil || !strings.Contains(string(cfg), r.Host) {
		t.Fatalf("docker login wrote no entry for %s in $DOCKER_CONFIG/config.json (%v):\n%s", r.Host, err, cfg)
	}

	for _, a := range artifacts {
		t.Run(a.name, func(t *testing.T) {
			repo := r.Host + "/" + a.repository

			// (b) //image:push (//image:push_index) with those credentials: the
			// digest, then the tags.
			out, err := registrytest.Run(time.Minute, []string{"DOCKER_CONFIG=" + config, "SSL_CERT_FILE=" + r.CAFile},
				a.script, "-r", repo, "-t", "v1")
			if err != nil {
				t.Fatalf("push after docker login: %v\n%s", err, out)
			}
			r.CheckPushed(t, out, a.repository, a.digest, []string{"latest", "v1"})

			// (c) Docker pulls it by tag (from the index: linux/amd64) and runs it healthy.
			ref := repo + ":v1"
			t.Cleanup(func() { docker(t, config, "", "rmi", "--force", ref) })
			// Without credentials Docker is refused. (Its message depends on the engine: on an
			// insecure registry it retries over plain http after the 401 and may report that
			// failure instead, e.g. "connection reset by peer".)
			if _, err := docker(t, t.TempDir(), "", "pull", ref); err == nil {
				t.Errorf("docker pull %s without logging in succeeded", ref)
			} else {
				t.Logf("docker pull without logging in: %v", err)
			}
			mustDocker(t, config, "", "pull", ref)
			var repoDigests []string
			if err := json.Unmarshal([]byte(mustDocker(t, config, "", "image", "inspect", "--format", "{{json .RepoDigests}}", ref)), &repoDigests); err != nil {
				t.Fatal(err)
			}
			// Other runs (other worktrees, --runs_per_test) may have pulled the same
			// image from registries of their own: look for ours among them.
			if want := repo + "@" + a.digest; !slices.Contains(repoDigests, want) {
				t.Errorf("pulled image has repo digests %q, none of them %s", repoDigests, want)
			}
			runHealthy(t, config, ref)
		})
	}
}

// runHealthy runs ref and waits until Docker reports it healthy.
func runHealthy(t *testing.T, config, ref string) {
	t.Helper()
	id := mustDocker(t, config, "", "run", "--detach",
		// Shorter than the image's 30 s interval so the test does not wait long.
		"--health-interval", "1s", "--health-start-period", "5s", ref)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := docker(t, config, "", "logs", id)
			t.Logf("container logs:\n%s", logs)
		}
		docker(t, config, "", "rm", "--force", id)
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		status := mustDocker(t, config, "", "inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", id)
		if status == "running healthy" {
			return
		}
		if !strings.HasPrefix(status, "running") {
			t.Fatalf("container is %q, want running", status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("container not healthy after 60 s: %q", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
