package artifact

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

const cdxType = "application/vnd.cyclonedx+json"

func subject(t *testing.T) (v1.Image, v1.Descriptor) {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	sz, _ := img.Size()
	mt, _ := img.MediaType()
	return img, v1.Descriptor{MediaType: mt, Digest: d, Size: sz}
}

func TestArtifactManifest(t *testing.T) {
	_, desc := subject(t)
	a, err := New(desc, cdxType, cdxType, []byte(`{"bomFormat":"CycloneDX"}`), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(a); err != nil {
		t.Errorf("validate: %v", err)
	}
	m, err := a.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != cdxType || m.Config.MediaType != EmptyMediaType || m.Config.Size != 2 {
		t.Errorf("artifactType %q config %+v", m.ArtifactType, m.Config)
	}
	if m.Subject == nil || m.Subject.Digest != desc.Digest || m.Subject.Size != desc.Size || m.Subject.MediaType != desc.MediaType {
		t.Errorf("subject %+v, want %+v", m.Subject, desc)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != cdxType || m.Annotations["k"] != "v" {
		t.Errorf("layers %+v annotations %v", m.Layers, m.Annotations)
	}
	if _, err := New(desc, "", cdxType, nil, nil); err == nil {
		t.Error("empty artifact type accepted")
	}
}

func TestReferrersAfterPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/app"
	img, desc := subject(t)
	ref, err := name.NewDigest(repo + "@" + desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	a, err := New(desc, cdxType, cdxType, []byte(`{"bomFormat":"CycloneDX"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ad, _ := a.Digest()
	if err := remote.Write(ref.Context().Digest(ad.String()), a); err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != ad {
		t.Fatalf("referrers of %s: %+v, want the artifact %s", ref, im.Manifests, ad)
	}
}
