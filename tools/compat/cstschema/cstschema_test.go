package cstschema

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func load(t *testing.T) *Schema {
	t.Helper()
	s, err := Load("../facts/container-structure-test_v1.22.0_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheck(t *testing.T) {
	s := load(t)
	tests := []struct {
		name string
		yaml string
		want []string // problems, without the "f.yaml:" prefix
	}{
		{"v2 every kind", `schemaVersion: 2.0.0
globalEnvVars: [{key: A, value: b}]
metadataTest:
  envVars: [{key: PATH, value: '.*', isRegex: true}]
  unboundEnvVars: [{key: DEBUG}]
  exposedPorts: [8080, "443"]
  unexposedPorts: ["22"]
  entrypoint: []
  cmd: [a]
  workdir: ""
  user: ""
  volumes: [/v]
  unmountedVolumes: [/w]
  labels: [{key: a, value: b}]
fileExistenceTests:
  - {name: a, path: /a, shouldExist: yes, permissions: -rw-r--r--, uid: -1, gid: 0, isExecutableBy: any}
fileContentTests:
  - {name: b, path: /b, expectedContents: [x], excludedContents: [y]}
commandTests:
  - {name: c, setup: [[a, b]], teardown: [[c]], envVars: [{key: K, value: V}], exitCode: 0x1, command: ls, args: [-l], expectedOutput: [o], excludedOutput: [p], expectedError: [e], excludedError: [f]}
licenseTests:
  - {debian: true, files: [/LICENSE]}
containerRunOptions: {user: root, privileged: false, allocateTty: true, envVars: [A=b], envFile: .env, capabilities: [NET_ADMIN], bindMounts: ["/a:/b"]}
`, nil},
		{"v1 every kind", `schemaVersion: "1.0.0"
globalEnvVars: [{key: A, value: b}]
commandTests: [{name: c, command: [ls, -l], setup: [[a]], exitCode: 1}]
fileExistenceTests: [{name: a, path: /a, shouldExist: false, permissions: drwxr-xr-x}]
fileContentTests: [{name: b, path: /b, expectedContents: [x]}]
licenseTests: [{debian: false}]
`, nil},
		{"null values", "schemaVersion: 2.0.0\nmetadataTest:\ncommandTests: ~\n", nil},
		{"anchors and merges", "schemaVersion: 2.0.0\nx_: &e {key: A, value: b}\n", []string{"2: the file: field x_ not found in type structureTestV2 (pkg/types/v2/structure.go)"}},
		{"merge key", "schemaVersion: 2.0.0\nglobalEnvVars:\n  - &e {key: A, value: b}\n  - <<: *e\n    value: c\n", nil},
		{"no version", "metadataTest: {user: a}\n", []string{"1: Please provide schema version"}},
		{"unknown version", "schemaVersion: 3.0.0\n", []string{"1: Unsupported schema version: 3.0.0"}},
		{"unknown top-level key", "schemaVersion: 2.0.0\nimageChecks: {}\n", []string{"2: the file: field imageChecks not found in type structureTestV2 (pkg/types/v2/structure.go)"}},
		{"v2 key in v1", "schemaVersion: 1.0.0\nmetadataTest: {user: a}\n", []string{"2: the file: field metadataTest not found in type structureTestV1 (pkg/types/v1/structure.go)"}},
		{"v1 command list in v2", "schemaVersion: 2.0.0\ncommandTests: [{name: a, command: [ls]}]\n", []string{`2: commandTests[0].command: cannot unmarshal a sequence into string`}},
		{"args in v1", "schemaVersion: 1.0.0\ncommandTests: [{name: a, command: [ls], args: [x]}]\n", []string{"2: commandTests[0]: field args not found in type commandTestV1 (pkg/types/v1/command.go)"}},
		{"uid in v1", "schemaVersion: 1.0.0\nfileExistenceTests: [{name: a, path: /a, uid: 0}]\n", []string{"2: fileExistenceTests[0]: field uid not found in type fileExistenceTestV1 (pkg/types/v1/file_existence.go)"}},
		{"misspelt field", "schemaVersion: 2.0.0\nmetadataTest:\n  exposedPort: [\"80\"]\n", []string{"3: metadataTest: field exposedPort not found in type metadataTest (pkg/types/v2/metadata.go)"}},
		{"size has no key", "schemaVersion: 2.0.0\nmetadataTest:\n  size: 10\n", []string{"3: metadataTest: field size not found in type metadataTest (pkg/types/v2/metadata.go)"}},
		{"quoted int", "schemaVersion: 2.0.0\nfileExistenceTests: [{name: a, path: /a, uid: \"0\"}]\n", []string{`2: fileExistenceTests[0].uid: cannot unmarshal the quoted string "0" into int`}},
		{"unexpanded template", "schemaVersion: 2.0.0\nfileExistenceTests: [{name: a, path: /a, gid: $(GID)}]\n", []string{`2: fileExistenceTests[0].gid: cannot unmarshal str "$(GID)" into int`}},
		{"quoted bool", "schemaVersion: 2.0.0\nfileExistenceTests: [{name: a, path: /a, shouldExist: \"false\"}]\n", []string{`2: fileExistenceTests[0].shouldExist: cannot unmarshal the quoted string "false" into bool`}},
		{"list for a string", "schemaVersion: 2.0.0\nmetadataTest: {user: [a]}\n", []string{"2: metadataTest.user: cannot unmarshal a sequence into string"}},
		{"string for a list", "schemaVersion: 2.0.0\nmetadataTest: {exposedPorts: \"8080\"}\n", []string{`2: metadataTest.exposedPorts: cannot unmarshal the quoted string "8080" into []string`}},
		{"duplicate key", "schemaVersion: 2.0.0\nmetadataTest: {user: a, user: b}\n", nil}, // replaced below: yaml.v3 refuses to parse it
		{"mapping for a list", "schemaVersion: 2.0.0\ncommandTests: {name: a}\n", []string{"2: commandTests: cannot unmarshal a mapping into []commandTestV2"}},
		{"not a mapping", "- a\n", []string{"1: the file must be a mapping"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Check("f.yaml", []byte(tc.yaml))
			if tc.name == "duplicate key" {
				if len(got) != 1 || !strings.Contains(got[0], `"user" already`) {
					t.Errorf("want one duplicate-key problem, got %q", got)
				}
				return
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, "f.yaml:"+w)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRejectsUnknownTypes(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"field.json":   `{"versions": {"2.0.0": "root"}, "types": {"root": {"fields": {"a": "[]nope"}}}}`,
		"version.json": `{"versions": {"2.0.0": "missing"}, "types": {}}`,
		"key.json":     `{"versions": {}, "types": {}, "extra": 1}`,
	} {
		p := dir + "/" + name
		if err := writeFile(p, body); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil {
			t.Errorf("Load(%s): want an error", name)
		}
	}
}

func writeFile(p, body string) error { return os.WriteFile(p, []byte(body), 0o644) }
