// Package release publishes a stamped image so that a consumer can verify it:
// the image by digest, its SBOM referrer, a cosign signature, the CycloneDX
// SBOM and SLSA provenance attestations, and only then the tags, so that a tag
// never points at something unsigned. Every step is safe to repeat: pushes are
// by digest, tags move last, and a second signature or attestation of the same
// content (cosign 3 adds one per run) verifies as the first.
package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/push"
)

// Inputs are the files the build made (the rule passes their paths).
type Inputs struct {
	Image        string // OCI layout of the image or index
	SBOM         string // CycloneDX JSON (optional)
	SBOMArtifact string // OCI layout of the SBOM referrer (optional)
	Provenance   string // SLSA v1 predicate (optional)
	Stamp        string // stamp.json of //tools/stamp:stamp
	StampedTags  string // one tag per line (optional)
	Recursive    bool   // sign an index and each of its images
}

// Flags are the user's: --repository=REG/REPO --key=KEYREF [--offline] [--tag=T]...
type Flags struct {
	Repository string
	Key        string
	Offline    bool
	Tags       []string
}

const usage = "usage: bazel run --stamp //image:release -- --repository=REGISTRY/REPOSITORY --key=KEYREF [--offline] [--tag=TAG]..."

// ParseFlags reads the user's flags (--flag=value or --flag value).
func ParseFlags(args []string) (Flags, error) {
	var f Flags
	for i := 0; i < len(args); i++ {
		a := args[i]
		key, val, hasVal := strings.Cut(a, "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value; %s", key, usage)
			}
			i++
			return args[i], nil
		}
		var err error
		switch key {
		case "--repository", "-r":
			f.Repository, err = value()
		case "--key":
			f.Key, err = value()
		case "--tag", "-t":
			var t string
			t, err = value()
			f.Tags = append(f.Tags, t)
		case "--offline":
			if hasVal {
				return Flags{}, fmt.Errorf("--offline takes no value, got %q", a)
			}
			f.Offline = true
		default:
			return Flags{}, fmt.Errorf("unknown argument %q; %s", a, usage)
		}
		if err != nil {
			return Flags{}, err
		}
	}
	if f.Repository == "" {
		return Flags{}, fmt.Errorf("--repository is required; %s", usage)
	}
	if f.Offline && f.Key == "" {
		return Flags{}, errors.New("--offline needs --key=KEYREF: keyless signing needs the public Sigstore services (Fulcio, Rekor)")
	}
	return f, nil
}

// Stamp is //tools/stamp:stamp's stamp.json ({"stamped": false} alone without --stamp).
type Stamp struct {
	Stamped  bool   `json:"stamped"`
	Revision string `json:"revision,omitempty"`
	Version  string `json:"version,omitempty"`
	Dirty    bool   `json:"dirty,omitempty"`
	Created  string `json:"created,omitempty"`
}

// ReadStamp reads stamp.json and refuses an unstamped build.
func ReadStamp(path string) (Stamp, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Stamp{}, fmt.Errorf("reading the stamp: %w", err)
	}
	var s Stamp
	if err := json.Unmarshal(raw, &s); err != nil {
		return Stamp{}, fmt.Errorf("%s: not a stamp file: %v", path, err)
	}
	if !s.Stamped {
		return Stamp{}, fmt.Errorf("refusing to release an unstamped build (%s says \"stamped\": false): run it with --stamp, e.g. %s", path, strings.TrimPrefix(usage, "usage: "))
	}
	if s.Revision == "" || s.Version == "" {
		return Stamp{}, fmt.Errorf("%s: a stamped build needs \"revision\" and \"version\"", path)
	}
	return s, nil
}

// Tags returns the stamped tags (one per line of file; none when file is "")
// followed by extra, without repeats.
func Tags(file string, extra []string) ([]string, error) {
	var tags []string
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the stamped tags: %w", err)
		}
		for _, l := range strings.Split(string(raw), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				tags = append(tags, l)
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range append(tags, extra...) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// Cosign runs cosign with args (found on PATH by the command).
type Cosign func(ctx context.Context, args []string) error

// Step is one thing the release does.
type Step struct {
	What string
	Do   func(ctx context.Context) error
}

// Plan returns the steps in order: image, SBOM referrer, signature,
// attestations, tags.
func Plan(in Inputs, f Flags, tags []string, cosign Cosign, out io.Writer, opts ...remote.Option) ([]Step, error) {
	repo, tagRefs, err := push.Target(f.Repository, tags)
	if err != nil {
		return nil, err
	}
	img, err := ocilayout.ReadArtifact(in.Image)
	if err != nil {
		return nil, err
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Image, err)
	}
	ref := repo.Digest(digest.String()).String()
	opts = append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	cosignFlags := []string{"--yes"}
	if f.Key != "" {
		cosignFlags = append(cosignFlags, "--key", f.Key)
	}
	if f.Offline {
		// A registry without a transparency log: no Rekor upload, no TUF-provided
		// signing config (cosign 3.1.1's flags).
		cosignFlags = append(cosignFlags, "--tlog-upload=false", "--use-signing-config=false")
	}
	steps := []Step{{
		What: "push the image " + ref,
		Do: func(ctx context.Context) error {
			_, err := push.Push(ctx, img.(push.Artifact), f.Repository, nil, out, opts...)
			return err
		},
	}}
	if in.SBOMArtifact != "" {
		art, err := ocilayout.ReadArtifact(in.SBOMArtifact)
		if err != nil {
			return nil, err
		}
		ad, err := art.Digest()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.SBOMArtifact, err)
		}
		steps = append(steps, Step{
			What: "push the SBOM referrer " + repo.Digest(ad.String()).String(),
			Do: func(ctx context.Context) error {
				_, err := push.Push(ctx, art.(push.Artifact), f.Repository, nil, out, opts...)
				return err
			},
		})
	}
	sign := append([]string{"sign"}, cosignFlags...)
	if in.Recursive {
		sign = append(sign, "--recursive")
	}
	steps = append(steps, Step{
		What: "sign " + ref,
		Do:   func(ctx context.Context) error { return cosign(ctx, append(sign, ref)) },
	})
	for _, a := range []struct{ typ, predicate string }{{"cyclonedx", in.SBOM}, {"slsaprovenance1", in.Provenance}} {
		if a.predicate == "" {
			continue
		}
		args := append(append([]string{"attest"}, cosignFlags...), "--type", a.typ, "--predicate", a.predicate, ref)
		steps = append(steps, Step{
			What: "attest " + a.typ + " on " + ref,
			Do:   func(ctx context.Context) error { return cosign(ctx, args) },
		})
	}
	for _, t := range tagRefs {
		steps = append(steps, Step{
			What: "tag " + t.String(),
			Do: func(ctx context.Context) error {
				if err := remote.Tag(t, img.(remote.Taggable), append(opts, remote.WithContext(ctx))...); err != nil {
					return fmt.Errorf("tagging %s as %s: %w", ref, t.TagStr(), err)
				}
				fmt.Fprintf(out, "tagged %s\n", t)
				return nil
			},
		})
	}
	return steps, nil
}

// Run runs the steps in order. When one fails it returns an error saying
// what was done, what was not, and that running again is safe.
func Run(ctx context.Context, steps []Step, out io.Writer) error {
	for i, s := range steps {
		fmt.Fprintf(out, "release: [%d/%d] %s\n", i+1, len(steps), s.What)
		if err := s.Do(ctx); err != nil {
			var done, notDone []string
			for _, d := range steps[:i] {
				done = append(done, d.What)
			}
			for _, d := range steps[i:] {
				notDone = append(notDone, d.What)
			}
			if len(done) == 0 {
				done = []string{"nothing"}
			}
			return fmt.Errorf("release stopped at step %d/%d (%s): %w\n  done: %s\n  not done: %s\n"+
				"  no tag was moved before every signature and attestation was in place; running the same command again is safe "+
				"(pushes are by digest and tags move last; a second run adds one more signature and attestation of the same content, which verify the same)",
				i+1, len(steps), s.What, err, strings.Join(done, "; "), strings.Join(notDone, "; "))
		}
	}
	fmt.Fprintf(out, "release: done, %d steps\n", len(steps))
	return nil
}
