"""Fixtures for every test, unit and browser (tests/ and e2e/)."""

import pytest
from flask import Flask
from jinja2.bccache import BytecodeCache, Bucket

from hyper_admin.testing import app_context_receivers_dropped


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by the Flask apps of a test process.

    Jinja compiles a template once per environment, so once per app: most tests build an app
    of their own, and compiling the pages it renders took more than nine tenths of its first
    request (half a second). Jinja's bytecode cache is its documented way to skip that: the
    code is reused only for the same source (checksum), name and file, and, because compiled
    code also depends on the environment (autoescape, delimiters, the filters and tests it
    calls, constant-folded at compile time), only for an environment compiling the same way;
    an environment with Jinja extensions shares nothing. The key holds the filter and test
    objects themselves, so their ids cannot be reused by others while cached.
    """

    def __init__(self):
        self.code: dict[tuple, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        key = (name, filename, _compiled_alike(environment, name))
        try:
            hash(key)
        except TypeError:  # a filter object that cannot be a key: this template is not shared
            key = None
        if environment.extensions:
            # An extension rewrites templates as it likes, with state of its own environment
            # (Hyperflask's macros compile to names made per app): nothing is shared.
            key = None
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket):
        data = self.code.get(bucket.key) if bucket.key is not None else None
        if data is not None:
            bucket.bytecode_from_string(data)  # left empty if the source changed since

    def dump_bytecode(self, bucket):
        if bucket.key is not None:
            self.code[bucket.key] = bucket.bytecode_to_string()


def _compiled_alike(env, name) -> tuple:
    """What Jinja's compiler reads from the environment when it compiles ``name``: the
    policies too, since a filter given a constant runs at compile time (``tojson`` through
    the app's JSON provider, ``truncate``, ``urlize``)."""
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return (
        type(env), autoescape, env.block_start_string, env.block_end_string,
        env.variable_start_string, env.variable_end_string, env.comment_start_string,
        env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.optimized, env.is_async, env.finalize, env.code_generator_class,
        tuple(sorted((key, _same_behaviour(value)) for key, value in env.policies.items())),
        tuple(sorted(env.filters.items())), tuple(sorted(env.tests.items())),
    )


def _same_behaviour(value):
    """A policy as a key: a method of a per-app object (Flask's JSON provider) by its class,
    function and public settings; a dict by its items."""
    owner = getattr(value, "__self__", None)
    if owner is not None and hasattr(value, "__func__") and hasattr(owner, "__dict__"):
        settings = {k: v for k, v in vars(owner).items() if not k.startswith("_")}
        return type(owner), value.__func__, tuple(sorted(settings.items()))
    if isinstance(value, dict):
        return tuple(sorted(value.items()))
    return value


# Every Flask app of this process gets it (an app may still pass jinja_options of its own).
Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedBytecodeCache()}


@pytest.fixture(autouse=True)
def _forget_flask_sqlorm_receivers_of_the_test():
    with app_context_receivers_dropped():
        yield


@pytest.fixture(autouse=True, scope="module")
def _forget_flask_sqlorm_receivers_of_the_module():
    """The same for the apps of module fixtures (the browser tests' demo servers): with the
    test files spread over workers (pytest-xdist), any file may come after them in a process."""
    with app_context_receivers_dropped():
        yield
