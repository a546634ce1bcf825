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
