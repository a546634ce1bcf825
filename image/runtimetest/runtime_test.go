// Package runtimetest runs the built image in the local Docker engine the way the
// original design did: read-only root filesystem, every capability dropped, a 64 MB
// memory limit and a mounted directory to serve. It needs a Docker engine; the Bazel
// target is tagged requires-docker.
package runtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	loader   = flag.String("load", "", "rlocation path of the oci_load script that loads the image (what `bazel run` runs)")
	tag      = flag.String("tag", "", "the tag the loaded image carries")
	wantUser = flag.String("user", "", "the uid:gid the image was built for")
)

// docker runs the docker client and returns its trimmed stdout.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("this test needs a Docker engine and docker is not on PATH (%v); exclude it with --test_tag_filters=-requires-docker", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		t.Fatalf("this test needs a Docker engine and the daemon does not answer (%v: %s); exclude it with --test_tag_filters=-requires-docker", err, bytes.TrimSpace(out))
	}
}

type health struct {
	Status string
	Log    []struct {
		ExitCode int
		Output   string
	}
}

type inspect struct {
	State struct {
		Running   bool
		ExitCode  int
		OOMKilled bool
		Health    *health
	}
}

func inspectContainer(t *testing.T, id string) inspect {
	t.Helper()
	var got []inspect
	if err := json.Unmarshal([]byte(docker(t, "inspect", id)), &got); err != nil || len(got) != 1 {
		t.Fatalf("docker inspect %s: %v (%d results)", id, err, len(got))
	}
	return got[0]
}

func TestImageRunsHardenedAndHealthy(t *testing.T) {
	if *loader == "" || *tag == "" || *wantUser == "" {
		t.Skip("needs the image built by Bazel: run `tools/bazel test //image/runtimetest`")
	}
	requireDocker(t)

	// The image goes in the way `bazel run //image:load` puts it there.
	script := filepath.Join(os.Getenv("TEST_SRCDIR"), *loader)
	if out, err := exec.Command(script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", *tag).Run() })

	// The served directory, readable by the image's non-root user.
	dir, err := os.MkdirTemp("", "cat-server-runtime-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const body = "meow from a mounted directory\n"
	if err := os.WriteFile(filepath.Join(dir, "cat.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}

	id := docker(t, "run", "--detach",
		"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--memory", "64m",
		// Shorter health intervals than the image's 30 s, so the test does not wait long;
		// the configured values are what //image:structure_test checks.
		"--health-interval", "1s", "--health-start-period", "5s",
		"--volume", dir+":/srv:ro",
		"--publish", "127.0.0.1::8080",
		*tag)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", id).CombinedOutput()
			t.Logf("container logs:\n%s", logs)
		}
		exec.Command("docker", "rm", "-f", id).Run()
	})

	// Docker reports the container healthy: HEALTHCHECK runs `cat-server healthcheck`.
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := inspectContainer(t, id).State
		if !st.Running {
			t.Fatalf("container stopped (exit code %d, OOM killed %v)", st.ExitCode, st.OOMKilled)
		}
		if st.Health == nil {
			t.Fatal("container has no health status: the image carries no HEALTHCHECK")
		}
		if st.Health.Status == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container not healthy after 60 s: status %q, log %+v", st.Health.Status, st.Health.Log)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The server process runs as the configured uid:gid, not root.
	top := docker(t, "top", id, "-o", "pid,uid,gid,comm")
	wantUID, wantGID, _ := strings.Cut(*wantUser, ":")
	found := false
	for _, line := range strings.Split(top, "\n")[1:] {
		f := strings.Fields(line)
		if len(f) == 4 && f[3] == "cat-server" {
			found = true
			if f[1] != wantUID || f[2] != wantGID {
				t.Errorf("cat-server runs as uid %s gid %s, want %s", f[1], f[2], *wantUser)
			}
		}
	}
	if !found {
		t.Errorf("no cat-server process in docker top:\n%s", top)
	}

	// It serves a file from the mounted directory.
	addr := docker(t, "port", id, "8080/tcp")
	addr = strings.Split(addr, "\n")[0]
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/cat.txt", addr))
	if err != nil {
		t.Fatalf("GET /cat.txt: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != body {
		t.Errorf("GET /cat.txt = %d %q, want 200 %q", resp.StatusCode, got, body)
	}

	// docker stop sends SIGTERM; the server shuts down gracefully (exit code 0) well
	// before docker's own 10 s timeout would SIGKILL it (exit code 137).
	docker(t, "stop", "--time", "10", id)
	if st := inspectContainer(t, id).State; st.ExitCode != 0 {
		t.Errorf("after docker stop the exit code is %d, want 0 (a graceful shutdown)", st.ExitCode)
	}
}
