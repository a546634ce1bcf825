"""Analysis tests of container_structure_test: upstream's driver rules and the runner's command line."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//tools/cst:defs.bzl", "container_structure_test")

def _layout_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    ctx.actions.run_shell(outputs = [out], command = "mkdir -p " + out.path)
    return [DefaultInfo(files = depset([out]))]

# A target whose one output is a directory, as an oci_image's OCI layout.
fake_layout = rule(implementation = _layout_impl)

def _script(env):
    writes = [a for a in analysistest.target_actions(env) if a.mnemonic == "FileWrite"]
    asserts.equals(env, 1, len(writes), "one launcher script")
    return writes[0].content if writes else ""

def _layout_docker_impl(ctx):
    env = analysistest.begin(ctx)
    script = _script(env)
    for want in ["'test' '--driver' 'docker' '--ignore-ref-annotation' '--image-from-oci-layout'", "'--platform' 'linux/amd64'", "\"$@\""]:
        asserts.true(env, want in script, "launcher lacks %s:\n%s" % (want, script))
    return analysistest.end(env)

layout_docker_test = analysistest.make(_layout_docker_impl)

def _tar_driver_impl(ctx):
    env = analysistest.begin(ctx)
    script = _script(env)
    for want in ["'--driver' 'tar' '--image'", "image.tar' '--config'", "'--platform' 'linux/arm64'"]:
        asserts.true(env, want in script, "launcher lacks %s:\n%s" % (want, script))
    return analysistest.end(env)

tar_driver_test = analysistest.make(_tar_driver_impl)

def _layout_tar_driver_fails_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, "when the 'driver' attribute is not 'docker', then the image must be a .tar file")
    return analysistest.end(env)

layout_tar_driver_fails_test = analysistest.make(_layout_tar_driver_fails_impl, expect_failure = True)

def analysis_test_suite(name):
    """The subjects (manual: some fail analysis on purpose) and their tests.

    Args:
      name: name of the test_suite.
    """
    fake_layout(name = "layout", tags = ["manual"])
    container_structure_test(name = "subject_layout_docker", image = ":layout", configs = ["c.yaml"], tags = ["manual"])
    container_structure_test(name = "subject_tar", image = "image.tar", configs = ["c.yaml"], driver = "tar", platform = "linux/arm64", tags = ["manual"])
    container_structure_test(name = "subject_layout_tar", image = ":layout", configs = ["c.yaml"], driver = "tar", tags = ["manual"])
    layout_docker_test(name = "layout_docker_test", target_under_test = ":subject_layout_docker")
    tar_driver_test(name = "tar_driver_test", target_under_test = ":subject_tar")
    layout_tar_driver_fails_test(name = "layout_tar_driver_fails_test", target_under_test = ":subject_layout_tar")
    native.test_suite(name = name, tests = [
        ":layout_docker_test",
        ":tar_driver_test",
        ":layout_tar_driver_fails_test",
    ])
