"""cosign_sign: rules_oci 2.3.2's cosign/private/sign.bzl interface."""

load(":run.bzl", "COSIGNRUN", "check_repository", "cosign_script")

_attrs = {
    "image": attr.label(allow_single_file = True, mandatory = True, doc = "Label to an oci_image"),
    "repository": attr.string(doc = """Repository URL where the image will be signed at, e.g.: `index.docker.io/<user>/image`.
        Digests and tags are not allowed. If this attribute is not set, the repository must be passed at runtime via the `--repository` flag."""),
    "_cosignrun": COSIGNRUN,
}

def _impl(ctx):
    check_repository(ctx.attr.repository)
    return [cosign_script(ctx, "sign", [], [])]

cosign_sign = rule(
    implementation = _impl,
    attrs = _attrs,
    doc = """`bazel run :sign -- [--repository=REPO] [cosign sign flags]` runs
`cosign sign REPO@DIGEST FLAGS...` on the image's digest, as rules_oci's cosign_sign.""",
    executable = True,
)
