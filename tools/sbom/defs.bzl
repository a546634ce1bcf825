"""SBOM and vulnerability check for any OCI image with a Go binary in it.

Project rules of their own, beside the rules_oci-shaped ones: they take any image layout
(ours or rules_oci's oci_image) and the go_binary built into it, declare inputs and
outputs, and run one Go tool: //tools/sbom/cmd/sbomtool, or
//tools/sbom/cmd/imagevulncheck for the check (kept apart so that golang.org/x/vuln and
x/tools are built only for the test, not also for the build actions).

  - image_sbom: a CycloneDX 1.6 JSON SBOM of the image: the Go modules linked into the
    binary (rules_go's GoArchive graph mapped through go.mod/go.sum), the Go toolchain
    version (from the binary), and the base's apk packages when it has an apk database.
  - sbom_artifact: an OCI artifact layout that refers to the image (artifactType +
    subject), for oci_push beside the image; registries list it through the referrers API.
  - vulncheck_test: govulncheck -mode=binary on the image's binary, database from
    $GOVULNDB; tag it `requires-vulndb`.
"""

load("@rules_go//go:def.bzl", "GoArchive")

_SBOMTOOL = "//tools/sbom/cmd/sbomtool"
_IMAGEVULNCHECK = "//tools/sbom/cmd/imagevulncheck"

def _layout_dir(target, what):
    dirs = [f for f in target[DefaultInfo].files.to_list() if f.is_directory]
    if len(dirs) != 1:
        fail("%s: %s must provide exactly one OCI layout directory, got %d" % (what, target.label, len(dirs)))
    return dirs[0]

def _label_text(label):
    """//pkg:name for this repository's labels, @repo//pkg:name for others."""
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

def _importpath(data):
    return data.importpath

def _image_sbom_impl(ctx):
    image = _layout_dir(ctx.attr.image, "image")
    archive = ctx.attr.binary[GoArchive]
    binary = ctx.attr.binary[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name + ".cdx.json")
    packages = ctx.actions.declare_file(ctx.label.name + ".packages.txt")
    pkg_args = ctx.actions.args()
    pkg_args.set_param_file_format("multiline")
    pkg_args.add_all(archive.transitive, map_each = _importpath)
    ctx.actions.write(packages, pkg_args)
    args = ctx.actions.args()
    args.add("sbom")
    args.add("--image", image.path)
    args.add("--name", _label_text(ctx.attr.image.label))
    args.add("--binary", binary)
    args.add("--main-package", archive.data.importpath)
    args.add("--packages", packages)
    args.add("--go-mod", ctx.file.go_mod)
    args.add("--go-sum", ctx.file.go_sum)
    args.add("--out", out)
    ctx.actions.run(
        executable = ctx.executable._sbomtool,
        arguments = [args],
        inputs = [image, binary, packages, ctx.file.go_mod, ctx.file.go_sum],
        outputs = [out],
        mnemonic = "ImageSbom",
        progress_message = "Writing SBOM %{label}",
    )
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(packages = depset([packages])),
    ]

image_sbom = rule(
    implementation = _image_sbom_impl,
    doc = """A CycloneDX 1.6 JSON SBOM (<name>.cdx.json) of an OCI image and the Go binary built into it.

Output group `packages`: the import paths linked into the binary, as the build graph says.""",
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True, doc = "The image: an OCI layout directory (oci_image)."),
        "binary": attr.label(mandatory = True, providers = [GoArchive], doc = "The go_binary (or go_cross_binary) whose output is in the image."),
        "go_mod": attr.label(default = "//:go.mod", allow_single_file = True),
        "go_sum": attr.label(default = "//:go.sum", allow_single_file = True),
        "_sbomtool": attr.label(default = _SBOMTOOL, executable = True, cfg = "exec"),
    },
)

def _sbom_artifact_impl(ctx):
    image = _layout_dir(ctx.attr.image, "image")
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run(
        executable = ctx.executable._sbomtool,
        arguments = ["artifact", "--image", image.path, "--sbom", ctx.file.sbom.path, "--out", out.path],
        inputs = [image, ctx.file.sbom],
        outputs = [out],
        mnemonic = "SbomArtifact",
        progress_message = "Writing SBOM artifact %{label}",
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

sbom_artifact = rule(
    implementation = _sbom_artifact_impl,
    doc = "An OCI layout holding the SBOM as an OCI 1.1 artifact whose subject is the image; push it with oci_push.",
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True, doc = "The image the SBOM describes."),
        "sbom": attr.label(mandatory = True, allow_single_file = True, doc = "The SBOM (image_sbom)."),
        "_sbomtool": attr.label(default = _SBOMTOOL, executable = True, cfg = "exec"),
    },
)

def _vulncheck_test_impl(ctx):
    image = _layout_dir(ctx.attr.image, "image")
    tool = ctx.executable._imagevulncheck
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/usr/bin/env bash\nexec '{tool}' --image '{image}' --sbom '{sbom}' \"$@\"\n".format(
            tool = tool.short_path,
            image = image.short_path,
            sbom = ctx.file.sbom.short_path,
        ),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [tool, image, ctx.file.sbom]).merge(ctx.attr._imagevulncheck[DefaultInfo].default_runfiles)
    return [
        DefaultInfo(executable = script, runfiles = runfiles),
        # Only this test sees the caller's GOVULNDB (no --test_env for every test's cache key).
        RunEnvironmentInfo(inherited_environment = ["GOVULNDB"]),
    ]

vulncheck_test = rule(
    implementation = _vulncheck_test_impl,
    doc = """govulncheck -mode=binary on the image's Go binaries, against the database in $GOVULNDB.

Fails when a vulnerable symbol is in a binary; warns when only a vulnerable package or an
affected module version is linked. GOVULNDB is taken from the environment `bazel test` runs
in (or `--test_env=GOVULNDB=...`). Without it the test fails and says how to set it or how to
leave it out (`--test_tag_filters=-requires-vulndb`).""",
    test = True,
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True),
        "sbom": attr.label(mandatory = True, allow_single_file = True, doc = "The image's SBOM (image_sbom): which binaries and modules to check."),
        "_imagevulncheck": attr.label(default = _IMAGEVULNCHECK, executable = True, cfg = "target"),
    },
)
