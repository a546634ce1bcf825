// Package pulltest holds the end-to-end test of base images: an
// alpine-shaped multi-platform image is pulled from an in-process registry
// (tools/oci/pull), the passwd layer is merged into its /etc/passwd and
// /etc/group (tools/oci/passwd), the image is assembled on it
// (tools/oci/build) and checked with the structure-test runner (tools/cst).
package pulltest
