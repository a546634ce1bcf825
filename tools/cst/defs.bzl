"""container_structure_test with the interface of container-structure-test v1.22.0's rule.

Load it as `load("//tools/cst:defs.bzl", "container_structure_test")`; upstream's is
`load("@container_structure_test//:defs.bzl", "container_structure_test")`, with the same
attributes (tools/compat checks that).

The runner (//tools/cst/cmd/cst) takes container-structure-test's `test` flags and reads the
image itself: an OCI layout directory or a docker-save .tar. As upstream, a non-.tar image
(a layout) needs driver "docker": metadata and files are read from the layout, commandTests
run in Docker (tag such targets "requires-docker"). With a .tar, driver "tar" reads the same
way and refuses commandTests; driver "host" (tests against the machine itself) is refused.
Test `args` are forwarded to the runner, e.g. `args = ["--output", "json"]`.
"""

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _image_file(ctx):
    # Upstream's choice: the oci_layout or oci_tarball output group, else the one default file.
    target = ctx.attr.image
    if OutputGroupInfo in target:
        for group in ["oci_layout", "oci_tarball"]:
            if hasattr(target[OutputGroupInfo], group):
                files = getattr(target[OutputGroupInfo], group).to_list()
                if len(files) != 1:
                    fail("the 'image' attribute contains the '%s' output group but it does not have exactly one file" % group)
                return files[0]
    files = target[DefaultInfo].files.to_list()
    if len(files) == 1:
        return files[0]

    # Not upstream: an oci_image of this repository that also lists its digest file. Kept
    # until //tools/oci's oci_image outputs the layout alone.
    dirs = [f for f in files if f.is_directory]
    if len(dirs) == 1:
        return dirs[0]
    fail("the 'image' attribute must be a target that produces exactly one file or contain either the 'oci_layout' or 'oci_tarball' output groups")

def _container_structure_test_impl(ctx):
    if not ctx.attr.image:
        fail("the 'image' attribute must be a target that produces exactly one file or contain either the 'oci_layout' or 'oci_tarball' output groups")
    image = _image_file(ctx)
    runner = ctx.executable._runner
    args = [runner.short_path, "test", "--driver", ctx.attr.driver]
    if image.short_path.endswith(".tar"):
        args.extend(["--image", image.short_path])
    else:
        if ctx.attr.driver != "docker":
            fail("when the 'driver' attribute is not 'docker', then the image must be a .tar file")
        args.extend(["--ignore-ref-annotation", "--image-from-oci-layout", image.short_path])
    for f in ctx.files.configs:
        args.extend(["--config", f.short_path])
    if ctx.attr.platform:
        args.extend(["--platform", ctx.attr.platform])
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/usr/bin/env bash\nset -euo pipefail\nexec %s \"$@\"\n" % " ".join([_shell_quote(a) for a in args]),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [runner, image] + ctx.files.configs)
    runfiles = runfiles.merge(ctx.attr._runner[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

container_structure_test = rule(
    implementation = _container_structure_test_impl,
    doc = "Tests a Docker- or OCI-format image against container-structure-test configs (schema 1.0.0 or 2.0.0).",
    test = True,
    attrs = {
        "image": attr.label(
            allow_files = True,
            doc = "Label of an oci_image or oci_tarball target.",
        ),
        "configs": attr.label_list(allow_files = True, mandatory = True),
        "driver": attr.string(
            default = "docker",
            values = ["docker", "tar", "host"],
            doc = "docker: a layout or .tar, commandTests in Docker; tar: a .tar, no commandTests; host: refused by this runner.",
        ),
        "platform": attr.string(
            default = "linux/amd64",
            doc = "The image's platform; the runner fails when the image is for another one.",
        ),
        "_runner": attr.label(default = "//tools/cst/cmd/cst", executable = True, cfg = "target"),
    },
)
