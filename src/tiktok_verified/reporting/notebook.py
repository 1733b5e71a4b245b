"""The walkthrough notebook as a reader opens it: executed (nbclient, in an ipykernel) into a
copy with its outputs, and rendered by nbconvert into a standalone HTML page, both
deterministic: no execution timestamps, no kernel ids, the same bytes from the same inputs.

The HTML uses nbconvert's "basic" template (the cells, no Jupyter page chrome) inside a small
page of our own: no script, no stylesheet or font from a CDN, figures inlined as SVG, so it
renders without network access."""

from __future__ import annotations

import contextlib
import copy
import importlib
import sys
import tempfile
import threading
from html import escape
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TIMEOUT_S = 300
PAGE_STYLE = """
body { font: 10.5pt/1.45 Helvetica, Arial, sans-serif; color: #1f2933; max-width: 980px;
       margin: 24px auto; padding: 0 16px; }
.jp-InputArea-editor, .input_area, div.highlight { background: #f5f7fa; border-radius: 4px; }
pre { font: 9pt/1.35 Menlo, Consolas, monospace; overflow-x: auto; padding: 6px 8px;
      margin: 4px 0; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }
.jp-Cell { margin: 10px 0; }
table { border-collapse: collapse; font-size: 9pt; margin: 6px 0; }
th, td { border: 1px solid #d9e2ec; padding: 2px 6px; text-align: right; }
blockquote { background: #b8322a; color: #fff; margin: 0; padding: 6px 10px; }
h1, h2 { color: #1f2933; } h2 { border-bottom: 1px solid #d9e2ec; }
"""


def execute(source: Path, cwd: Path) -> nbformat.NotebookNode:
    """The notebook with every cell run in a fresh kernel started in `cwd`; a failing cell
    raises nbclient's CellExecutionError, naming the cell. While the kernel runs the cells,
    this process, which only waits for its replies, imports nbconvert for `to_html` (0.45 s
    of the notebook stage's ~2.5 s; benchmarks/FINDINGS.md)."""
    threading.Thread(target=_import_quietly, args=("nbconvert",), daemon=True).start()
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
        # The kernel listens on loopback only; its warning about unencrypted TCP would be
        # printed on every run.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    # The kernel's own stderr goes to a file, shown only when execution fails: on a busy
    # machine ipykernel can log a harmless traceback while its sockets close at shutdown
    # ("Socket operation on non-socket", seen under a loaded CI run).
    with tempfile.TemporaryFile() as kernel_log:
        try:
            client.execute(stderr=kernel_log)
        except Exception:
            kernel_log.seek(0)
            tail = kernel_log.read().decode(errors="replace")[-3000:].strip()
            if tail:
                print(f"notebook kernel's stderr (last lines):\n{tail}", file=sys.stderr)
            raise
    return deterministic(notebook)


def _import_quietly(module: str) -> None:
    """Import `module` ahead of its use; a failure is left for the import that needs it."""
    with contextlib.suppress(Exception):  # the real import in `to_html` raises it again
        importlib.import_module(module)


def deterministic(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run: execution timing and kernel metadata beyond the
    kernel's name and language."""
    out = copy.deepcopy(notebook)
    for cell in out.cells:
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("metadata", {}).pop("execution", None)
    spec = out.metadata.get("kernelspec", {})
    out.metadata = {
        "kernelspec": {k: spec[k] for k in ("display_name", "language", "name") if k in spec},
        "language_info": {"name": "python"},
    }
    return out


def to_html(notebook: nbformat.NotebookNode, title: str) -> str:
    """A standalone page: the cells through nbconvert's "basic" template, our own style."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="basic").from_notebook_node(notebook)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}</style></head><body>\n"
        + body.strip()
        + "\n</body></html>\n"
    )


def to_ipynb(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"
