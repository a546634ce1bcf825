// Package configedit changes the config of the one image in an OCI layout
// and writes the result as a new layout: what rules_oci's oci_image has no
// attribute for (Docker's HEALTHCHECK, a numeric user taken from the build's
// --define values). It takes any single-image layout, e.g. the output of
// rules_oci's oci_image or of this repository's; layers are kept as they are.
package configedit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/cat-server/cat-server/tools/oci/build"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/rawconfig"
)

// Spec is the JSON spec of `ocitool config`.
type Spec struct {
	// Image is the input OCI layout directory (one image manifest).
	Image string `json:"image"`
	// User, when set, replaces the config's User. It must be numeric
	// "UID:GID" (both 0..2147483646), so that orchestrators can check
	// non-root without a passwd lookup.
	User string `json:"user"`
	// Healthcheck, when set, replaces Docker's config.Healthcheck. It is
	// Docker-specific: the OCI image spec has no health check.
	Healthcheck *Healthcheck `json:"healthcheck"`
	// Out is the OCI layout directory to write.
	Out string `json:"out"`
	// DigestOut, if set, receives "sha256:...\n", as rules_oci's
	// <name>.digest target writes it.
	DigestOut string `json:"digest_out"`
}

// Healthcheck is the JSON form of v1.HealthConfig; durations are Go
// duration strings such as "30s" or "1m30s".
type Healthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	StartPeriod string   `json:"start_period"`
	Retries     int      `json:"retries"`
}

// Edit applies spec and writes the new layout (and digest file).
func Edit(spec Spec) (v1.Hash, error) {
	if spec.Image == "" || spec.Out == "" {
		return v1.Hash{}, errors.New(`"image" and "out" are required`)
	}
	img, err := ocilayout.Read(spec.Image)
	if err != nil {
		return v1.Hash{}, fmt.Errorf(`"image": %w`, err)
	}
	img, err = Apply(img, spec)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := validate.Image(img, validate.Fast); err != nil {
		return v1.Hash{}, fmt.Errorf("the edited image is invalid: %s", build.OneLine(err))
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.Write(spec.Out, img); err != nil {
		return v1.Hash{}, err
	}
	if err := ocilayout.WriteDigest(spec.DigestOut, digest); err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// Apply returns img with spec's config changes.
func Apply(img v1.Image, spec Spec) (v1.Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	if spec.User != "" {
		if err := checkNumericUser(spec.User); err != nil {
			return nil, fmt.Errorf(`"user": %w`, err)
		}
		cfg.Config.User = spec.User
	}
	if spec.Healthcheck != nil {
		hc, err := healthConfig(*spec.Healthcheck)
		if err != nil {
			return nil, fmt.Errorf(`"healthcheck": %w`, err)
		}
		cfg.Config.Healthcheck = hc
	}
	// Keep the lists the config holds as [] (an oci_image with
	// entrypoint = [], an image without layers): see rawconfig.
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	empties, err := rawconfig.Of(raw)
	if err != nil {
		return nil, err
	}
	if empties.Any() {
		return rawconfig.Set(img, cfg, empties)
	}
	return mutate.ConfigFile(img, cfg)
}

func checkNumericUser(u string) error {
	uid, gid, ok := strings.Cut(u, ":")
	if !ok {
		return fmt.Errorf("%q is not UID:GID", u)
	}
	for _, s := range []string{uid, gid} {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 2147483646 || strconv.Itoa(n) != s {
			return fmt.Errorf("%q is not UID:GID with integers in 0..2147483646", u)
		}
	}
	return nil
}

func healthConfig(h Healthcheck) (*v1.HealthConfig, error) {
	if len(h.Test) == 0 {
		return nil, errors.New(`"test" is required, e.g. ["CMD", "/app/bin", "healthcheck"] or ["NONE"]`)
	}
	switch h.Test[0] {
	case "NONE", "CMD", "CMD-SHELL":
	default:
		return nil, fmt.Errorf(`"test" must start with "CMD", "CMD-SHELL" or "NONE", got %q`, h.Test[0])
	}
	if h.Retries < 0 {
		return nil, fmt.Errorf(`"retries" must not be negative, got %d`, h.Retries)
	}
	hc := &v1.HealthConfig{Test: append([]string{}, h.Test...), Retries: h.Retries}
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"interval", h.Interval, &hc.Interval}, {"timeout", h.Timeout, &hc.Timeout}, {"start_period", h.StartPeriod, &hc.StartPeriod}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return nil, fmt.Errorf(`%q: %q is not a duration such as "30s" or "1m30s"`, d.name, d.s)
		}
		*d.dst = v
	}
	return hc, nil
}
