// Package rawconfig writes image configs whose JSON keeps explicit empty
// lists ("Entrypoint": [], "Cmd": [], "history": []) as rules_oci's oci_image
// writes them. go-containerregistry's v1.ConfigFile drops empty lists when
// marshalled (omitempty), so such a config is marshalled as usual and the
// empty lists are put back.
package rawconfig

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Empty says which lists a config holds as an explicit [].
type Empty struct {
	Entrypoint, Cmd, History bool
}

// Any reports whether any list is an explicit [].
func (e Empty) Any() bool { return e.Entrypoint || e.Cmd || e.History }

// Of reports which lists the config JSON raw holds as an explicit [].
func Of(raw []byte) (Empty, error) {
	var c struct {
		History *[]json.RawMessage `json:"history"`
		Config  struct {
			Entrypoint *[]string `json:"Entrypoint"`
			Cmd        *[]string `json:"Cmd"`
		} `json:"config"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Empty{}, fmt.Errorf("image config: %w", err)
	}
	empty := func(l *[]string) bool { return l != nil && len(*l) == 0 }
	return Empty{
		Entrypoint: empty(c.Config.Entrypoint),
		Cmd:        empty(c.Config.Cmd),
		History:    c.History != nil && len(*c.History) == 0,
	}, nil
}

// mark stands for an empty list while cfg is marshalled: a NUL byte never
// appears in a valid config value.
const mark = "\x00rawconfig:empty\x00"

// Marshal returns cfg's JSON as go-containerregistry writes it, with the
// lists e names written as [] where cfg has them empty.
func Marshal(cfg *v1.ConfigFile, e Empty) ([]byte, error) {
	c := cfg.DeepCopy()
	type swap struct{ from, to string }
	var swaps []swap
	if e.Entrypoint && len(c.Config.Entrypoint) == 0 {
		c.Config.Entrypoint = []string{mark}
		swaps = append(swaps, swap{`"Entrypoint":` + marshal(c.Config.Entrypoint), `"Entrypoint":[]`})
	}
	if e.Cmd && len(c.Config.Cmd) == 0 {
		c.Config.Cmd = []string{mark}
		swaps = append(swaps, swap{`"Cmd":` + marshal(c.Config.Cmd), `"Cmd":[]`})
	}
	if e.History && len(c.History) == 0 {
		c.History = []v1.History{{Comment: mark}}
		swaps = append(swaps, swap{`"history":` + marshal(c.History), `"history":[]`})
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	for _, s := range swaps {
		if n := bytes.Count(raw, []byte(s.from)); n != 1 {
			return nil, fmt.Errorf("image config: found %s %d times while writing it as []", s.to, n)
		}
		raw = bytes.Replace(raw, []byte(s.from), []byte(s.to), 1)
	}
	return raw, nil
}

// marshal is json.Marshal of a value that always marshals.
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Image returns img with raw as its config blob; the manifest's config
// descriptor gets raw's digest and size, everything else stays.
func Image(img v1.Image, raw []byte) (v1.Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	d, n, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m.Config.Digest, m.Config.Size, m.Config.Data = d, n, nil
	rm, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	md, _, err := v1.SHA256(bytes.NewReader(rm))
	if err != nil {
		return nil, err
	}
	return &withConfig{Image: img, raw: raw, manifest: m, rawManifest: rm, digest: md}, nil
}

// Set returns img with its config replaced by cfg, keeping the lists e
// names as [] (img itself when e names none: go-containerregistry's own
// marshalling then gives the same bytes).
func Set(img v1.Image, cfg *v1.ConfigFile, e Empty) (v1.Image, error) {
	raw, err := Marshal(cfg, e)
	if err != nil {
		return nil, err
	}
	return Image(img, raw)
}

// withConfig is an image whose config blob (and so manifest) was replaced.
// Embedding the v1.Image interface promotes only its methods, so
// go-containerregistry's optional fast paths (ConfigLayer) of the
// original do not leak the old config.
type withConfig struct {
	v1.Image
	raw         []byte
	manifest    *v1.Manifest
	rawManifest []byte
	digest      v1.Hash
}

func (i *withConfig) RawConfigFile() ([]byte, error) { return i.raw, nil }
func (i *withConfig) ConfigName() (v1.Hash, error)   { return i.manifest.Config.Digest, nil }
func (i *withConfig) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(i.raw))
}
func (i *withConfig) Manifest() (*v1.Manifest, error) { return i.manifest.DeepCopy(), nil }
func (i *withConfig) RawManifest() ([]byte, error)    { return i.rawManifest, nil }
func (i *withConfig) Digest() (v1.Hash, error)        { return i.digest, nil }
func (i *withConfig) Size() (int64, error)            { return int64(len(i.rawManifest)), nil }
