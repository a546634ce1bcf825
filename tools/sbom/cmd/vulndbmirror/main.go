// Command vulndbmirror builds a local Go vulnerability database, the layout
// govulncheck reads from GOVULNDB=file:///..., out of a directory of OSV
// entries (the data/osv directory of the golang.org/x/vulndb module), and
// prints its file:// URL:
//
//	vulndbmirror --osv $(go env GOMODCACHE)/golang.org/x/vulndb@VERSION/data/osv --out DIR \
//	  [--modified 2026-11-05T23:49:57Z]   (the module version's time, for index/db.json)
//
// DIR is replaced as a whole, atomically (tools/provision/install-vulndb.sh).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cat-server/cat-server/tools/sbom/vulndb"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vulndbmirror:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vulndbmirror", flag.ContinueOnError)
	fs.SetOutput(stderr)
	osv := fs.String("osv", "", "directory of OSV entries, <ID>.json (required)")
	out := fs.String("out", "", "database directory to create or replace (required)")
	modified := fs.String("modified", "", "time of the OSV snapshot, RFC 3339, for index/db.json (default: the latest entry's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *osv == "":
		return errors.New("--osv: required")
	case *out == "":
		return errors.New("--out: required")
	}
	var asOf time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			return fmt.Errorf("--modified %q: want an RFC 3339 time such as 2026-11-05T23:49:57Z", *modified)
		}
		asOf = t
	}
	entries, err := vulndb.ReadDir(*osv)
	if err != nil {
		return fmt.Errorf("--osv %s: %w", *osv, err)
	}
	url, err := vulndb.Write(*out, entries, asOf)
	if err != nil {
		return fmt.Errorf("--out %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "vulndbmirror: %d entries\n", len(entries))
	fmt.Fprintln(stdout, url)
	return nil
}
