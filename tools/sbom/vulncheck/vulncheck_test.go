package vulncheck

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddModules(t *testing.T) {
	o := Options{
		MainPackage: "example.com/app/cmd", MainModule: Module{"example.com/app", "(devel)"},
		Modules: []Module{{"example.com/lib", "v1.2.3"}}, GOOS: "linux", GOARCH: "amd64",
	}
	tests := []struct {
		name, body   string
		want         map[string]any
		wantStripped bool
	}{{
		name: "rules_go binary: only the Go version and symbols",
		body: `{"goVersion":"go1.26.8","pkgSymbols":[{"pkg":"example.com/lib","name":"F"}]}`,
		want: map[string]any{
			"goVersion": "go1.26.8", "pkgSymbols": []any{map[string]any{"pkg": "example.com/lib", "name": "F"}},
			"modules": []any{map[string]any{"Path": "example.com/lib", "Version": "v1.2.3"}},
			"main":    map[string]any{"Path": "example.com/app", "Version": "(devel)"},
			"path":    "example.com/app/cmd", "goos": "linux", "goarch": "amd64",
		},
	}, {
		name: "go build binary: its own modules win",
		body: `{"goVersion":"go1.26.8","modules":[{"Path":"example.com/lib","Version":"v9.9.9"}],"path":"x","pkgSymbols":[]}`,
		want: map[string]any{
			"goVersion": "go1.26.8", "pkgSymbols": []any{},
			"modules": []any{map[string]any{"Path": "example.com/lib", "Version": "v9.9.9"}},
			"main":    map[string]any{"Path": "example.com/app", "Version": "(devel)"},
			"path":    "x", "goos": "linux", "goarch": "amd64",
		},
	}, {
		name:         "stripped binary",
		body:         `{"goVersion":"go1.26.8"}`,
		wantStripped: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stripped, err := addModules([]byte(`{"name":"govulncheck-extract","version":"0.1.0"}`+"\n"+tt.body+"\n"), o)
			if err != nil {
				t.Fatal(err)
			}
			if stripped != tt.wantStripped {
				t.Errorf("stripped = %v, want %v", stripped, tt.wantStripped)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 2 || lines[0] != `{"name":"govulncheck-extract","version":"0.1.0"}` {
				t.Fatalf("extract:\n%s", out)
			}
			if tt.want == nil {
				return
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := addModules([]byte("not json"), o); err == nil {
		t.Error("bad extract accepted")
	}
}

func TestFindingString(t *testing.T) {
	f := Finding{ID: "GO-1", Summary: "s", Module: "m", Version: "v1.0.0", Level: LevelSymbol, Symbols: []string{"m.F"}}
	if got, want := f.String(), "FAIL GO-1: m@v1.0.0 (no fixed version): vulnerable symbol in the binary: m.F: s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	f.Level, f.Fixed = LevelPackage, "v1.0.1"
	if f.Fails() || !strings.HasPrefix(f.String(), "WARN GO-1: m@v1.0.0 (fixed in v1.0.1)") {
		t.Errorf("package level: fails %v, %q", f.Fails(), f.String())
	}
}
