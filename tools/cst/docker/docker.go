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

	// From containerRunOptions (the test command's container only).
	User         string
	Privileged   bool
	TTY          bool
	Capabilities []string // the container's whole capability set when set
	BindMounts   []string
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

// Options are what a config gives every command test besides the test itself.
type Options struct {
	Global     []config.EnvVar
	ImageEnv   []string // the image config's KEY=VALUE env
	RunOptions *config.ContainerRunOptions
}

// expandedEnv is upstream's processEnvVars: KEY=VALUE with $VAR in values expanded
// from env.
func expandedEnv(vars []config.EnvVar, env map[string]string) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Key+"="+os.Expand(v.Value, func(k string) string { return env[k] }))
	}
	return out
}

func envMap(base []string, extra ...[]string) map[string]string {
	m := map[string]string{}
	for _, list := range append([][]string{base}, extra...) {
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
	}
	return m
}

// RunTest runs one command test from image and compares its output, with the
// verdicts of container-structure-test v1.22.0's docker driver:
//   - globalEnvVars (values $VAR-expanded from the image env) are set in every container;
//   - each setup command runs with the test's envVars (expanded) and is committed; its
//     exit code is not checked;
//   - command and args have $VAR expanded from the image env, including what setup
//     committed;
//   - the command runs with an empty entrypoint and the test's envVars as written;
//     with containerRunOptions, its env is the options' (envFile, host envVars) instead;
//   - teardown is not run (each test gets a fresh container).
func RunTest(ctx context.Context, eng Engine, image, file string, opts Options, t config.CommandTest) check.Result {
	r := check.Result{File: file, Name: t.Name}
	base := envMap(opts.ImageEnv)
	global := expandedEnv(opts.Global, base)
	var temporary []string
	defer func() {
		for i := len(temporary) - 1; i >= 0; i-- {
			if err := eng.RemoveImage(context.WithoutCancel(ctx), temporary[i]); err != nil {
				fmt.Fprintf(os.Stderr, "cst: warning: removing temporary image %s: %v\n", temporary[i], err)
			}
		}
	}()
	cur := image
	committed := append([]string{}, global...)
	if len(t.Setup) > 0 {
		setupEnv := expandedEnv(t.EnvVars, envMap(opts.ImageEnv, global))
		committed = append(committed, setupEnv...)
		for i, cmd := range t.Setup {
			res, err := eng.Run(ctx, RunSpec{Image: cur, Command: cmd, Env: append(append([]string{}, global...), setupEnv...), Commit: true})
			if err != nil {
				r.Failures = append(r.Failures, check.Failure{Field: fmt.Sprintf("setup[%d]", i), Message: fmt.Sprintf("running %q: %v", cmd, err)})
				return r
			}
			if res.Image != "" {
				temporary = append(temporary, res.Image)
				cur = res.Image
			}
		}
	}
	expand := envMap(opts.ImageEnv, committed)
	var cmd []string
	for _, a := range append([]string{t.Command}, t.Args...) {
		cmd = append(cmd, os.Expand(a, func(k string) string { return expand[k] }))
	}
	spec := RunSpec{Image: cur, Command: cmd, Env: append(append([]string{}, global...), rawEnv(t.EnvVars)...)}
	if ro := opts.RunOptions; ro != nil && runOptionsSet(ro) {
		env, err := runOptionsEnv(ro)
		if err != nil {
			r.Failures = append(r.Failures, check.Failure{Field: "containerRunOptions", Message: err.Error()})
			return r
		}
		spec.Env = append(append([]string{}, global...), env...)
		spec.User, spec.Privileged, spec.TTY = ro.User, ro.Privileged, ro.TTY
		spec.Capabilities, spec.BindMounts = ro.Capabilities, ro.BindMounts
	}
	res, err := eng.Run(ctx, spec)
	if err != nil {
		r.Failures = append(r.Failures, check.Failure{Field: "command", Message: fmt.Sprintf("running %q: %v", cmd, err)})
		return r
	}
	r.Failures = append(r.Failures, Compare(t, res)...)
	return r
}

func rawEnv(vars []config.EnvVar) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Key+"="+v.Value)
	}
	return out
}

// runOptionsSet is upstream's ContainerRunOptions.IsSet.
func runOptionsSet(o *config.ContainerRunOptions) bool {
	return o.User != "" || o.Privileged || o.TTY || o.EnvFile != "" || len(o.EnvVars) > 0 || len(o.Capabilities) > 0 || len(o.BindMounts) > 0
}

// runOptionsEnv is the env containerRunOptions gives: KEY=VALUE lines of envFile (empty
// keys and values left out) and the named variables of this process's env.
func runOptionsEnv(o *config.ContainerRunOptions) ([]string, error) {
	var env []string
	if o.EnvFile != "" {
		data, err := os.ReadFile(o.EnvFile)
		if err != nil {
			return nil, fmt.Errorf("envFile: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
			if k != "" && v != "" {
				env = append(env, k+"="+v)
			}
		}
	}
	for _, name := range o.EnvVars {
		if v := os.Getenv(name); v != "" {
			env = append(env, name+"="+v)
		}
	}
	return env, nil
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
	if spec.User != "" {
		args = append(args, "--user", spec.User)
	}
	if spec.Privileged {
		args = append(args, "--privileged")
	}
	if spec.TTY {
		args = append(args, "--tty")
	}
	if len(spec.Capabilities) > 0 {
		args = append(args, "--cap-drop", "ALL")
		for _, c := range spec.Capabilities {
			args = append(args, "--cap-add", c)
		}
	}
	for _, b := range spec.BindMounts {
		args = append(args, "--volume", b)
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
