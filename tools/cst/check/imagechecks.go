package check

import (
	"archive/tar"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Sizes are an image's sizes as a registry and a container engine see them.
type Sizes struct {
	// Compressed is what a registry stores: the (compressed) layer blobs,
	// the config blob and the manifest.
	Compressed int64
	// Uncompressed is the sum of the uncompressed layer tars.
	Uncompressed int64
}

// MeasureSizes computes img's sizes; the uncompressed size reads every layer.
func MeasureSizes(img v1.Image) (Sizes, error) {
	var s Sizes
	raw, err := img.RawManifest()
	if err != nil {
		return s, fmt.Errorf("reading the manifest: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return s, fmt.Errorf("reading the manifest: %w", err)
	}
	s.Compressed = int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		s.Compressed += l.Size
	}
	layers, err := img.Layers()
	if err != nil {
		return s, fmt.Errorf("reading the layers: %w", err)
	}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return s, fmt.Errorf("reading layer %d: %w", i, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return s, fmt.Errorf("reading layer %d: %w", i, err)
		}
		s.Uncompressed += n
	}
	return s, nil
}

// HumanBytes renders n in decimal units: "4.1 MB".
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// ImageChecks runs the image checks of ic. root is only used for
// noSetuidFiles and may be nil otherwise; sizes is only used for size
// limits and may be nil otherwise.
func ImageChecks(file string, ic *config.ImageChecks, cf *v1.ConfigFile, sizes *Sizes, root *imagefs.FS) []Result {
	var results []Result
	if s := ic.Size; s != nil {
		for _, lim := range []struct {
			what, field string
			max         *int64
			got         int64
		}{
			{"compressed", "maxCompressedBytes", s.MaxCompressedBytes, sizes.Compressed},
			{"uncompressed", "maxUncompressedBytes", s.MaxUncompressedBytes, sizes.Uncompressed},
		} {
			if lim.max == nil {
				continue
			}
			r := Result{File: file, Name: "size"}
			if lim.got > *lim.max {
				r.fail(lim.field, fmt.Sprintf("%s size <= %d bytes (%s)", lim.what, *lim.max, HumanBytes(*lim.max)),
					fmt.Sprintf("%d bytes (%s), %d bytes over", lim.got, HumanBytes(lim.got), lim.got-*lim.max))
			} else {
				r.Detail = fmt.Sprintf("%s %s (%d bytes) <= %d", lim.what, HumanBytes(lim.got), lim.got, *lim.max)
			}
			results = append(results, r)
		}
	}
	if want := ic.Healthcheck; want != nil {
		results = append(results, healthcheck(file, want, cf.Config.Healthcheck)...)
	}
	if ic.NoSetuidFiles {
		r := Result{File: file, Name: "noSetuidFiles"}
		root.Walk(func(e *imagefs.Entry) {
			if e.Header.Typeflag != tar.TypeDir && e.Header.Mode&0o6000 != 0 {
				r.fail(e.Path, "no setuid/setgid bit", fmt.Sprintf("%s (mode %04o, uid %d, gid %d)", e.Mode(), e.Header.Mode&0o7777, e.Header.Uid, e.Header.Gid))
			}
		})
		results = append(results, r)
	}
	if want := ic.ExposedPortsExactly; want != nil {
		results = append(results, exposedPortsExactly(file, want, cf.Config.ExposedPorts))
	}
	return results
}

// exposedPortsExactly compares the image's exposed ports, as a set, with want.
func exposedPortsExactly(file string, want []string, got map[string]struct{}) Result {
	norm := func(p string) string {
		if !strings.Contains(p, "/") {
			return p + "/tcp"
		}
		return p
	}
	var w, g []string
	for _, p := range want {
		w = append(w, norm(p))
	}
	for p := range got {
		g = append(g, norm(p))
	}
	slices.Sort(w)
	w = slices.Compact(w)
	slices.Sort(g)
	r := Result{File: file, Name: "exposedPortsExactly"}
	if !slices.Equal(w, g) {
		r.fail("", fmt.Sprintf("%q", w), fmt.Sprintf("%q", g))
	}
	return r
}

func healthcheck(file string, want *config.HealthcheckExpects, got *v1.HealthConfig) []Result {
	if got == nil || len(got.Test) == 0 || (len(got.Test) == 1 && got.Test[0] == "NONE") {
		r := Result{File: file, Name: "healthcheck"}
		detail := ""
		if want.Test != nil {
			detail = fmt.Sprintf(" (expected test %q)", want.Test)
		}
		if got != nil && len(got.Test) == 1 {
			detail += " (HEALTHCHECK NONE)"
		}
		r.failMsg("", "image has no HEALTHCHECK%s", detail)
		return []Result{r}
	}
	var results []Result
	field := func(name string, differs bool, expected, actual string) {
		r := Result{File: file, Name: "healthcheck." + name}
		if differs {
			r.fail("", expected, actual)
		}
		results = append(results, r)
	}
	if want.Test != nil {
		field("test", !slices.Equal(want.Test, got.Test), fmt.Sprintf("%q", want.Test), fmt.Sprintf("%q", got.Test))
	}
	for _, d := range []struct {
		name string
		want *time.Duration
		got  time.Duration
	}{{"interval", want.Interval, got.Interval}, {"timeout", want.Timeout, got.Timeout}, {"startPeriod", want.StartPeriod, got.StartPeriod}} {
		if d.want != nil {
			field(d.name, *d.want != d.got, d.want.String(), durationOrUnset(d.got))
		}
	}
	if want.Retries != nil {
		field("retries", *want.Retries != got.Retries, fmt.Sprint(*want.Retries), fmt.Sprint(got.Retries))
	}
	if len(results) == 0 {
		results = append(results, Result{File: file, Name: "healthcheck", Detail: fmt.Sprintf("present: %q", got.Test)})
	}
	return results
}

func durationOrUnset(d time.Duration) string {
	if d == 0 {
		return "0s (unset: engine default)"
	}
	return d.String()
}
