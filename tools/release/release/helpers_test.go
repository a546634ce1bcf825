package release

import (
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func slicesContains(s []string, v string) bool { return slices.Contains(s, v) }

// mustEmptyIndex is an OCI layout index.json listing img alone.
func mustEmptyIndex(t *testing.T, img v1.Image) v1.ImageIndex {
	t.Helper()
	return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img})
}
