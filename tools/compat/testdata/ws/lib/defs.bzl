"""Fixture: a public file in the shape of upstream's, for the comparison's own tests."""

load("//lib/private:rule.bzl", _thing = "thing", _thing_lib = "thing_lib")
load(":ext.bzl", _ext = "ext")

thing_rule = _thing
other_rule = rule(implementation = _thing_lib.implementation, attrs = _thing_lib.attrs, executable = True)
ext = _ext

def thing(name, tags = None, **kwargs):
    thing_rule(name = name, tags = tags, **kwargs)
