// Package load loads an image into the local container engine as rules_oci's
// oci_load run script does: `<cli> load --input FILE`, where FILE is a pipe
// that the tarball is streamed into (nothing is written to disk), and <cli>
// is the target's `loader` or else the first of docker, podman, nerdctl on
// PATH.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Engines are the command-line clients tried, in order; the first found
// on PATH is used.
var Engines = []string{"docker", "podman", "nerdctl"}

// FindEngine returns loader if set, else the path of the first of Engines
// found on PATH.
func FindEngine(loader string) (string, error) {
	if loader != "" {
		if _, err := os.Stat(loader); err != nil {
			return "", fmt.Errorf("loader: %w", err)
		}
		return loader, nil
	}
	for _, e := range Engines {
		if p, err := exec.LookPath(e); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s was found on PATH; install one of them, or pass an executable to the `loader` attribute of oci_load", strings.Join(Engines, ", "))
}

// Load runs `<engine> load --input /dev/fd/3` with write streaming the
// tarball into that pipe, passing the engine's output through, and then
// prints "loaded WHAT into ENGINE".
func Load(ctx context.Context, loader, what string, write func(io.Writer) error, stdout, stderr io.Writer) error {
	engine, err := FindEngine(loader)
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, engine, "load", "--input", "/dev/fd/3")
	cmd.ExtraFiles = []*os.File{r}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("running %s load: %w", engine, err)
	}
	r.Close()
	werr := write(w)
	w.Close()
	err = cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return fmt.Errorf("%s load failed (%v)", engine, exitErr.ProcessState)
	case err != nil:
		return fmt.Errorf("running %s load: %w", engine, err)
	case werr != nil:
		return fmt.Errorf("streaming the image to %s load: %w", engine, werr)
	}
	fmt.Fprintf(stdout, "loaded %s into %s\n", what, engine)
	return nil
}
