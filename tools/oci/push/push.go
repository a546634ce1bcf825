// Package push uploads an image to a registry: first by digest, then one
// tag at a time. Registries are spoken to over https; those on localhost,
// 127.0.0.1, ::1 and RFC 1918 addresses fall back to plain http when https
// fails (go-containerregistry's rule).
package push

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Artifact is what can be pushed: a v1.Image or a v1.ImageIndex.
type Artifact interface {
	remote.Taggable
	Digest() (v1.Hash, error)
}

// Push writes the image or index to repository@DIGEST, then tags it with
// each of tags, printing "pushed REPO@sha256:..." and "tagged REPO:TAG"
// lines to out. Credentials come from authn.DefaultKeychain unless opts say
// otherwise (later options win). nameOpts apply to the repository name
// (name.Insecure for --insecure).
func Push(ctx context.Context, a Artifact, repository string, tags []string, out io.Writer, opts ...remote.Option) (name.Digest, error) {
	return PushWith(ctx, a, repository, tags, out, nil, opts...)
}

// PushWith is Push with options for parsing the repository name.
func PushWith(ctx context.Context, a Artifact, repository string, tags []string, out io.Writer, nameOpts []name.Option, opts ...remote.Option) (name.Digest, error) {
	repo, tagRefs, err := Target(repository, tags, nameOpts...)
	if err != nil {
		return name.Digest{}, err
	}
	digest, err := a.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	ref := repo.Digest(digest.String())
	opts = append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx)}, opts...)
	if err := checkSubject(a, repo, opts); err != nil {
		return name.Digest{}, err
	}
	switch v := a.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, v, opts...)
	case v1.Image:
		err = remote.Write(ref, v, opts...)
	default:
		err = fmt.Errorf("cannot push a %T: neither an image nor an index", a)
	}
	if err != nil {
		return name.Digest{}, describe(fmt.Sprintf("pushing %s", ref), repo.Registry, err)
	}
	fmt.Fprintf(out, "pushed %s\n", ref)
	for _, t := range tagRefs {
		if err := remote.Tag(t, a, opts...); err != nil {
			return ref, describe(fmt.Sprintf("tagging %s as %s", ref, t.TagStr()), repo.Registry, err)
		}
		fmt.Fprintf(out, "tagged %s\n", t)
	}
	return ref, nil
}

// checkSubject makes sure that an artifact with a subject (an SBOM of an
// image) is pushed next to its subject: a referrer whose image is not in the
// repository would be stored, but nothing would ever find it.
func checkSubject(a Artifact, repo name.Repository, opts []remote.Option) error {
	raw, err := a.RawManifest()
	if err != nil {
		return err
	}
	var m struct {
		Subject *v1.Descriptor `json:"subject"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Subject == nil {
		return nil
	}
	subject := repo.Digest(m.Subject.Digest.String())
	if _, err := remote.Head(subject, opts...); err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return fmt.Errorf("the subject of this artifact, %s, is not in %s: push the image there first (e.g. bazel run //image:push -- -r %s)", m.Subject.Digest, repo, repo)
		}
		return describe(fmt.Sprintf("looking for the subject %s", subject), repo.Registry, err)
	}
	return nil
}

// Target validates the repository and tags to push to.
func Target(repository string, tags []string, opts ...name.Option) (name.Repository, []name.Tag, error) {
	if repository == "" {
		return name.Repository{}, nil, errors.New("no repository to push to: pass --repository REPO (or -r REPO), e.g. -r registry.example.com/team/cat-server")
	}
	repo, err := name.NewRepository(repository, opts...)
	if err != nil {
		return name.Repository{}, nil, fmt.Errorf("--repository %q: %v", repository, err)
	}
	tagRefs := make([]name.Tag, len(tags))
	for i, t := range tags {
		ref, err := name.NewTag(repo.Name()+":"+t, opts...)
		if err != nil || strings.ContainsAny(t, ":@/") {
			return name.Repository{}, nil, fmt.Errorf("--tag %q is not a valid tag (letters, digits, '_', '.', '-'; at most 128 characters)", t)
		}
		tagRefs[i] = ref
	}
	return repo, tagRefs, nil
}

// describe turns a push failure into one line naming the registry.
func describe(what string, reg name.Registry, err error) error {
	scheme := "https"
	if reg.Scheme() == "http" {
		scheme = "https, falling back to http"
	}
	where := fmt.Sprintf("registry %s (%s)", reg.RegistryStr(), scheme)
	var opErr *net.OpError
	var terr *transport.Error
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &certErr):
		return fmt.Errorf("%s: %s: its TLS certificate is not trusted: %s; if it comes from a private CA, point SSL_CERT_FILE at the CA's PEM file or add the CA to the system's store", what, where, oneLine(err.Error()))
	case errors.As(err, &opErr):
		return fmt.Errorf("%s: cannot reach %s: %v", what, where, oneLine(opErr.Err.Error()))
	case errors.As(err, &terr):
		msg := fmt.Sprintf("%s: %s refused: HTTP %d: %s", what, where, terr.StatusCode, oneLine(terr.Error()))
		if terr.StatusCode == http.StatusUnauthorized {
			msg += fmt.Sprintf("; log in first: run `docker login %s` (credentials are read from $DOCKER_CONFIG/config.json, default ~/.docker/config.json, and its credential helpers)", reg.RegistryStr())
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s to %s: %s", what, where, oneLine(err.Error()))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
