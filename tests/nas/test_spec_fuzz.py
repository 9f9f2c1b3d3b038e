"""The spec loader never crashes: any input either validates or raises SpecError."""

from __future__ import annotations

import copy

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nas.errors import SpecError
from nas.spec import CampaignSpec, load_spec, parse_spec
from tests.conftest import DEMO_SPEC

DEMO = yaml.safe_load(DEMO_SPEC.read_text())

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))


PATHS = [p for p in _paths(DEMO) if p]


def _set(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key] if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node[path[-1]] = value


def _check(data) -> None:
    try:
        spec = parse_spec(data, source="fuzz")
    except SpecError as exc:
        assert str(exc).startswith("fuzz"), str(exc)
    else:
        assert isinstance(spec, CampaignSpec)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=4))
def test_mutated_demo_specs_validate_or_fail_cleanly(mutations):
    data = copy.deepcopy(DEMO)
    for path, value in mutations:
        _set(data, path, value)
    _check(data)


@settings(max_examples=60, deadline=None)
@given(values)
def test_arbitrary_documents_fail_cleanly(document):
    _check(document)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_on_disk_fail_cleanly(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_bytes(raw)
    try:
        load_spec(path)
    except SpecError:
        pass
