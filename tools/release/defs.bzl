"""image_release: publish a stamped image so that a consumer can verify it (project-only).

    # bazel run --stamp //image:release -- --repository=REGISTRY/REPOSITORY --key=KEYREF [--offline] [--tag=TAG]...
    image_release(
        name = "release",
        image = ":image",
        sbom = ":sbom",
        sbom_artifact = ":sbom_artifact",
        provenance = ":provenance",
        stamp = "//tools/stamp:stamp",
        stamped_tags = ":stamped_tags",
    )

It pushes the image by digest, then the SBOM referrer, signs it with the cosign on PATH,
attests the SBOM (cyclonedx) and the provenance (slsaprovenance1), and tags it last
(the stamped tags, then each --tag). It refuses a build without --stamp (stamp.json says
"stamped": false). The Go side is //tools/release/cmd/release.
"""

load("//tools/runscript:runscript.bzl", "write_run_script")

def _impl(ctx):
    tool = ctx.executable._release
    args = [tool.short_path, "--image", ctx.file.image.short_path, "--stamp", ctx.file.stamp.short_path]
    files = [tool, ctx.file.image, ctx.file.stamp]
    for flag, f in [
        ("--sbom", ctx.file.sbom),
        ("--sbom-artifact", ctx.file.sbom_artifact),
        ("--provenance", ctx.file.provenance),
        ("--stamped-tags", ctx.file.stamped_tags),
    ]:
        if f:
            args.extend([flag, f.short_path])
            files.append(f)
    if ctx.attr.recursive:
        args.append("--recursive")
    args.append("--")
    script = write_run_script(ctx, ctx.label.name + ".sh", args)
    runfiles = ctx.runfiles(files = files).merge(ctx.attr._release[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

image_release = rule(
    implementation = _impl,
    attrs = {
        "image": attr.label(allow_single_file = True, mandatory = True, doc = "The oci_image or oci_image_index to release."),
        "stamp": attr.label(allow_single_file = [".json"], mandatory = True, doc = "stamp.json (//tools/stamp:stamp): the release refuses an unstamped build."),
        "sbom": attr.label(allow_single_file = True, doc = "CycloneDX SBOM, attested as type cyclonedx."),
        "sbom_artifact": attr.label(allow_single_file = True, doc = "The SBOM as an OCI referrer of the image (sbom_artifact), pushed before signing."),
        "provenance": attr.label(allow_single_file = True, doc = "SLSA v1 provenance predicate, attested as type slsaprovenance1."),
        "stamped_tags": attr.label(allow_single_file = True, doc = "Tags, one per line (the stamped version), applied last."),
        "recursive": attr.bool(doc = "Sign an image index and each of its images (cosign sign --recursive)."),
        "_release": attr.label(default = Label("//tools/release/cmd/release"), executable = True, cfg = "target"),
    },
    doc = "`bazel run --stamp :release -- --repository=REG/REPO --key=KEYREF [--offline] [--tag=T]...`",
    executable = True,
)
