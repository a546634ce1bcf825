// Package docker runs CST commandTests in containers of a Docker engine.
//
// Each command (setup, the test command, teardown) runs in a new container
// with the command as its entrypoint (so images without a shell work). Setup
// commands run in order, each container committed to a temporary image that
// the next command starts from, so files written by setup are visible to
// the test command; the same holds for teardown after the test. Processes,
// environment changes and mounts do not carry over between commands.
package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/check"
	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// RunSpec describes one container run.
type RunSpec struct {
	Image   string   // image reference or ID
	Command []string // entrypoint and its arguments
	Env     []string // KEY=VALUE
	Commit  bool     // commit the stopped container to a new image
}

// RunResult is the outcome of a container run.
type RunResult struct {
	Stdout, Stderr string
	ExitCode       int
	Image          string // the committed image when RunSpec.Commit
}

// Engine runs containers. CLI is the Docker implementation; tests use fakes.
type Engine interface {
	Run(ctx context.Context, spec RunSpec) (RunResult, error)
	RemoveImage(ctx context.Context, ref string) error
}

// Env merges the global and the test's env vars as KEY=VALUE, the test's
// winning.
func Env(global, local []config.EnvVar) []string {
	var env []string
	for _, vars := range [][]config.EnvVar{global, local} {
		for _, v := range vars {
			env = append(env, v.Key+"="+v.Value)
		}
	}
	return env
}

// RunTest runs one command test from image and compares its output.
func RunTest(ctx context.Context, eng Engine, image, file string, global []config.EnvVar, t config.CommandTest) check.Result {
	r := check.Result{File: file, Name: t.Name}
	env := Env(global, t.EnvVars)
	var temporary []string
	defer func() {
		for i := len(temporary) - 1; i >= 0; i-- {
			if err := eng.RemoveImage(context.WithoutCancel(ctx), temporary[i]); err != nil {
				fmt.Fprintf(os.Stderr, "cst: warning: removing temporary image %s: %v\n", temporary[i], err)
			}
		}
	}()
	cur := image
	chain := func(field string, cmds [][]string) bool {
		for i, cmd := range cmds {
			f := fmt.Sprintf("%s[%d]", field, i)
			res, err := eng.Run(ctx, RunSpec{Image: cur, Command: cmd, Env: env, Commit: true})
			if err != nil {
				r.Failures = append(r.Failures, check.Failure{Field: f, Message: fmt.Sprintf("running %q: %v", cmd, err)})
				return false
			}
			if res.Image != "" {
				temporary = append(temporary, res.Image)
				cur = res.Image
			}
			if res.ExitCode != 0 {
				r.Failures = append(r.Failures, check.Failure{Field: f, Expected: fmt.Sprintf("%q to exit 0", cmd),
					Got: fmt.Sprintf("exit code %d, stderr %s", res.ExitCode, check.Excerpt(res.Stderr))})
				return false
			}
		}
		return true
	}
	if !chain("setup", t.Setup) {
		return r
	}
	cmd := append([]string{t.Command}, t.Args...)
	res, err := eng.Run(ctx, RunSpec{Image: cur, Command: cmd, Env: env, Commit: len(t.Teardown) > 0})
	if err != nil {
		r.Failures = append(r.Failures, check.Failure{Field: "command", Message: fmt.Sprintf("running %q: %v", cmd, err)})
		return r
	}
	if res.Image != "" {
		temporary = append(temporary, res.Image)
		cur = res.Image
	}
	r.Failures = append(r.Failures, Compare(t, res)...)
	chain("teardown", t.Teardown)
	return r
}

// Compare checks a command's result against the test's expectations.
func Compare(t config.CommandTest, res RunResult) []check.Failure {
	var fs []check.Failure
	if res.ExitCode != t.ExitCode {
		fs = append(fs, check.Failure{Field: "exitCode", Expected: strconv.Itoa(t.ExitCode),
			Got: fmt.Sprintf("%d (stderr %s)", res.ExitCode, check.Excerpt(res.Stderr))})
	}
	fs = append(fs, check.MatchAll("expectedOutput", t.ExpectedOutput, "excludedOutput", t.ExcludedOutput, "stdout", res.Stdout)...)
	fs = append(fs, check.MatchAll("expectedError", t.ExpectedError, "excludedError", t.ExcludedError, "stderr", res.Stderr)...)
	return fs
}

// CLI drives a Docker engine through the docker command.
type CLI struct {
	Bin string // resolved path of the docker binary
}

// ErrNoEngine is wrapped by NewCLI's error when no engine can be used.
var ErrNoEngine = errors.New("no Docker engine")

type noEngineError struct{ reason string }

func (e *noEngineError) Error() string {
	return fmt.Sprintf("commandTests need a Docker engine (%s); exclude this target with --test_tag_filters=-requires-docker", e.reason)
}

func (e *noEngineError) Unwrap() error { return ErrNoEngine }

// NewCLI finds the docker binary (a name looked up in PATH, or a path) and
// checks that the daemon answers.
func NewCLI(ctx context.Context, docker string) (*CLI, error) {
	bin, err := exec.LookPath(docker)
	if err != nil {
		return nil, &noEngineError{fmt.Sprintf("docker not found: %v", err)}
	}
	c := &CLI{Bin: bin}
	if _, err := c.output(ctx, "version", "--format", "{{.Server.Version}}"); err != nil {
		return nil, &noEngineError{fmt.Sprintf("daemon not reachable: %v", err)}
	}
	return c, nil
}

// runDocker runs docker with args and returns stdout, stderr and the error.
func (c *CLI) runDocker(ctx context.Context, args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// output runs docker and returns its trimmed stdout; a failure's error
// carries the trimmed stderr.
func (c *CLI) output(ctx context.Context, args ...string) (string, error) {
	stdout, stderr, err := c.runDocker(ctx, args...)
	if err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr))
	}
	return strings.TrimSpace(stdout), nil
}

// Load writes img as a docker-save tarball under a fresh unique tag
// (cst.local/<random>:test), loads it into the engine and returns the tag.
func (c *CLI) Load(ctx context.Context, img v1.Image) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tag, err := name.NewTag("cst.local/cst-" + hex.EncodeToString(b[:]) + ":test")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "cst-image-*.tar")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := tarball.Write(tag, img, f); err != nil {
		f.Close()
		return "", fmt.Errorf("writing the docker-save tarball: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if _, err := c.output(ctx, "load", "--input", f.Name()); err != nil {
		return "", err
	}
	return tag.String(), nil
}

// Run implements Engine: docker create, start --attach, inspect, optionally
// commit, and rm.
func (c *CLI) Run(ctx context.Context, spec RunSpec) (RunResult, error) {
	if len(spec.Command) == 0 {
		return RunResult{}, errors.New("empty command")
	}
	args := []string{"create", "--pull", "never"}
	for _, kv := range spec.Env {
		args = append(args, "--env", kv)
	}
	args = append(args, "--entrypoint", spec.Command[0], spec.Image)
	args = append(args, spec.Command[1:]...)
	id, err := c.output(ctx, args...)
	if err != nil {
		return RunResult{}, err
	}
	defer func() {
		if _, err := c.output(context.WithoutCancel(ctx), "rm", "--force", "--volumes", id); err != nil {
			fmt.Fprintf(os.Stderr, "cst: warning: removing container: %v\n", err)
		}
	}()
	stdout, stderr, startErr := c.runDocker(ctx, "start", "--attach", id)
	if ctx.Err() != nil {
		return RunResult{}, ctx.Err()
	}
	state, err := c.output(ctx, "inspect", "--format", "{{.State.ExitCode}}", id)
	if err != nil {
		return RunResult{}, err
	}
	code, err := strconv.Atoi(state)
	if err != nil {
		return RunResult{}, fmt.Errorf("docker inspect: exit code %q: %v", state, err)
	}
	if startErr != nil && code == 0 {
		return RunResult{}, fmt.Errorf("docker start: %v: %s", startErr, strings.TrimSpace(stderr))
	}
	res := RunResult{Stdout: stdout, Stderr: stderr, ExitCode: code}
	if spec.Commit {
		img, err := c.output(ctx, "commit", id)
		if err != nil {
			return res, err
		}
		res.Image = img
	}
	return res, nil
}

// RemoveImage implements Engine.
func (c *CLI) RemoveImage(ctx context.Context, ref string) error {
	_, err := c.output(ctx, "image", "rm", ref)
	return err
}
