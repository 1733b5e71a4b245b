"""The walkthrough notebook as a reader opens it: executed into a copy with its outputs, and
rendered by nbconvert into a standalone HTML page, both deterministic: no execution timestamps,
no kernel ids, the same bytes from the same inputs.

The cells run in this process, in IPython's own shell (`InteractiveShell`), subclassed the way
ipykernel subclasses it for a Jupyter kernel: the outputs a kernel would send (stream,
display_data, execute_result, error) are recorded into the cells instead. The executed copy is
the one nbclient gives in an ipykernel, byte for byte for the walkthrough and for the kinds of
output it uses (tests/test_notebook.py runs both; `_Stream` says where a kernel differs), but
without a kernel's start, its message round trips and its shutdown: executing and rendering the
walkthrough went from 2.1-2.3 s to 1.15-1.25 s (benchmarks/FINDINGS.md, 2026-12-07).

The HTML uses nbconvert's "basic" template (the cells, no Jupyter page chrome) inside a small
page of our own: no script, no stylesheet or font from a CDN, figures inlined as SVG, so it
renders without network access."""

from __future__ import annotations

import atexit
import builtins
import contextlib
import copy
import io
from html import escape
from pathlib import Path

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from nbformat.v4 import new_output
from traitlets import Type
from traitlets.config import Config

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


class CellFailed(Exception):
    """A code cell raised: the message names the notebook and the cell (counted from 1,
    markdown cells included, as Jupyter shows them), then its source and its traceback."""


class _Publisher(DisplayPublisher):
    """`display(...)`: a display_data output, as ipykernel's publisher sends one."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
        self.shell.outputs.append(new_output("display_data", data=data, metadata=metadata or {}))


class _DisplayHook(DisplayHook):
    """A cell's last expression: an execute_result output instead of `Out[n]:` on stdout."""

    def write_output_prompt(self):
        pass

    def write_format_data(self, format_dict, md_dict=None):
        self.shell.outputs.append(
            new_output(
                "execute_result",
                data=format_dict,
                metadata=md_dict or {},
                execution_count=self.shell.cell_count,
            )
        )

    def finish_displayhook(self):
        pass


class _Stream(io.TextIOBase):
    """sys.stdout or sys.stderr while a cell runs: a stream output, consecutive writes to the
    same stream joined into one. A kernel buffers its streams and sends them every 0.2 s, so
    there a cell that prints, waits longer and prints again gets two outputs (here one), and
    stderr written before stdout may arrive after it. Writes to the file descriptors themselves
    (`os.write(1, ...)`) reach the stage's own output, not the cell's."""

    encoding = "utf-8"

    def __init__(self, shell: _Shell, name: str):
        self.shell, self.name = shell, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        outputs = self.shell.outputs
        if text:
            last = outputs[-1] if outputs else None
            if last is not None and last.output_type == "stream" and last.name == self.name:
                last.text += text
            else:
                outputs.append(new_output("stream", name=self.name, text=text))
        return len(text)


class _Shell(InteractiveShell):
    """IPython's shell with the kernel's three output channels recorded into `outputs`."""

    display_pub_class = Type(_Publisher)
    displayhook_class = Type(_DisplayHook)
    outputs: list = []
    cell_count = 0  # the running cell's execution count (the shell's own has moved on)

    def _showtraceback(self, etype, evalue, stb):
        self.outputs.append(
            new_output("error", ename=etype.__name__, evalue=str(evalue), traceback=stb)
        )


def execute(source: Path, cwd: Path) -> nbformat.NotebookNode:
    """The notebook with every code cell run, in order, in a fresh IPython namespace with `cwd`
    as the working folder; a failing cell raises CellFailed, naming the cell. What the shell
    changed in this process (sys.modules' `__main__`, the working folder, stdout and stderr,
    the builtins it adds, its atexit hook) is put back afterwards."""
    notebook = nbformat.read(source, as_version=4)
    config = Config()
    config.HistoryManager.enabled = False  # no history database under ~/.ipython
    added = {"display", "__IPYTHON__"} - set(vars(builtins))
    shell = None
    try:
        # Inside an IPython or Jupyter session this raises MultipleInstanceError: run the stage
        # (`dvc repro`), not this function, from there.
        shell = _Shell.instance(config=config, colors="nocolor")
        with (
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(_Stream(shell, "stdout")),
            contextlib.redirect_stderr(_Stream(shell, "stderr")),
        ):
            for number, cell in enumerate(notebook.cells, 1):
                if cell.cell_type == "code":
                    _run(shell, f"{source}: cell {number} of {len(notebook.cells)}", cell)
    finally:
        if shell is not None:
            shell.restore_sys_module_state()
            atexit.unregister(shell.atexit_operations)
            _Shell.clear_instance()
        for name in added:  # the shell's builtins (`display`, `__IPYTHON__`)
            vars(builtins).pop(name, None)
    return deterministic(notebook)


def _run(shell: _Shell, where: str, cell: nbformat.NotebookNode) -> None:
    cell.outputs = shell.outputs = []
    cell.execution_count = shell.cell_count = shell.execution_count
    result = shell.run_cell(cell.source, store_history=True)
    stop = result.error_in_exec
    if isinstance(stop, BaseException) and not isinstance(stop, Exception | SystemExit):
        raise stop  # a stop signal's exception, which the shell catches like any error
    # SystemExit (`sys.exit()` in a cell) is a failing cell, as in a kernel: it must not end
    # the stage with a success and without the walkthrough written
    if not result.success:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        trace = "\n".join(errors[-1].traceback) if errors else repr(result.error_before_exec)
        raise CellFailed(f"{where} failed:\n{cell.source}\n\n{trace}")


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
