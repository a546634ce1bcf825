package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

const validCST = `schemaVersion: "2.0.0"
globalEnvVars:
  - key: GREETING
    value: hello
metadataTest:
  envVars:
    - key: PATH
      value: /usr/bin
      isRegex: true
  labels:
    - key: org.opencontainers.image.source
      value: https://example.com/cat-server
  exposedPorts: ["8080"]
  unexposedPorts: ["22/tcp"]
  entrypoint: ["/app/cat-server"]
  cmd: []
  workdir: /app
  volumes: [/data]
  unmountedVolumes: [/tmp]
  user: "65532"
fileExistenceTests:
  - name: binary
    path: /app/cat-server
    permissions: -rwxr-xr-x
    uid: 0
    isExecutableBy: any
  - name: no shell
    path: /bin/sh
    shouldExist: false
fileContentTests:
  - name: passwd
    path: /etc/passwd
    expectedContents: ['nonroot:x:65532']
    excludedContents: ['^bob:']
commandTests:
  - name: version
    setup: [[/app/cat-server, init]]
    teardown: [[/app/cat-server, clean]]
    envVars:
      - key: LOG
        value: debug
    command: /app/cat-server
    args: [version]
    expectedOutput: ['v\d+']
    excludedOutput: [dirty]
    expectedError: []
    excludedError: [panic]
    exitCode: 0
`

func ptr[T any](v T) *T { return &v }

func TestParseValid(t *testing.T) {
	got, err := Parse("valid.yaml", []byte(validCST))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Config{
		SchemaVersion: "2.0.0",
		GlobalEnvVars: []EnvVar{{Key: "GREETING", Value: "hello"}},
		MetadataTest: &MetadataTest{
			EnvVars:          []EnvVar{{Key: "PATH", Value: "/usr/bin", IsRegex: true}},
			Labels:           []Label{{Key: "org.opencontainers.image.source", Value: "https://example.com/cat-server"}},
			ExposedPorts:     []string{"8080"},
			UnexposedPorts:   []string{"22/tcp"},
			Entrypoint:       &[]string{"/app/cat-server"},
			Cmd:              &[]string{},
			Workdir:          ptr("/app"),
			Volumes:          []string{"/data"},
			UnmountedVolumes: []string{"/tmp"},
			User:             ptr("65532"),
		},
		FileExistenceTests: []FileExistenceTest{
			{Name: "binary", Path: "/app/cat-server", Permissions: "-rwxr-xr-x", UID: ptr(0), IsExecutableBy: "any"},
			{Name: "no shell", Path: "/bin/sh", ShouldExist: ptr(false)},
		},
		FileContentTests: []FileContentTest{
			{Name: "passwd", Path: "/etc/passwd", ExpectedContents: []string{"nonroot:x:65532"}, ExcludedContents: []string{"^bob:"}},
		},
		CommandTests: []CommandTest{{
			Name: "version", Setup: [][]string{{"/app/cat-server", "init"}}, Teardown: [][]string{{"/app/cat-server", "clean"}},
			EnvVars: []EnvVar{{Key: "LOG", Value: "debug"}}, Command: "/app/cat-server", Args: []string{"version"},
			ExpectedOutput: []string{`v\d+`}, ExcludedOutput: []string{"dirty"}, ExpectedError: []string{}, ExcludedError: []string{"panic"},
		}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreTypes(yaml.Node{})); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if !got.FileExistenceTests[0].Exists() || got.FileExistenceTests[1].Exists() {
		t.Errorf("shouldExist defaults: got %v, %v; want true (absent), false", got.FileExistenceTests[0].Exists(), got.FileExistenceTests[1].Exists())
	}
	if got.FileExistenceTests[0].GID != nil {
		t.Errorf("absent gid = %d, want nil (not checked)", *got.FileExistenceTests[0].GID)
	}

	// Round trip: marshal and parse again gives the same config.
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("roundtrip.yaml", out)
	if err != nil {
		t.Fatalf("Parse(Marshal(config)): %v\n%s", err, out)
	}
	if diff := cmp.Diff(got, again, cmpopts.IgnoreTypes(yaml.Node{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip mismatch (-first +second):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{
			name: "unknown top-level key",
			yaml: "schemaVersion: 2.0.0\nfileExistanceTests: []\n",
			want: []string{`bad.yaml:2: unknown key "fileExistanceTests" at the top level`},
		},
		{
			name: "unknown key in metadataTest",
			yaml: "schemaVersion: 2.0.0\nmetadataTest:\n  user: x\n  exposedPort: [\"80\"]\n",
			want: []string{`bad.yaml:4: unknown key "exposedPort" in metadataTest`},
		},
		{
			name: "unknown key in a fileExistenceTests entry",
			yaml: "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: a\n    path: /a\n    mode: '0755'\n",
			want: []string{`bad.yaml:5: unknown key "mode" in a fileExistenceTests entry`},
		},
		{
			name: "wrong schemaVersion",
			yaml: "schemaVersion: 3.0.0\n",
			want: []string{`bad.yaml: schemaVersion is "3.0.0", want "2.0.0" or "1.0.0"`},
		},
		{
			name: "missing schemaVersion",
			yaml: "metadataTest:\n  user: x\n",
			want: []string{`schemaVersion is missing, want "2.0.0"`},
		},
		{
			name: "bad regex",
			yaml: "schemaVersion: 2.0.0\nfileContentTests:\n  - name: a\n    path: /a\n    expectedContents:\n      - ok\n      - 'broken('\n",
			want: []string{`bad.yaml:7: fileContentTests[0].expectedContents[1]: invalid regular expression "broken(": error parsing regexp: missing closing )`},
		},
		{
			name: "bad regex in an env var",
			yaml: "schemaVersion: 2.0.0\nmetadataTest:\n  envVars:\n    - key: A\n      value: '[a-'\n      isRegex: true\n",
			want: []string{`bad.yaml:5: metadataTest.envVars[0].value: invalid regular expression "[a-"`},
		},
		{
			name: "wrong type",
			yaml: "schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n    command: /a\n    exitCode: one\n",
			want: []string{"bad.yaml:5: cannot unmarshal !!str `one` into int"},
		},
		{
			name: "several problems at once",
			yaml: "schemaVersion: 2.0.0\nfileExistenceTests:\n  - path: /a\nfileContentTests:\n  - name: b\n    path: relative\n",
			want: []string{
				"bad.yaml:3: fileExistenceTests[0]: name is missing",
				`bad.yaml:6: fileContentTests[0].path: path "relative" is not absolute`,
			},
		},
		{
			name: "empty port and volume",
			yaml: "schemaVersion: 2.0.0\nmetadataTest:\n  exposedPorts: [\"\"]\n  volumes: [\"\"]\n",
			want: []string{`bad.yaml:3: metadataTest.exposedPorts[0]: Port cannot be empty`, `bad.yaml:4: metadataTest.volumes[0]: Volume cannot be empty`},
		},
		{
			name: "empty env value in a command test",
			yaml: "schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n    command: /a\n    envVars: [{key: A, value: \"\"}]\n",
			want: []string{"bad.yaml:5: commandTests[0].envVars[0]: Please provide non-empty keys and values for all specified env vars"},
		},
		{
			name: "schema 2.0.0 key in 1.0.0",
			yaml: "schemaVersion: 1.0.0\nmetadataTest: {user: a}\n",
			want: []string{`bad.yaml:2: unknown key "metadataTest" at the top level (schema 1.0.0)`},
		},
		{
			name: "uid in 1.0.0",
			yaml: "schemaVersion: 1.0.0\nfileExistenceTests: [{name: a, path: /a, uid: 0}]\n",
			want: []string{`bad.yaml:2: unknown key "uid" in a fileExistenceTests entry (schema 1.0.0)`},
		},
		{
			name: "empty command",
			yaml: "schemaVersion: 2.0.0\ncommandTests:\n  - name: a\n    setup: [[]]\n",
			want: []string{"commandTests[0]: command is missing", "commandTests[0].setup[0]: setup[0] is empty"},
		},
		{
			name: "unknown key and bad regex reported together",
			yaml: "schemaVersion: 2.0.0\nmetadataTest:\n  usr: x\nfileContentTests:\n  - {name: a, path: /a, expectedContents: ['(']}\n",
			want: []string{
				`bad.yaml:3: unknown key "usr" in metadataTest`,
				`bad.yaml:5: fileContentTests[0].expectedContents[0]: invalid regular expression "("`,
			},
		},
		{
			name: "two documents",
			yaml: "schemaVersion: 2.0.0\n---\nschemaVersion: 2.0.0\n",
			want: []string{"bad.yaml:2: a second YAML document"},
		},
		{
			name: "empty file",
			yaml: "",
			want: []string{"bad.yaml: schemaVersion is missing"},
		},
		{
			name: "syntax error",
			yaml: "schemaVersion: 2.0.0\nmetadataTest:\n  user: [\n",
			want: []string{"bad.yaml:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q; error:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("schemaVersion: 2.0.0\nbogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file)
	if want := file + `:2: unknown key "bogus"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load error = %v, want it to contain %q", err, want)
	}
}

func TestParseImageChecks(t *testing.T) {
	got, err := ParseImageChecks("checks.yaml", []byte(`schemaVersion: cat-server.image-checks/v1
size:
  maxCompressedBytes: 10000000
  maxUncompressedBytes: 50000000
healthcheck:
  test: ["CMD", "/app/cat-server", "healthcheck"]
  interval: 30s
  timeout: 3s
  startPeriod: 5s
  retries: 3
noSetuidFiles: true
`))
	if err != nil {
		t.Fatalf("ParseImageChecks: %v", err)
	}
	want := &ImageChecks{
		SchemaVersion: ImageChecksSchemaVersion,
		Size:          &SizeLimits{MaxCompressedBytes: ptr[int64](10000000), MaxUncompressedBytes: ptr[int64](50000000)},
		Healthcheck: &HealthcheckExpects{
			Test:     []string{"CMD", "/app/cat-server", "healthcheck"},
			Interval: ptr(30 * time.Second), Timeout: ptr(3 * time.Second), StartPeriod: ptr(5 * time.Second), Retries: ptr(3),
		},
		NoSetuidFiles: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	minimal, err := ParseImageChecks("min.yaml", []byte("schemaVersion: cat-server.image-checks/v1\n"))
	if err != nil {
		t.Fatalf("minimal: %v", err)
	}
	if diff := cmp.Diff(&ImageChecks{SchemaVersion: ImageChecksSchemaVersion}, minimal); diff != "" {
		t.Errorf("minimal mismatch (-want +got):\n%s", diff)
	}
}

func TestParseImageChecksErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "schemaVersion: cat-server.image-checks/v1\nsize:\n  maxBytes: 1\n", `checks.yaml:3: unknown key "maxBytes" in size`},
		{"unknown healthcheck key", "schemaVersion: cat-server.image-checks/v1\nhealthcheck:\n  start_period: 5s\n", `checks.yaml:3: unknown key "start_period" in healthcheck`},
		{"missing schemaVersion", "noSetuidFiles: true\n", `schemaVersion is missing, want "cat-server.image-checks/v1"`},
		{"CST schemaVersion", "schemaVersion: 2.0.0\n", `schemaVersion is "2.0.0", want "cat-server.image-checks/v1"`},
		{"bad duration", "schemaVersion: cat-server.image-checks/v1\nhealthcheck:\n  interval: 30\n", "checks.yaml:3: cannot unmarshal !!int `30` into time.Duration"},
		{"negative size", "schemaVersion: cat-server.image-checks/v1\nsize:\n  maxCompressedBytes: -1\n", "checks.yaml:3: size.maxCompressedBytes: maxCompressedBytes is -1, want > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseImageChecks("checks.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseUpstreamForms(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       Config
	}{
		{
			name: "schema 1.0.0: command list is command and args",
			yaml: "schemaVersion: 1.0.0\ncommandTests:\n  - {name: a, command: [ls, -l, /], exitCode: 0}\nfileExistenceTests:\n  - {name: b, path: /b, permissions: -rw-r--r--}\nlicenseTests: [{debian: true}]\n",
			want: Config{SchemaVersion: "1.0.0",
				CommandTests:       []CommandTest{{Name: "a", Command: "ls", Args: []string{"-l", "/"}}},
				FileExistenceTests: []FileExistenceTest{{Name: "b", Path: "/b", Permissions: "-rw-r--r--"}},
				LicenseTests:       []LicenseTest{{Debian: true}}},
		},
		{
			name: "schema 2.0.0: licenseTests, containerRunOptions, unboundEnvVars, uid -1, relative $VAR path",
			yaml: `schemaVersion: 2.0.0
licenseTests: [{files: [/LICENSE]}]
containerRunOptions: {user: "1000", privileged: true, allocateTty: true, envVars: [A=b], envFile: e.env, capabilities: [NET_ADMIN], bindMounts: ["/a:/b"]}
metadataTest: {unboundEnvVars: [{key: DEBUG}], user: "", workdir: ""}
fileExistenceTests: [{name: h, path: $HOME/x, uid: -1, gid: -1}]
`,
			want: Config{SchemaVersion: "2.0.0",
				LicenseTests: []LicenseTest{{Files: []string{"/LICENSE"}}},
				ContainerRunOptions: &ContainerRunOptions{User: "1000", Privileged: true, TTY: true, EnvVars: []string{"A=b"},
					EnvFile: "e.env", Capabilities: []string{"NET_ADMIN"}, BindMounts: []string{"/a:/b"}},
				MetadataTest:       &MetadataTest{UnboundEnvVars: []EnvVar{{Key: "DEBUG"}}, User: ptr(""), Workdir: ptr("")},
				FileExistenceTests: []FileExistenceTest{{Name: "h", Path: "$HOME/x", UID: ptr(-1), GID: ptr(-1)}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("f.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileKinds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(write("c.txt", "schemaVersion: 2.0.0\n")); err == nil || !strings.Contains(err.Error(), "Please provide valid JSON or YAML config file") {
		t.Errorf("a .txt config: err = %v, want the upstream message", err)
	}
	c, err := Load(write("c.json", `{"schemaVersion": "2.0.0", "extra": 1, "metadataTest": {"user": "1000"}}`))
	if err != nil {
		t.Fatalf("a .json config with an unknown key (upstream ignores it): %v", err)
	}
	if c.MetadataTest == nil || c.MetadataTest.User == nil || *c.MetadataTest.User != "1000" {
		t.Errorf("json config decoded as %+v", c)
	}
	if _, err := Load(write("c.yml", "schemaVersion: 2.0.0\nextra: 1\n")); err == nil {
		t.Error("a .yml config with an unknown key: want an error")
	}
}
