"""The offline template for `dvc plots show/diff`: libraries inlined, nothing fetched."""

from __future__ import annotations

import configparser
import dataclasses
import io
import re
import tarfile
from pathlib import Path

import pytest

from tiktok_verified.tools import offline_plots
from tiktok_verified.tools.offline_plots import (
    LIBRARIES,
    Library,
    TemplateError,
    inlined_libraries,
    library_source,
    network_references,
    sri,
    verify,
)

from conftest import REPO_ROOT

TEMPLATE = REPO_ROOT / offline_plots.TEMPLATE_PATH


@pytest.fixture(scope="module")
def template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def test_dvc_config_points_at_the_committed_template():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".dvc" / "config")
    assert config["plots"]["html_template"] == TEMPLATE.name  # relative to .dvc/


def test_template_inlines_the_pinned_libraries_untouched(template):
    # Each script matches the sha256 its header records, and the versions are the pins.
    assert inlined_libraries(template) == {lib.name: lib.version for lib in LIBRARIES}
    # Their own version strings are in the code, in load order: vega, vega-lite, vega-embed.
    positions = [template.index(f'"{lib.version}"') for lib in LIBRARIES]
    assert positions == sorted(positions)
    assert len(template) > 700_000  # ~515 kB + 252 kB + 61 kB of minified code


def test_template_fetches_nothing(template):
    assert network_references(template) == []
    assert "<script src" not in template and "<link" not in template
    assert "cdn.jsdelivr.net" not in template
    # The one placeholder DVC needs; without {scripts}, DVC cannot add its CDN <script> tags.
    assert "{plot_divs}" in template and "{scripts}" not in template
    # The browser enforces it: no connections, scripts only inline.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', template)
    assert csp and "default-src 'none'" in csp.group(1)
    verify(template, is_template=True)


@pytest.mark.parametrize(
    "page, found",
    [
        ('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>', "cdn.jsdelivr.net"),
        ('<link rel="stylesheet" href="//example.org/a.css">', "example.org"),
        ("<style>body { background: url('https://example.org/x.png') }</style>", "example.org"),
        ('<img src="http://example.org/x.png">', "example.org"),
        ('<script>var spec = {"data": {"url": "https://example.org/d.csv"}};</script>', "d.csv"),
    ],
)
def test_network_references_finds_what_a_browser_would_fetch(page, found):
    refs = network_references(page)
    assert refs and found in " ".join(refs)


def test_network_references_ignores_inline_data_urls():
    assert network_references('<img src="data:image/png;base64,AAAA"><a href="#x">x</a>') == []


def _tarball(tmp_path: Path, build: str, source: str) -> Path:
    data = source.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(build)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "lib.tgz"
    path.write_bytes(buf.getvalue())
    return path


def test_library_source_checks_integrity_and_escapes_script_end(tmp_path):
    source = 'var a="</script><!-- x";\n//# sourceMappingURL=lib.min.js.map\n'
    path = _tarball(tmp_path, "package/build/lib.min.js", source)
    lib = Library("lib", "1.0.0", sri(path.read_bytes()), "package/build/lib.min.js", "MIT")
    text = library_source(lib, path)
    assert text == 'var a="<\\/script><\\!-- x";'
    with pytest.raises(TemplateError, match="integrity"):
        library_source(dataclasses.replace(lib, integrity="sha512-AAAA"), path)


def test_library_source_refuses_dvc_placeholders(tmp_path):
    path = _tarball(tmp_path, "package/build/lib.min.js", "var s='{plot_divs}';")
    lib = Library("lib", "1.0.0", sri(path.read_bytes()), "package/build/lib.min.js", "MIT")
    with pytest.raises(TemplateError, match="placeholder"):
        library_source(lib, path)


def test_verify_rejects_a_tampered_library(template):
    tampered = template.replace("vegaEmbed", "vegaEmbeX", 1)
    with pytest.raises(TemplateError, match="sha256"):
        verify(tampered, is_template=True)


@pytest.mark.e2e
def test_dvc_plots_show_writes_a_self_contained_page(make_repo):
    """`dvc plots show` in a repository: the page carries the libraries and DVC's specs for
    every plot dvc.yaml declares, and loads nothing."""
    repo = make_repo(csv=None)
    # Plot data as committed (from the course file); no pipeline run is needed to draw it.
    repo.dvc("plots", "show", "-o", "plots_page")
    page = repo.path("plots_page/index.html").read_text(encoding="utf-8")
    verify(page, is_template=False)
    import yaml

    declared = [next(iter(p)) for p in yaml.safe_load(repo.path("dvc.yaml").read_text())["plots"]]
    assert declared and all(f'<div id = "{name}">' in page for name in declared)
    assert page.count("vegaEmbed('#") == len(declared)  # no duplicate default charts
    assert "https://cdn" not in page
