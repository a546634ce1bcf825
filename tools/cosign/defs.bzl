"""cosign_sign and cosign_attest: rules_oci 2.3.2's @rules_oci//cosign:defs.bzl.

Same attributes, types, mandatory-ness and `type` values; they run the cosign found on
PATH (Debian's package, installed by tools/provision/install-test-deps.sh) through
//tools/cosign/cmd/cosignrun.

    # bazel run //image:sign -- --repository=REGISTRY/REPOSITORY --key=KEYREF [cosign flags]
    cosign_sign(name = "sign", image = ":image")
"""

load("//tools/cosign/private:attest.bzl", _cosign_attest = "cosign_attest")
load("//tools/cosign/private:sign.bzl", _cosign_sign = "cosign_sign")

cosign_sign = _cosign_sign
cosign_attest = _cosign_attest
