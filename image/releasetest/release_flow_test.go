package releasetest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cat-server/cat-server/image/registrytest"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/oci/push"
)

type inputs struct {
	release, image, sbom, sbomArtifact, provenance, stampedTags, digest string
}

func buildInputs(t *testing.T) inputs {
	t.Helper()
	in := inputs{
		release:      runfile(t, "RELEASE"),
		image:        layoutDir(t, "IMAGE_LAYOUT"),
		sbom:         runfile(t, "SBOM"),
		sbomArtifact: layoutDir(t, "SBOM_ARTIFACT"),
		provenance:   runfile(t, "PROVENANCE"),
		stampedTags:  runfile(t, "STAMPED_TAGS"),
	}
	in.digest = strings.TrimSpace(readFile(t, runfile(t, "IMAGE_DIGEST_FILE")))
	return in
}

// releaseArgs are the arguments //image:release's script passes, with the
// build's files but a stamp.json written by the test (`bazel test` does not
// stamp, and //image:release refuses that: TestReleaseRefusesUnstamped), then
// the user's.
func (in inputs) releaseArgs(stamp string, user ...string) []string {
	return append([]string{"--image", in.image, "--sbom", in.sbom, "--sbom-artifact", in.sbomArtifact,
		"--provenance", in.provenance, "--stamp", stamp, "--stamped-tags", in.stampedTags, "--"}, user...)
}

func remoteOpts(r *registrytest.Registry) []remote.Option {
	return []remote.Option{
		remote.WithTransport(r.Client.Transport),
		remote.WithAuth(&authn.Basic{Username: registrytest.User, Password: registrytest.Password}),
	}
}

func TestReleaseThenVerify(t *testing.T) {
	in := buildInputs(t)
	r, e, password := setup(t)
	key, pub := e.keyPair(t)
	_, otherPub := e.keyPair(t)
	dir := t.TempDir()
	stamp := writeFile(t, filepath.Join(dir, "stamp.json"),
		`{"stamped": true, "revision": "0123456789abcdef0123456789abcdef01234567", "version": "0.1.0", "dirty": false, "created": "2026-12-04T20:00:00Z"}`)
	if got := strings.TrimSpace(readFile(t, in.stampedTags)); got != "0.1.0" {
		t.Fatalf("//image:stamped_tags unstamped holds %q, want the VERSION file's 0.1.0", got)
	}
	const repository = "team/cat-server"
	repo := r.Host + "/" + repository
	args := in.releaseArgs(stamp, "--repository="+repo, "--key="+key, "--offline", "--tag=latest")

	_, out, err := e.run(t, in.release, args...)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	t.Logf("release:\n%s", out)
	if strings.Contains(out, password) {
		t.Error("the release printed the key's password")
	}

	// The image went in by digest first, the tags last (after every signature
	// and attestation manifest).
	puts, err := r.ManifestPuts(repository)
	if err != nil {
		t.Fatal(err)
	}
	if len(puts) < 6 || puts[0] != in.digest || !slices.Equal(puts[len(puts)-2:], []string{"0.1.0", "latest"}) {
		t.Errorf("manifests stored in the order %q, want the image %s first, then referrers, signatures and attestations, then 0.1.0 and latest", puts, in.digest)
	}
	if slices.Contains(puts[:len(puts)-2], "0.1.0") || slices.Contains(puts[:len(puts)-2], "latest") {
		t.Errorf("a tag was stored before the signatures: %q", puts)
	}

	verify := func(pub, ref string) (string, error) {
		stdout, all, err := e.run(t, "cosign", append(append([]string{"verify", "--key", pub}, verifyFlags...), ref)...)
		if err != nil {
			return all, err
		}
		return stdout, nil
	}
	for _, ref := range []string{repo + ":0.1.0", repo + ":latest", repo + "@" + in.digest} {
		if out, err := verify(pub, ref); err != nil {
			t.Errorf("cosign verify %s with the release key: %v\n%s", ref, err, out)
		} else if !strings.Contains(out, `"docker-manifest-digest":"`+in.digest+`"`) {
			t.Errorf("cosign verify %s: output does not name %s:\n%s", ref, in.digest, out)
		}
		if out, err := verify(otherPub, ref); err == nil {
			t.Errorf("cosign verify %s passed with another key:\n%s", ref, out)
		}
	}
	checkPredicates := func(wantCount int) {
		t.Helper()
		for _, a := range []struct{ typ, file string }{{"cyclonedx", in.sbom}, {"slsaprovenance1", in.provenance}} {
			preds, err := e.predicates(t, pub, a.typ, repo+":0.1.0")
			if err != nil {
				t.Error(err)
				continue
			}
			if len(preds) != wantCount {
				t.Errorf("%d verified %s attestations, want %d", len(preds), a.typ, wantCount)
			}
			for _, p := range preds {
				if d := jsonEqual(t, []byte(readFile(t, a.file)), p); d != "" {
					t.Errorf("the %s predicate differs from %s (-file +attested):\n%s", a.typ, a.file, d)
				}
			}
			if _, err := e.predicates(t, otherPub, a.typ, repo+":0.1.0"); err == nil {
				t.Errorf("verify-attestation --type %s passed with another key", a.typ)
			}
		}
	}
	checkPredicates(1)

	// Running it again is safe: it passes, and everything still verifies.
	if _, out, err := e.run(t, in.release, args...); err != nil {
		t.Fatalf("second release: %v\n%s", err, out)
	}
	if out, err := verify(pub, repo+":0.1.0"); err != nil {
		t.Errorf("cosign verify after a second release: %v\n%s", err, out)
	}
	checkPredicates(2)

	// The tag moved to another (unsigned) image: verification fails there,
	// and still passes by the released digest.
	other, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.NewRepository(repo)
	if err := remote.Write(ref.Tag("latest"), other, remoteOpts(r)...); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(pub, repo+":latest"); err == nil {
		t.Errorf("cosign verify passed for a tag moved to another digest:\n%s", out)
	}
	if out, err := verify(pub, repo+"@"+in.digest); err != nil {
		t.Errorf("cosign verify by digest after the tag moved: %v\n%s", err, out)
	}

	// A tampered SBOM attestation (its statement changed, the signature kept)
	// fails verification; the provenance attestation beside it still passes.
	if n := tamper(t, r, ref, in.digest, "https://cyclonedx.org/bom"); n == 0 {
		t.Fatal("found no cyclonedx attestation to tamper with")
	}
	if _, err := e.predicates(t, pub, "cyclonedx", repo+"@"+in.digest); err == nil {
		t.Error("verify-attestation --type cyclonedx passed after the attestation was tampered with")
	}
	if _, err := e.predicates(t, pub, "slsaprovenance1", repo+"@"+in.digest); err != nil {
		t.Errorf("the untouched provenance attestation no longer verifies: %v", err)
	}
}

// rawManifest is a manifest to put as it is.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }

func put(t *testing.T, r *registrytest.Registry, ref name.Reference, raw []byte, mt string) {
	t.Helper()
	if err := remote.Put(ref, rawManifest{raw, types.MediaType(mt)}, remoteOpts(r)...); err != nil {
		t.Fatal(err)
	}
}

// tamper changes the predicate inside every sigstore bundle of predicateType
// on digest (cosign's referrers, in the registry's sha256-HEX fallback index),
// keeping the bundle's signature, and returns how many it changed.
func tamper(t *testing.T, r *registrytest.Registry, repo name.Repository, digest, predicateType string) int {
	t.Helper()
	opts := remoteOpts(r)
	fallback := repo.Tag(strings.Replace(digest, ":", "-", 1))
	desc, err := remote.Get(fallback, opts...)
	if err != nil {
		t.Fatalf("reading the referrers of %s: %v", digest, err)
	}
	var index map[string]any
	if err := json.Unmarshal(desc.Manifest, &index); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, m := range index["manifests"].([]any) {
		entry := m.(map[string]any)
		md, err := remote.Get(repo.Digest(entry["digest"].(string)), opts...)
		if err != nil {
			t.Fatal(err)
		}
		var manifest map[string]any
		if err := json.Unmarshal(md.Manifest, &manifest); err != nil {
			t.Fatal(err)
		}
		ann, _ := manifest["annotations"].(map[string]any)
		if ann["dev.sigstore.bundle.predicateType"] != predicateType {
			continue
		}
		layer := manifest["layers"].([]any)[0].(map[string]any)
		blob, err := remote.Layer(repo.Digest(layer["digest"].(string)), opts...)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := blob.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		var bundle map[string]any
		if err := json.Unmarshal(raw, &bundle); err != nil {
			t.Fatalf("attestation bundle: %v", err)
		}
		envelope := bundle["dsseEnvelope"].(map[string]any)
		payload, err := base64.StdEncoding.DecodeString(envelope["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var statement map[string]any
		if err := json.Unmarshal(payload, &statement); err != nil {
			t.Fatal(err)
		}
		statement["predicate"] = map[string]any{"tampered": true}
		payload, _ = json.Marshal(statement)
		envelope["payload"] = base64.StdEncoding.EncodeToString(payload)
		newBlob, _ := json.Marshal(bundle)
		mt := layer["mediaType"].(string)
		if err := remote.WriteLayer(repo, static.NewLayer(newBlob, types.MediaType(mt)), opts...); err != nil {
			t.Fatal(err)
		}
		layer["digest"] = sha(newBlob)
		layer["size"] = len(newBlob)
		newManifest, _ := json.Marshal(manifest)
		put(t, r, repo.Digest(sha(newManifest)), newManifest, manifest["mediaType"].(string))
		entry["digest"] = sha(newManifest)
		entry["size"] = len(newManifest)
		changed++
	}
	newIndex, _ := json.Marshal(index)
	put(t, r, fallback, newIndex, index["mediaType"].(string))
	return changed
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// Without --stamp, //image:release (as `bazel test` builds it: unstamped)
// refuses before anything reaches the registry.
func TestReleaseRefusesUnstamped(t *testing.T) {
	script := runfile(t, "RELEASE_SCRIPT")
	r, e, _ := setup(t)
	key, _ := e.keyPair(t)
	_, out, err := e.run(t, script, "--repository="+r.Host+"/team/cat-server", "--key="+key, "--offline")
	if err == nil || !strings.Contains(out, "refusing to release an unstamped build") || !strings.Contains(out, "--stamp") {
		t.Errorf("unstamped //image:release: %v, want a refusal that names --stamp:\n%s", err, out)
	}
	if puts, _ := r.ManifestPuts("team/cat-server"); len(puts) != 0 {
		t.Errorf("an unstamped release stored %q", puts)
	}
}

// //image:sign and //image:attest_sbom as upstream's: the repository from
// --repository (the last wins), every other argument to cosign, and upstream's
// message without a repository.
func TestSignAndAttestTargets(t *testing.T) {
	in := buildInputs(t)
	sign := runfile(t, "SIGN_SCRIPT")
	attest := runfile(t, "ATTEST_SBOM_SCRIPT")
	r, e, password := setup(t)
	key, pub := e.keyPair(t)
	_, otherPub := e.keyPair(t)
	repo := r.Host + "/team/signed"

	// The image must be in the registry before cosign signs it.
	art, err := pushLayout(t, r, repo, in.image)
	if err != nil {
		t.Fatal(err)
	}
	if art != in.digest {
		t.Fatalf("pushed %s, want %s", art, in.digest)
	}

	_, out, err := e.run(t, sign, "--key", key)
	if err == nil || !strings.Contains(out, "ERROR: repository not set. Please pass --repository flag or set the 'repository' attribute in the rule.") {
		t.Errorf("//image:sign without a repository: %v, want upstream's message:\n%s", err, out)
	}

	offline := []string{"--key", key, "--tlog-upload=false", "--use-signing-config=false", "-y"}
	_, out, err = e.run(t, sign, append([]string{"--repository=" + r.Host + "/team/not-this-one", "--repository", repo}, offline...)...)
	if err != nil {
		t.Fatalf("//image:sign: %v\n%s", err, out)
	}
	if strings.Contains(out, password) {
		t.Error("//image:sign printed the key's password")
	}
	if puts, _ := r.ManifestPuts("team/not-this-one"); len(puts) != 0 {
		t.Errorf("the overridden repository got %q", puts)
	}
	if _, all, err := e.run(t, "cosign", append([]string{"verify", "--key", pub}, append(verifyFlags, repo+"@"+in.digest)...)...); err != nil {
		t.Errorf("cosign verify after //image:sign: %v\n%s", err, all)
	}
	if _, _, err := e.run(t, "cosign", append([]string{"verify", "--key", otherPub}, append(verifyFlags, repo+"@"+in.digest)...)...); err == nil {
		t.Error("cosign verify passed with another key after //image:sign")
	}

	// An argument cosign does not know reaches cosign, which refuses it.
	if _, out, err := e.run(t, sign, "--repository="+repo, "--no-such-cosign-flag"); err == nil || !strings.Contains(out, "no-such-cosign-flag") {
		t.Errorf("//image:sign --no-such-cosign-flag: %v, want cosign's refusal:\n%s", err, out)
	}

	if _, out, err := e.run(t, attest, append([]string{"--repository=" + repo}, offline...)...); err != nil {
		t.Fatalf("//image:attest_sbom: %v\n%s", err, out)
	}
	preds, err := e.predicates(t, pub, "cyclonedx", repo+"@"+in.digest)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != 1 {
		t.Fatalf("%d cyclonedx attestations, want 1", len(preds))
	}
	if d := jsonEqual(t, []byte(readFile(t, in.sbom)), preds[0]); d != "" {
		t.Errorf("attested SBOM differs from //image:sbom (-file +attested):\n%s", d)
	}
}

// pushLayout pushes the OCI layout dir to repo by digest and returns the digest.
func pushLayout(t *testing.T, r *registrytest.Registry, repo, dir string) (string, error) {
	t.Helper()
	a, err := ocilayout.ReadArtifact(dir)
	if err != nil {
		return "", err
	}
	// push.Push takes credentials from the Docker keychain, as //image:push does.
	t.Setenv("DOCKER_CONFIG", r.DockerConfig(t))
	ref, err := push.Push(context.Background(), a.(push.Artifact), repo, nil, io.Discard, remote.WithTransport(r.Client.Transport))
	if err != nil {
		return "", err
	}
	return ref.DigestStr(), nil
}

// //image:index released with --recursive: the index and each platform image
// verify with the release key; the index carries the provenance attestation.
func TestReleaseIndexRecursive(t *testing.T) {
	release := runfile(t, "RELEASE")
	index := layoutDir(t, "INDEX_LAYOUT")
	prov := runfile(t, "PROVENANCE_INDEX")
	idxDigest := strings.TrimSpace(readFile(t, runfile(t, "INDEX_DIGEST_FILE")))
	r, e, _ := setup(t)
	key, pub := e.keyPair(t)
	_, otherPub := e.keyPair(t)
	dir := t.TempDir()
	stamp := writeFile(t, filepath.Join(dir, "stamp.json"),
		`{"stamped": true, "revision": "0123456789abcdef0123456789abcdef01234567", "version": "0.1.0", "dirty": false, "created": "2026-12-04T20:00:00Z"}`)
	repo := r.Host + "/team/cat-server-index"
	_, out, err := e.run(t, release, "--image", index, "--provenance", prov, "--stamp", stamp, "--recursive", "--",
		"--repository="+repo, "--key="+key, "--offline", "--tag=v1")
	if err != nil {
		t.Fatalf("release of the index: %v\n%s", err, out)
	}

	// The platform images, from the registry's copy of the index.
	ref, _ := name.NewRepository(repo)
	desc, err := remote.Get(ref.Tag("v1"), remoteOpts(r)...)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != idxDigest {
		t.Fatalf("v1 is %s, want the index %s", desc.Digest, idxDigest)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{repo + ":v1"}
	for _, m := range im.Manifests {
		refs = append(refs, repo+"@"+m.Digest.String())
	}
	if len(refs) != 3 {
		t.Fatalf("index lists %d images, want 2", len(refs)-1)
	}
	for _, ref := range refs {
		if _, all, err := e.run(t, "cosign", append(append([]string{"verify", "--key", pub}, verifyFlags...), ref)...); err != nil {
			t.Errorf("cosign verify %s: %v\n%s", ref, err, all)
		}
		if _, _, err := e.run(t, "cosign", append(append([]string{"verify", "--key", otherPub}, verifyFlags...), ref)...); err == nil {
			t.Errorf("cosign verify %s passed with another key", ref)
		}
	}
	preds, err := e.predicates(t, pub, "slsaprovenance1", repo+":v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != 1 {
		t.Fatalf("%d provenance attestations on the index, want 1", len(preds))
	}
	if d := jsonEqual(t, []byte(readFile(t, prov)), preds[0]); d != "" {
		t.Errorf("attested provenance differs from //image:provenance_index (-file +attested):\n%s", d)
	}
}
