"""cosign_attest: rules_oci 2.3.2's cosign/private/attest.bzl interface."""

load(":run.bzl", "COSIGNRUN", "check_repository", "cosign_script")

_attrs = {
    "image": attr.label(allow_single_file = True, mandatory = True, doc = "Label to an oci_image"),
    "type": attr.string(
        values = ["slsaprovenance", "slsaprovenance02", "slsaprovenance1", "link", "spdx", "spdxjson", "cyclonedx", "vuln", "openvex", "custom"],
        mandatory = True,
        doc = "Type of predicate. Acceptable values are (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom)",
    ),
    "predicate": attr.label(allow_single_file = True, mandatory = True, doc = "Label to the predicate file. Only files are allowed. eg: sbom.spdx, in-toto.json"),
    "repository": attr.string(doc = """Repository URL where the image will be signed at, e.g.: `index.docker.io/<user>/image`.
        Digests and tags are not allowed. If this attribute is not set, the repository must be passed at runtime via the `--repository` flag."""),
    "_cosignrun": COSIGNRUN,
}

def _impl(ctx):
    check_repository(ctx.attr.repository)
    fixed = ["--predicate", ctx.file.predicate.short_path, "--type", ctx.attr.type]
    return [cosign_script(ctx, "attest", fixed, [ctx.file.predicate])]

cosign_attest = rule(
    implementation = _impl,
    attrs = _attrs,
    doc = """`bazel run :attest -- [--repository=REPO] [cosign attest flags]` runs
`cosign attest REPO@DIGEST --predicate FILE --type TYPE FLAGS...`, as rules_oci's cosign_attest.""",
    executable = True,
)
