"""The two test tiers: every slow marker is registered, documented and left out of `make
check`; a test that uses a slow fixture without its marker is refused at collection; the slow
tests are handed out first."""

from __future__ import annotations

import re
import subprocess
import sys
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


def test_loadgroup_keeps_a_group_on_one_worker(tmp_path):
    """`make test` runs with `--dist loadgroup` so that the Spark tests share one JVM. With
    pytest 9.2 and pytest-xdist 3.8 the groups were silently ignored (each of four workers
    started its own JVM): this runs two grouped tests on two workers, as `make test` would,
    and fails when they land on different workers."""
    (tmp_path / "test_pair.py").write_text(
        "import pytest\n"
        "@pytest.mark.xdist_group('g')\ndef test_a(): pass\n"
        "@pytest.mark.xdist_group('g')\ndef test_b(): pass\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    ran = re.findall(r"\[(gw\d+)\].*PASSED \S*test_pair\.py::(test_[ab]\S*)", proc.stdout)
    assert len(ran) == 2, proc.stdout[-2000:]
    assert {name for _, name in ran} == {"test_a@g", "test_b@g"}, f"no group applied: {ran}"
    assert len({worker for worker, _ in ran}) == 1, f"the group was split: {ran}"
