package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// fakeEngine answers runs from a table keyed by the command's first word
// and records every call.
type fakeEngine struct {
	results map[string]RunResult
	errs    map[string]error
	calls   []string
	n       int
}

func (f *fakeEngine) Run(_ context.Context, spec RunSpec) (RunResult, error) {
	call := fmt.Sprintf("run image=%s cmd=%q env=%q commit=%v", spec.Image, spec.Command, spec.Env, spec.Commit)
	if spec.User != "" || spec.Privileged || spec.TTY || spec.Capabilities != nil || spec.BindMounts != nil {
		call += fmt.Sprintf(" user=%s privileged=%v tty=%v caps=%q binds=%q", spec.User, spec.Privileged, spec.TTY, spec.Capabilities, spec.BindMounts)
	}
	f.calls = append(f.calls, call)
	if err := f.errs[spec.Command[0]]; err != nil {
		return RunResult{}, err
	}
	res := f.results[spec.Command[0]]
	if spec.Commit {
		f.n++
		res.Image = fmt.Sprintf("sha256:commit%d", f.n)
	}
	return res, nil
}

func (f *fakeEngine) RemoveImage(_ context.Context, ref string) error {
	f.calls = append(f.calls, "rmi "+ref)
	return nil
}

func parseTest(t *testing.T, yaml string) *config.Config {
	t.Helper()
	c, err := config.Parse("c.yaml", []byte("schemaVersion: 2.0.0\n"+yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRunTestComparison(t *testing.T) {
	version := RunResult{Stdout: "cat-server v1.4.2\n", Stderr: "warning: no config\n"}
	crash := RunResult{Stdout: "", Stderr: "panic: boom\n", ExitCode: 2}
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{
			"pass",
			"{name: version, command: /app/cat-server, args: [version], expectedOutput: ['v\\d+\\.\\d+'], excludedOutput: [dirty], expectedError: [warning], excludedError: [panic]}",
			[]string{"PASS c.yaml: version"},
		},
		{
			"output mismatches",
			"{name: version, command: /app/cat-server, expectedOutput: ['v2\\.'], excludedOutput: ['v1'], expectedError: ['^$'], excludedError: [warning]}",
			[]string{
				`FAIL c.yaml: version: expectedOutput[0]: expected stdout to match "v2\\.", got no match in "cat-server v1.4.2\n"`,
				`FAIL c.yaml: version: excludedOutput[0]: expected stdout not to match "v1", got a match in "cat-server v1.4.2\n"`,
				`FAIL c.yaml: version: expectedError[0]: expected stderr to match "^$", got no match in "warning: no config\n"`,
				`FAIL c.yaml: version: excludedError[0]: expected stderr not to match "warning", got a match in "warning: no config\n"`,
			},
		},
		{
			"exit code",
			"{name: crash, command: crash}",
			[]string{`FAIL c.yaml: crash: exitCode: expected 0, got 2 (stderr "panic: boom\n")`},
		},
		{
			"expected non-zero exit code",
			"{name: crash, command: crash, exitCode: 2, expectedError: [panic]}",
			[]string{"PASS c.yaml: crash"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := &fakeEngine{results: map[string]RunResult{"/app/cat-server": version, "crash": crash}}
			c := parseTest(t, "commandTests:\n  - "+tc.yaml)
			r := RunTest(context.Background(), eng, "img:test", "c.yaml", Options{}, c.CommandTests[0])
			if diff := cmp.Diff(tc.want, r.Lines()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunTestSetupTeardownChain(t *testing.T) {
	eng := &fakeEngine{results: map[string]RunResult{"/app/cat-server": {Stdout: "ok"}}}
	c := parseTest(t, `globalEnvVars: [{key: G, value: "$HOME/g"}, {key: L, value: global}]
commandTests:
  - name: migrate
    setup: [[/app/cat-server, init], [/app/cat-server, seed]]
    teardown: [[/app/cat-server, clean]]
    envVars: [{key: L, value: local}, {key: W, value: "${HOME}/w"}]
    command: /app/cat-server
    args: [check, $W, $G, $NOPE]
    expectedOutput: [ok]
`)
	r := RunTest(context.Background(), eng, "img:test", "c.yaml", Options{Global: c.GlobalEnvVars, ImageEnv: []string{"HOME=/home/base"}}, c.CommandTests[0])
	if !r.Passed() {
		t.Errorf("result = %q, want PASS", r.Lines())
	}
	setupEnv := `["G=/home/base/g" "L=global" "L=local" "W=/home/base/w"]`
	want := []string{
		`run image=img:test cmd=["/app/cat-server" "init"] env=` + setupEnv + ` commit=true`,
		`run image=sha256:commit1 cmd=["/app/cat-server" "seed"] env=` + setupEnv + ` commit=true`,
		// Upstream expands command and args from the image env (setup committed W and G
		// into it); the test's own envVars are passed as written; teardown never runs.
		`run image=sha256:commit2 cmd=["/app/cat-server" "check" "/home/base/w" "/home/base/g" ""] env=["G=/home/base/g" "L=global" "L=local" "W=${HOME}/w"] commit=false`,
		"rmi sha256:commit2", "rmi sha256:commit1",
	}
	if diff := cmp.Diff(want, eng.calls); diff != "" {
		t.Errorf("engine calls mismatch (-want +got):\n%s", diff)
	}
}

func TestRunTestVerdicts(t *testing.T) {
	t.Setenv("CST_TEST_SECRET", "s3cret")
	envFile := filepath.Join(t.TempDir(), "e.env")
	if err := os.WriteFile(envFile, []byte("# comment\nA=1\nEMPTY=\nexport B=\"two\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		opts       Options
		results    map[string]RunResult
		errs       map[string]error
		want       []string
		wantCall   string // substring of the last engine call
	}{
		{
			name:    "setup exit code is ignored",
			yaml:    "{name: a, setup: [[init, x]], command: run}",
			results: map[string]RunResult{"init": {ExitCode: 3, Stderr: "cannot init"}},
			want:    []string{"PASS c.yaml: a"},
		},
		{
			name: "setup that cannot run fails",
			yaml: "{name: a, setup: [[gone]], command: never}",
			errs: map[string]error{"gone": errors.New("no such image")},
			want: []string{`FAIL c.yaml: a: setup[0]: running ["gone"]: no such image`},
		},
		{
			name: "command that cannot run fails",
			yaml: "{name: b, command: gone}",
			errs: map[string]error{"gone": errors.New("no such image")},
			want: []string{`FAIL c.yaml: b: command: running ["gone"]: no such image`},
		},
		{
			name:     "$VAR in command from the image env",
			yaml:     "{name: a, command: $APP/bin, args: ['${APP}']}",
			opts:     Options{ImageEnv: []string{"APP=/app"}},
			want:     []string{"FAIL c.yaml: a: exitCode: expected 0, got 1 (stderr \"\")"},
			results:  map[string]RunResult{"/app/bin": {ExitCode: 1}},
			wantCall: `cmd=["/app/bin" "/app"]`,
		},
		{
			name:     "containerRunOptions: user, privileged, tty, capabilities, mounts, env from file and host",
			yaml:     "{name: a, command: run, envVars: [{key: DROPPED, value: x}]}",
			opts:     Options{Global: []config.EnvVar{{Key: "G", Value: "1"}}, RunOptions: &config.ContainerRunOptions{User: "1000", Privileged: true, TTY: true, Capabilities: []string{"NET_ADMIN"}, BindMounts: []string{"/a:/b"}, EnvFile: envFile, EnvVars: []string{"CST_TEST_SECRET", "CST_TEST_UNSET"}}},
			want:     []string{"PASS c.yaml: a"},
			wantCall: `env=["G=1" "A=1" "B=two" "CST_TEST_SECRET=s3cret"] commit=false user=1000 privileged=true tty=true caps=["NET_ADMIN"] binds=["/a:/b"]`,
		},
		{
			name: "containerRunOptions: missing envFile",
			yaml: "{name: a, command: run}",
			opts: Options{RunOptions: &config.ContainerRunOptions{EnvFile: "/nonexistent.env"}},
			want: []string{"FAIL c.yaml: a: containerRunOptions: envFile: open /nonexistent.env: no such file or directory"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := &fakeEngine{results: tc.results, errs: tc.errs}
			c := parseTest(t, "commandTests:\n  - "+tc.yaml)
			got := RunTest(context.Background(), eng, "img", "c.yaml", tc.opts, c.CommandTests[0]).Lines()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if tc.wantCall != "" {
				var runs []string
				for _, c := range eng.calls {
					if strings.HasPrefix(c, "run ") {
						runs = append(runs, c)
					}
				}
				if len(runs) == 0 || !strings.Contains(runs[len(runs)-1], tc.wantCall) {
					t.Errorf("last run %q does not contain %q", runs, tc.wantCall)
				}
			}
		})
	}
}

func TestNewCLIWithoutDocker(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := NewCLI(context.Background(), "docker")
	if err == nil {
		t.Fatal("NewCLI succeeded with an empty PATH")
	}
	if !errors.Is(err, ErrNoEngine) {
		t.Errorf("error %v does not wrap ErrNoEngine", err)
	}
	for _, want := range []string{
		"commandTests need a Docker engine (docker not found: ",
		"); exclude this target with --test_tag_filters=-requires-docker",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// fakeDocker writes a docker stand-in script that logs its arguments and
// answers like the real CLI would, and returns the script and its log.
func fakeDocker(t *testing.T, script string) (string, string) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the fake docker script")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	bin := filepath.Join(dir, "docker")
	body := "#!/bin/sh\necho \"$*\" >> " + log + "\n" + script
	if err := os.WriteFile(bin, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, log
}

func readLog(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestNewCLIDaemonDown(t *testing.T) {
	bin, _ := fakeDocker(t, "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2\nexit 1\n")
	_, err := NewCLI(context.Background(), bin)
	want := "commandTests need a Docker engine (daemon not reachable: docker version --format {{.Server.Version}}: exit status 1: Cannot connect to the Docker daemon at unix:///var/run/docker.sock); exclude this target with --test_tag_filters=-requires-docker"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestCLIRun(t *testing.T) {
	bin, log := fakeDocker(t, `case "$1" in
version) echo 20.10 ;;
create) echo ctr123 ;;
start) echo out; echo err >&2; exit 3 ;;
inspect) echo 3 ;;
commit) echo sha256:abc ;;
esac
`)
	cli, err := NewCLI(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cli.Run(context.Background(), RunSpec{Image: "cst.local/x:test", Command: []string{"/app/bin", "a b", "c"}, Env: []string{"K=V"}, Commit: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(RunResult{Stdout: "out\n", Stderr: "err\n", ExitCode: 3, Image: "sha256:abc"}, got); diff != "" {
		t.Errorf("Run mismatch (-want +got):\n%s", diff)
	}
	wantLog := []string{
		"version --format {{.Server.Version}}",
		"create --pull never --env K=V --entrypoint /app/bin cst.local/x:test a b c",
		"start --attach ctr123",
		"inspect --format {{.State.ExitCode}} ctr123",
		"commit ctr123",
		"rm --force --volumes ctr123",
	}
	if diff := cmp.Diff(wantLog, readLog(t, log)); diff != "" {
		t.Errorf("docker calls mismatch (-want +got):\n%s", diff)
	}
}

func TestCLILoad(t *testing.T) {
	// The fake checks (with shell builtins only) that the tarball exists and is
	// not empty.
	bin, log := fakeDocker(t, `case "$1" in
version) echo 20.10 ;;
load) [ -s "$3" ] || { echo "empty or missing tarball $3" >&2; exit 1; } ;;
esac
`)
	cli, err := NewCLI(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := cli.Load(context.Background(), img)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !regexp.MustCompile(`^cst\.local/cst-[0-9a-f]{16}:test$`).MatchString(tag) {
		t.Errorf("tag = %q, want cst.local/cst-<random>:test", tag)
	}
	calls := readLog(t, log)
	if len(calls) != 2 || !strings.HasPrefix(calls[1], "load --input ") {
		t.Fatalf("docker calls = %q, want version then load --input FILE", calls)
	}
	if _, err := os.Stat(strings.TrimPrefix(calls[1], "load --input ")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary tarball was not removed: %v", err)
	}
}
