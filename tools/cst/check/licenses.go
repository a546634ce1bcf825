package check

import (
	"fmt"
	"path"
	"strings"

	"github.com/cat-server/cat-server/tools/cst/config"
	"github.com/cat-server/cat-server/tools/cst/imagefs"
)

// As container-structure-test v1.22.0 (pkg/types/v2/licenses.go): Debian package
// copyright files live under debianRoot; packages in licenseAllowed are skipped; a
// license text containing one of licenseRefused (case-insensitive) fails.
const (
	debianRoot  = "/usr/share/doc"
	licenseFile = "copyright"
)

var (
	licenseAllowed = []string{"libgnutls30"}
	licenseRefused = []string{"AGPL", "WTFPL"}
)

// Licenses runs licenseTests: one Result per test, named "License Test" as upstream.
func Licenses(file string, tests []config.LicenseTest, root *imagefs.FS) []Result {
	var results []Result
	for i, t := range tests {
		r := Result{File: file, Name: fmt.Sprintf("licenseTests[%d]", i)}
		if t.Debian {
			dir, err := root.Lstat(debianRoot)
			if err != nil || !dir.IsDir() {
				r.failMsg("debian", "reading directory %s: not a directory in the image", debianRoot)
			} else {
				var packages []string
				root.Walk(func(e *imagefs.Entry) {
					if path.Dir(e.Path) == debianRoot && e.IsDir() {
						packages = append(packages, path.Base(e.Path))
					}
				})
				for _, p := range packages {
					if contains(licenseAllowed, p) {
						continue
					}
					checkLicense(&r, "debian", path.Join(debianRoot, p, licenseFile), root)
				}
			}
		}
		for j, f := range t.Files {
			checkLicense(&r, fmt.Sprintf("files[%d]", j), f, root)
		}
		results = append(results, r)
	}
	return results
}

func checkLicense(r *Result, field, p string, root *imagefs.FS) {
	content, err := root.ReadFile(p)
	if err != nil {
		r.failMsg(field, "reading license file %s: %v", p, err)
		return
	}
	upper := strings.ToUpper(string(content))
	for _, refused := range licenseRefused {
		if strings.Contains(upper, refused) {
			r.failMsg(field, "invalid license for %s: it contains %s", p, refused)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
