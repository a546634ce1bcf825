package specfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type inner struct {
	N int `json:"n"`
}

type spec struct {
	Name  string            `json:"name"`
	List  *[]string         `json:"list"`
	Inner []inner           `json:"inner"`
	Map   map[string]string `json:"map"`
}

func TestDecode(t *testing.T) {
	var got spec
	if err := DecodeBytes([]byte(`{"name": "x", "list": [], "inner": [{"n": 3}], "map": {"k": "v"}}`), &got); err != nil {
		t.Fatal(err)
	}
	want := spec{Name: "x", List: &[]string{}, Inner: []inner{{3}}, Map: map[string]string{"k": "v"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var null spec
	if err := DecodeBytes([]byte(`{"list": null}`), &null); err != nil || null.List != nil {
		t.Errorf("null list decoded as %v, %v; want nil", null.List, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"nmae": "x"}`, `unknown field "nmae"`},
		{`{"name": 1}`, `field "name": want a string, got JSON number`},
		{`{"inner": [{"n": "3"}]}`, `field "inner.n": want an integer, got JSON string`},
		{`{"inner": [{"n": 1, "m": 2}]}`, `unknown field "m"`},
		{`{"name": "x"} x`, "unexpected data after the JSON object"},
		{`{"name": "x",}`, "invalid JSON at byte"},
		{``, "empty file"},
		{`[]`, "want a JSON object, got JSON array"},
	} {
		var s spec
		err := DecodeBytes([]byte(tc.in), &s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeBytes(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
	p := filepath.Join(t.TempDir(), "spec.json")
	os.WriteFile(p, []byte(`{"bogus": 1}`), 0o644)
	var s spec
	if err := Decode(p, &s); err == nil || !strings.Contains(err.Error(), "spec "+p+`: unknown field "bogus"`) {
		t.Errorf("Decode error = %v, want the file named", err)
	}
}
