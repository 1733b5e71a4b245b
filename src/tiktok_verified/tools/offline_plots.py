"""The page template that makes `dvc plots show` / `dvc plots diff` work with no network.

DVC's default page loads vega, vega-lite and vega-embed from a CDN, so offline it renders
blank. `.dvc/config` points `plots.html_template` at a template built here, with the three
libraries' official minified builds inlined. The template has no `{scripts}` placeholder, so
DVC adds no CDN tags to it; a Content-Security-Policy forbids every network request.

    python -m tiktok_verified.tools.offline_plots            # rebuild (needs npm and the registry)
    python -m tiktok_verified.tools.offline_plots --verify   # check the committed template offline

The libraries come from the npm registry as the pinned tarballs below, each checked against
the registry's sha512 integrity before use. The 5.x / 6.x lines match the Vega-Lite v5 specs
that DVC's plot templates produce (`$schema: .../vega-lite/v5.json`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tiktok_verified.files import write_with


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    integrity: str  # the npm registry's dist.integrity of the tarball
    build: str  # the UMD build inside the tarball
    license: str


#: Load order matters: vega-lite needs the `vega` global, vega-embed needs both.
LIBRARIES = (
    Library(
        "vega",
        "5.33.1",
        "sha512-1fArfVDUqVbb5z8n+/nVQb+VNBzx8svY6CrsyTK4Ujm4yrd9I1auoKxBAPXLCavY1LcrbHUskQbGUP8gXOzyQw==",
        "package/build/vega.min.js",
        "BSD-3-Clause",
    ),
    Library(
        "vega-lite",
        "5.23.0",
        "sha512-l4J6+AWE3DIjvovEoHl2LdtCUkfm4zs8Xxx7INwZEAv+XVb6kR6vIN1gt3t2gN2gs/y4DYTs/RPoTeYAuEg6mA==",
        "package/build/vega-lite.min.js",
        "BSD-3-Clause",
    ),
    Library(
        "vega-embed",
        "6.29.0",
        "sha512-PmlshTLtLFLgWtF/b23T1OwX53AugJ9RZ3qPE2c01VFAbgt3/GSNI/etzA/GzdrkceXFma+FDHNXUppKuM0U6Q==",
        "package/build/vega-embed.min.js",
        "BSD-3-Clause",
    ),
)

#: Where the template lives; `.dvc/config` names it relative to `.dvc/`.
TEMPLATE_PATH = Path(".dvc/offline_plots.html")

#: DVC fills these by plain string replacement; a library containing one would be mangled.
DVC_PLACEHOLDERS = ("{plot_divs}", "{scripts}", "{refresh_tag}")

#: vega compiles expressions with `new Function` ('unsafe-eval'); the scripts are inline;
#: images and the "save as PNG/SVG" menu use data: and blob: URLs. Nothing else is allowed,
#: so the page cannot fetch anything even if a spec asked it to.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

_HEADER = re.compile(
    r"<!-- library (?P<name>[\w-]+) (?P<version>[\w.-]+) (?P<license>\S+) "
    r"npm (?P<integrity>sha512-\S+) script-sha256 (?P<sha256>[0-9a-f]{64}) -->"
)
_SCRIPT = re.compile(r"<script>\n(.*?)\n</script>", re.DOTALL)


class TemplateError(RuntimeError):
    """A library does not match its pin, or the template is not self-contained."""


def sri(data: bytes) -> str:
    """Subresource-integrity form of a sha512 digest, as npm records it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch_tarball(lib: Library, dest: Path) -> Path:
    """`npm pack` the pinned version into dest and check it against the pinned integrity."""
    proc = subprocess.run(
        ["npm", "pack", f"{lib.name}@{lib.version}", "--json", "--pack-destination", str(dest)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise TemplateError(f"npm pack {lib.name}@{lib.version} failed:\n{proc.stderr}")
    filename = json.loads(proc.stdout)[0]["filename"]
    return dest / filename


def library_source(lib: Library, tarball: Path) -> str:
    """The library's minified UMD build, made safe to inline in a <script> element."""
    data = tarball.read_bytes()
    if sri(data) != lib.integrity:
        raise TemplateError(
            f"{tarball.name}: integrity {sri(data)} does not match the pin {lib.integrity}"
        )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile(lib.build)
        if member is None:
            raise TemplateError(f"{tarball.name}: {lib.build} is not a file")
        source = member.read().decode("utf-8")
    for placeholder in DVC_PLACEHOLDERS:
        if placeholder in source:
            raise TemplateError(f"{lib.name}: contains DVC's placeholder {placeholder}")
    # A source-map comment would make browser dev tools request a file that is not there.
    source = re.sub(r"\n?//# sourceMappingURL=\S*\s*$", "", source.rstrip())
    # Inside <script>, only "</script" (any case) and "<!--" change how HTML is parsed.
    source = re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)
    return source.replace("<!--", "<\\!--")


def render_template(sources: dict[str, str]) -> str:
    """The page DVC fills: `{plot_divs}` receives one <div> with a vegaEmbed call per plot."""
    blocks = []
    for lib in LIBRARIES:
        source = sources[lib.name]
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        blocks.append(
            f"<!-- library {lib.name} {lib.version} {lib.license} npm {lib.integrity} "
            f"script-sha256 {digest} -->\n<script>\n{source}\n</script>"
        )
    libraries = "\n".join(blocks)
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
{{refresh_tag}}
<title>DVC plots (offline)</title>
<!-- Built by `python -m tiktok_verified.tools.offline_plots` from the npm registry's
     tarballs; every library is inlined, nothing is fetched. -->
{libraries}
<style>
body {{ font-family: sans-serif; margin: 16px; }}
body > div {{ margin: 0 0 32px 0; }}
table {{ border-spacing: 15px; }}
</style>
</head>
<body>
{{plot_divs}}
</body>
</html>
"""


def build(tarball_dir: Path | None = None) -> str:
    """Fetch (or take from tarball_dir) the pinned libraries and render the template."""
    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        for lib in LIBRARIES:
            tarball = (tarball_dir or Path(tmp)) / f"{lib.name}-{lib.version}.tgz"
            if not tarball.exists():
                tarball = fetch_tarball(lib, Path(tmp))
            sources[lib.name] = library_source(lib, tarball)
    return render_template(sources)


class _Loads(HTMLParser):
    """Collect every attribute through which an HTML page would fetch something."""

    FETCHING = {"src", "href", "srcset", "data", "poster", "action", "background"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self.external_scripts = 0

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in self.FETCHING and value and not value.startswith(("data:", "blob:", "#")):
                self.references.append(f"<{tag} {key}={value!r}>")
        if tag == "script" and any(k == "src" for k, _ in attrs):
            self.external_scripts += 1
        if tag == "link":
            self.references.append(f"<link {dict(attrs)!r}>")


def network_references(page: str) -> list[str]:
    """What a browser would fetch to show `page`: elements that load a URL, CSS `url()`s and
    `@import`s outside the inlined libraries' code, and spec `"url"` data sources. Empty for a
    self-contained page. The libraries' code mentions URLs (the Vega editor, the SVG namespace)
    that it never loads; those are left out by skipping the inlined library scripts."""
    parser = _Loads()
    parser.feed(page)
    found = list(parser.references)
    outside_libraries = _SCRIPT.sub("", page) if _HEADER.search(page) else page
    found += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", outside_libraries)
    found += re.findall(r"@import[^;]*", outside_libraries)
    found += re.findall(r'"url"\s*:\s*"[^"]*"', outside_libraries)
    found += re.findall(r"sourceMappingURL=\S+", page)
    return found


def inlined_libraries(page: str) -> dict[str, str]:
    """{name: version} of each inlined library whose script matches its recorded sha256."""
    found = {}
    headers = list(_HEADER.finditer(page))
    for header in headers:
        script = _SCRIPT.search(page, header.end())
        if script is None or script.start() != header.end() + 1:
            raise TemplateError(f"{header['name']}: no <script> right after its header")
        digest = hashlib.sha256(script.group(1).encode("utf-8")).hexdigest()
        if digest != header["sha256"]:
            raise TemplateError(f"{header['name']}: script does not match its recorded sha256")
        found[header["name"]] = header["version"]
    return found


def verify(page: str, *, is_template: bool) -> None:
    """Raise TemplateError unless `page` inlines the pinned libraries and loads nothing."""
    expected = {lib.name: lib.version for lib in LIBRARIES}
    if inlined_libraries(page) != expected:
        raise TemplateError(f"inlined {inlined_libraries(page)}, expected {expected}")
    refs = network_references(page)
    if refs:
        raise TemplateError(f"the page would fetch: {refs[:5]}")
    if is_template:
        if "{plot_divs}" not in page:
            raise TemplateError("no {plot_divs} placeholder: DVC refuses such a template")
        if "{scripts}" in page:
            raise TemplateError("a {scripts} placeholder would let DVC add its CDN <script> tags")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the offline `dvc plots` template.")
    parser.add_argument("--out", type=Path, default=TEMPLATE_PATH)
    parser.add_argument(
        "--tarballs", type=Path, help="directory with already downloaded <name>-<version>.tgz"
    )
    parser.add_argument(
        "--verify", action="store_true", help="only check --out (or a plots page), offline"
    )
    args = parser.parse_args(argv)
    try:
        if args.verify:
            page = args.out.read_text(encoding="utf-8")
            verify(page, is_template="{plot_divs}" in page)
            print(f"offline_plots: {args.out} inlines {inlined_libraries(page)}, loads nothing")
            return 0
        text = build(args.tarballs)
        verify(text, is_template=True)
    except (TemplateError, OSError) as exc:
        print(f"offline_plots: error: {exc}", file=sys.stderr)
        return 1
    write_with(args.out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    args.out.chmod(0o644)
    print(f"offline_plots: wrote {args.out} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
