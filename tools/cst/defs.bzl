"""container_structure_test with the interface of container-structure-test's Bazel rule.

The runner (//tools/cst/cmd/cst) reads the image's OCI layout directly and accepts the
structure-test YAML of schema 2.0.0, so the same files stay valid for the real tool.
Metadata, file existence and file content tests need no container engine; commandTests
run through Docker, so a target that has them should be tagged "requires-docker".

Size and healthcheck checks have no key in schema 2.0.0; they go in separate files of
schema "cat-server.image-checks/v1", given as `image_checks`.
"""

def _shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _container_structure_test_impl(ctx):
    files = ctx.attr.image[DefaultInfo].files.to_list()
    images = [f for f in files if f.is_directory] or files
    if len(images) != 1:
        fail("image must provide one OCI image layout directory, got %d files from %s" % (len(files), ctx.attr.image.label))
    image = images[0]
    runner = ctx.executable._runner
    args = [runner.short_path, "--image", image.short_path]
    for f in ctx.files.configs:
        args.extend(["--config", f.short_path])
    for f in ctx.files.image_checks:
        args.extend(["--image-checks", f.short_path])
    if ctx.attr.docker:
        args.extend(["--docker", ctx.attr.docker])
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(
        script,
        "#!/usr/bin/env bash\nset -euo pipefail\nexec %s \"$@\"\n" % " ".join([_shell_quote(a) for a in args]),
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [runner, image] + ctx.files.configs + ctx.files.image_checks)
    runfiles = runfiles.merge(ctx.attr._runner[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

container_structure_test = rule(
    implementation = _container_structure_test_impl,
    doc = "Checks an image against structure-test YAML (schema 2.0.0) and image-check files.",
    test = True,
    attrs = {
        "image": attr.label(mandatory = True, allow_files = True, doc = "An OCI image layout directory, e.g. an oci_image."),
        "configs": attr.label_list(allow_files = [".yaml", ".yml", ".json"], doc = "Structure-test files, schemaVersion 2.0.0."),
        "image_checks": attr.label_list(allow_files = [".yaml", ".yml"], doc = "Size and healthcheck files, schemaVersion cat-server.image-checks/v1."),
        "docker": attr.string(default = "docker", doc = "Container engine client for commandTests."),
        "_runner": attr.label(default = "//tools/cst/cmd/cst", executable = True, cfg = "target"),
    },
)

def _structure_test_config_impl(ctx):
    substitutions = {}
    for key, value in ctx.var.items():
        substitutions["$(%s)" % key] = value
    out = ctx.actions.declare_file(ctx.attr.out or ctx.label.name + ".yaml")
    ctx.actions.expand_template(template = ctx.file.template, output = out, substitutions = substitutions)
    return [DefaultInfo(files = depset([out]))]

structure_test_config = rule(
    implementation = _structure_test_config_impl,
    doc = """Expands make variables such as $(UID) in a structure-test template.

The variables come from `toolchains` (e.g. a passwd_layer) and --define, so expected
values follow the build's own flags instead of being written twice.""",
    attrs = {
        "template": attr.label(mandatory = True, allow_single_file = True),
        "out": attr.string(doc = "Output file name; defaults to <name>.yaml."),
    },
)
