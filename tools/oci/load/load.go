// Package load loads a `docker save`-style tarball into the local container
// engine by piping it into `<engine> load`.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Engines are the command-line clients tried, in order; the first found
// on PATH is used.
var Engines = []string{"docker", "podman", "nerdctl"}

// FindEngine returns the path of the first of Engines found on PATH.
func FindEngine() (string, error) {
	for _, e := range Engines {
		if p, err := exec.LookPath(e); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s was found on PATH; install one of them to load images", strings.Join(Engines, ", "))
}

// Summary describes what the tarball holds, e.g.
// "cat-server:latest (config sha256:...)".
func Summary(path string) (string, error) {
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	var parts []string
	for _, d := range m {
		tags := strings.Join(d.RepoTags, ", ")
		if tags == "" {
			tags = "untagged image"
		}
		parts = append(parts, fmt.Sprintf("%s (config %s)", tags, strings.TrimSuffix(strings.TrimPrefix(d.Config, "blobs/sha256/"), ".json")))
	}
	return strings.Join(parts, "; "), nil
}

// Load pipes the tarball at path into `<engine> load`, passing the
// engine's output through, and prints what was loaded.
func Load(ctx context.Context, path string, stdout, stderr io.Writer) error {
	summary, err := Summary(path)
	if err != nil {
		return err
	}
	engine, err := FindEngine()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, engine, "load")
	cmd.Stdin = f
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("%s load < %s failed (%v)", engine, path, exitErr.ProcessState)
		}
		return fmt.Errorf("running %s load: %w", engine, err)
	}
	fmt.Fprintf(stdout, "loaded %s into %s\n", summary, engine)
	return nil
}
