"""The two test tiers: every slow marker is registered, documented and left out of `make
check`; a test that uses a slow fixture without its marker is refused at collection; the slow
tests are handed out first."""

from __future__ import annotations

import re
import tomllib

import pytest

import conftest
from conftest import FIXTURE_MARKERS, REPO_ROOT, SLOW_MARKERS


class Item:
    """What pytest_collection_modifyitems reads of a collected test."""

    def __init__(self, name: str, fixtures=(), marks=()):
        self.nodeid = name
        self.fixturenames = list(fixtures)
        self.marks = set(marks)

    def get_closest_marker(self, name):
        return name if name in self.marks else None

    def add_marker(self, mark):
        self.marks.add(mark.name)


def test_a_slow_fixture_without_its_marker_stops_the_collection():
    items = [Item("t::ok", ["tmp_path"]), Item("t::jvm", ["spark"]), Item("t::run", ["real_run"])]
    with pytest.raises(pytest.UsageError) as err:
        conftest.pytest_collection_modifyitems(None, items)
    assert str(err.value).splitlines()[1:] == [
        "t::jvm uses the fixture 'spark': mark it 'spark'",
        "t::run uses the fixture 'real_run': mark it 'e2e'",
    ]


def test_slow_markers_add_slow_and_go_first():
    items = [
        Item("t::unit"),
        Item("t::kernel", marks={"kernel"}),
        Item("t::unit2", ["tmp_path"]),
        Item("t::jvm", ["spark"], marks={"spark"}),
    ]
    conftest.pytest_collection_modifyitems(None, items)
    assert [i.nodeid for i in items] == ["t::kernel", "t::jvm", "t::unit", "t::unit2"]
    assert [("slow" in i.marks) for i in items] == [True, True, False, False]


def test_markers_are_registered_documented_and_left_out_of_make_check():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    registered = {m.split(":")[0] for m in pyproject["ini_options"]["markers"]}
    assert registered == {*SLOW_MARKERS, "slow"}
    assert "--strict-markers" in pyproject["ini_options"]["addopts"]
    assert set(FIXTURE_MARKERS.values()) <= set(SLOW_MARKERS)
    readme = (REPO_ROOT / "README.md").read_text()
    development = readme[readme.index("## Development") :]
    for marker in (*SLOW_MARKERS, "slow"):
        assert re.search(rf"^\| `{marker}` \| .+ \| no \|$", development, re.M), marker
    makefile = (REPO_ROOT / "Makefile").read_text()
    check = re.search(r"^check:.*\n\t(.*)$", makefile, re.M).group(1)
    assert '-m "not slow"' in check
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().endswith("make test")
