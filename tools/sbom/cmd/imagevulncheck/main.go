// Command imagevulncheck runs govulncheck (golang.org/x/vuln) in binary mode
// on each Go binary an image's SBOM lists, taken out of the image, against
// the vulnerability database in $GOVULNDB, and applies the severity rules of
// package vulncheck: a vulnerable symbol in a binary fails, the rest warns.
// The vulncheck_test rule of //tools/sbom:defs.bzl runs it:
//
//	imagevulncheck --image DIR --sbom FILE [--db URL] [--timeout 10m]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cat-server/cat-server/tools/cst/imagefs"
	"github.com/cat-server/cat-server/tools/oci/ocilayout"
	"github.com/cat-server/cat-server/tools/sbom/bom"
	"github.com/cat-server/cat-server/tools/sbom/vulncheck"
)

// noDBHelp is the error when no database is configured.
const noDBHelp = `no vulnerability database: set GOVULNDB to the Go vulnerability database or a mirror of it, e.g.
  bazel test //image:vulncheck --test_env=GOVULNDB=https://vuln.go.dev
  bazel test //image:vulncheck --test_env=GOVULNDB=file:///srv/vulndb   (a local copy of vuln.go.dev)
  export GOVULNDB=$(tools/provision/install-vulndb.sh)   (a local copy built from the Go module proxy; tools/bazel does this)
or leave the scan out with --test_tag_filters=-requires-vulndb`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "imagevulncheck:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("imagevulncheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "OCI image layout directory")
	sbomFile := fs.String("sbom", "", "the image's SBOM (from sbomtool sbom)")
	db := fs.String("db", os.Getenv("GOVULNDB"), "vulnerability database URL (default $GOVULNDB)")
	timeout := fs.Duration("timeout", 10*time.Minute, "time limit for the whole check")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *image == "" {
		return errors.New("--image is required")
	}
	if *sbomFile == "" {
		return errors.New("--sbom is required")
	}
	if *db == "" {
		return errors.New(noDBHelp)
	}
	if !strings.HasPrefix(*db, "https://") && !strings.HasPrefix(*db, "http://") && !strings.HasPrefix(*db, "file:///") {
		return fmt.Errorf("GOVULNDB / --db %q: want an https:// URL or a file:/// URL of a local mirror", *db)
	}
	if *timeout <= 0 {
		return fmt.Errorf("--timeout %v: must be > 0", *timeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := checkDB(ctx, *db); err != nil {
		return err
	}
	findings, err := Vulncheck(ctx, *image, *sbomFile, *db, stdout)
	if ctx.Err() != nil {
		return fmt.Errorf("vulnerability check timed out after --timeout %v (database %s)", *timeout, *db)
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
		if f.Fails() {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d vulnerabilities with vulnerable symbols in the binary (database %s)", failed, *db)
	}
	fmt.Fprintf(stdout, "PASS no vulnerable symbol in the image's Go binaries (%d warnings; database %s)\n", len(findings), *db)
	return nil
}

// Vulncheck checks every Go binary the SBOM lists, taken from the image.
// Notes go to log.
func Vulncheck(ctx context.Context, imageDir, sbomFile, db string, log io.Writer) ([]vulncheck.Finding, error) {
	content, err := os.ReadFile(sbomFile)
	if err != nil {
		return nil, fmt.Errorf("--sbom: %w", err)
	}
	b, err := bom.Decode(content)
	if err != nil {
		return nil, fmt.Errorf("--sbom %s: %w", sbomFile, err)
	}
	bins, err := bom.GoBinaries(b)
	if err != nil {
		return nil, fmt.Errorf("--sbom %s: %w", sbomFile, err)
	}
	if len(bins) == 0 {
		return nil, fmt.Errorf("--sbom %s lists no Go binary", sbomFile)
	}
	img, err := ocilayout.Read(imageDir)
	if err != nil {
		return nil, fmt.Errorf("--image: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	if b.Metadata == nil || b.Metadata.Component == nil || b.Metadata.Component.Version != d.String() {
		return nil, fmt.Errorf("--sbom %s does not describe image %s (digest %s)", sbomFile, imageDir, d)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	fsys, err := imagefs.New(img)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "vulncheck-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var all []vulncheck.Finding
	for i, bin := range bins {
		data, err := fsys.ReadFile(bin.Path)
		if err != nil {
			return nil, fmt.Errorf("reading %s from the image: %w", bin.Path, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != bin.SHA256 {
			return nil, fmt.Errorf("%s in the image has sha256 %x, the SBOM says %s", bin.Path, sum, bin.SHA256)
		}
		file := filepath.Join(tmp, fmt.Sprintf("bin%d-%s", i, filepath.Base(bin.Path)))
		if err := os.WriteFile(file, data, 0o755); err != nil {
			return nil, err
		}
		o := vulncheck.Options{
			Binary: file, MainPackage: bin.MainPackage, MainModule: vulncheck.Module{Path: bin.Main.Path, Version: bin.Main.Version},
			GOOS: cf.OS, GOARCH: cf.Architecture, DB: db, TempDir: tmp,
		}
		for _, m := range bin.Modules {
			o.Modules = append(o.Modules, vulncheck.Module{Path: m.Path, Version: m.Version})
		}
		r, err := vulncheck.Run(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bin.Path, err)
		}
		if r.Stripped {
			fmt.Fprintf(log, "NOTE %s has no symbol table: every vulnerable symbol of an affected module counts as present (link it without -s, e.g. bazel --strip=never)\n", bin.Path)
		}
		all = append(all, r.Findings...)
	}
	return all, nil
}

// checkDB looks for the database's module index, so that a wrong GOVULNDB
// fails with a message about the database rather than govulncheck's
// "unrecognized vulndb format".
func checkDB(ctx context.Context, db string) error {
	if strings.HasPrefix(db, "file://") {
		u, err := url.Parse(db)
		if err != nil {
			return fmt.Errorf("GOVULNDB %s: %w", db, err)
		}
		dir := filepath.FromSlash(u.Path)
		if _, err := os.Stat(filepath.Join(dir, "index", "modules.json")); err != nil {
			err = fmt.Errorf("GOVULNDB %s is not a Go vulnerability database mirror (want index/db.json, index/modules.json, ID/*.json): %w", db, err)
			if dir == "/tmp" || strings.HasPrefix(dir, "/tmp/") {
				err = fmt.Errorf("%w; note: Bazel's test sandbox gives each test a private, empty /tmp, so a database under the host's /tmp is not visible to `bazel test`: keep it outside /tmp (as tools/provision/install-vulndb.sh does)", err)
			}
			return err
		}
		return nil
	}
	endpoint := strings.TrimRight(db, "/") + "/index/modules.json.gz"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, endpoint, nil)
	if err != nil {
		return fmt.Errorf("GOVULNDB %s: %w", db, err)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("GOVULNDB %s: cannot reach the database: %w", db, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GOVULNDB %s: HEAD %s: HTTP %d: not a Go vulnerability database", db, endpoint, resp.StatusCode)
	}
	return nil
}
