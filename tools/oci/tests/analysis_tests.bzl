"""fails_with_test: a target's analysis must fail with a given message (rules_oci's checks)."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _fails_with_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

fails_with_test = analysistest.make(
    _fails_with_impl,
    expect_failure = True,
    attrs = {"message": attr.string(mandatory = True)},
)

def _described_layers_impl(ctx):
    env = analysistest.begin(ctx)
    actions = analysistest.target_actions(env)
    images = [a for a in actions if a.mnemonic == "OCIImage"]
    asserts.equals(env, 1, len(images), "one OCIImage action")
    if images:
        inputs = [f.basename for f in images[0].inputs.to_list()]
        asserts.true(env, ctx.attr.descriptor in inputs, "the OCIImage action does not read %s (inputs: %s)" % (ctx.attr.descriptor, inputs))
    specs = [a.content for a in actions if a.mnemonic == "FileWrite" and '"tar_descriptors"' in a.content]
    asserts.equals(env, 1, len(specs), "one spec with tar_descriptors")
    if specs:
        asserts.true(env, "/" + ctx.attr.descriptor + '"' in specs[0], "the spec names no %s:\n%s" % (ctx.attr.descriptor, specs[0]))
    return analysistest.end(env)

# described_layers_test: oci_image hands the descriptor of a tar_layer (LayerDescriptorInfo) to
# `ocitool image`, so the image step does not hash the layer again.
described_layers_test = analysistest.make(
    _described_layers_impl,
    attrs = {"descriptor": attr.string(mandatory = True)},
)
