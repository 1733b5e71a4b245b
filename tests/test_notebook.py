"""reporting.notebook.execute: the cells run in order, in this process, in `cwd`; each output is
recorded as a Jupyter kernel reports it, in the order it came; a failing cell raises, naming the
cell; nothing the shell changed in this process is left changed. And the executed copy is the
one nbclient gives in a real ipykernel, byte for byte, on a notebook with every kind of output
and on the walkthrough itself."""

from __future__ import annotations

import builtins
import os
import sys

import nbformat
import pytest

from tiktok_verified.reporting import notebook

KINDS = (
    "print('one'); print('two')",
    "from IPython.display import Markdown, SVG, display\n"
    "display(Markdown('**bold**')); print('between'); display(Markdown('after'))",
    "x = {'a': 1}\nx",
    'display(SVG(\'<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>\'))',
    "x['a'] + 1;",  # a trailing semicolon: no result
    "import polars as pl\npl.DataFrame({'n': [1, 2]}).to_dicts()",
)


def write(path, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a title")] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


#: Written in this order; a kernel buffers stderr apart from stdout, so its order can differ.
STDERR = "import sys; print('to stderr', file=sys.stderr); print('to stdout')"


def test_outputs_are_recorded_in_order_and_as_a_kernel_reports_them(tmp_path):
    kinds = (*KINDS[:2], STDERR, *KINDS[2:])
    out = notebook.execute(write(tmp_path / "kinds.ipynb", *kinds), tmp_path)
    code = [c for c in out.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(kinds) + 1))
    assert code[0].outputs == [{"output_type": "stream", "name": "stdout", "text": "one\ntwo\n"}]
    assert [(o.output_type, o.get("name") or sorted(o.data)) for o in code[1].outputs] == [
        ("display_data", ["text/markdown", "text/plain"]),
        ("stream", "stdout"),
        ("display_data", ["text/markdown", "text/plain"]),
    ]
    assert code[1].outputs[0].data["text/markdown"] == "**bold**"
    assert [(o.name, o.text) for o in code[2].outputs] == [
        ("stderr", "to stderr\n"),
        ("stdout", "to stdout\n"),
    ]
    assert code[3].outputs == [
        {
            "output_type": "execute_result",
            "execution_count": 4,
            "data": {"text/plain": "{'a': 1}"},
            "metadata": {},
        }
    ]
    assert sorted(code[4].outputs[0].data) == ["image/svg+xml", "text/plain"]
    assert code[5].outputs == []
    assert code[6].outputs[0].data == {"text/plain": "[{'n': 1}, {'n': 2}]"}


def test_cells_run_in_cwd_and_this_process_is_left_as_it_was(tmp_path, capfd):
    (tmp_path / "here.txt").write_text("42")
    source = write(tmp_path / "ok.ipynb", "print(open('here.txt').read())", "import os")
    main, cwd, stdout, stderr = sys.modules["__main__"], os.getcwd(), sys.stdout, sys.stderr
    out = notebook.execute(source, tmp_path)
    assert out.cells[1].outputs[0]["text"] == "42\n"
    assert (sys.modules["__main__"], os.getcwd(), sys.stdout, sys.stderr) == (
        main,
        cwd,
        stdout,
        stderr,
    )
    assert capfd.readouterr() == ("", "")
    assert not hasattr(builtins, "display") and not hasattr(builtins, "__IPYTHON__")
    # each run starts from a fresh namespace: `os` from the last run is not defined
    again = notebook.execute(write(tmp_path / "again.ipynb", "'os' in dir()"), tmp_path)
    assert again.cells[1].outputs[0].data["text/plain"] == "False"


@pytest.mark.filterwarnings("ignore:To exit:UserWarning")  # IPython's, on sys.exit() in a cell
def test_a_failing_cell_raises_naming_the_cell_and_its_error(tmp_path):
    source = write(tmp_path / "bad.ipynb", "x = 1", "1 / x\n1 / 0", "print('never')")
    with pytest.raises(notebook.CellFailed) as failed:
        notebook.execute(source, tmp_path)
    message = str(failed.value)
    assert message.startswith(f"{source}: cell 3 of 4 failed:\n1 / x\n1 / 0\n")
    assert "ZeroDivisionError" in message and "\x1b[" not in message  # no terminal colours
    # sys.exit() in a cell is a failing cell, as in a kernel: never a quiet success that
    # leaves the last run's walkthrough in place
    exits = write(tmp_path / "exit.ipynb", "import sys; sys.exit(0)", "print('never')")
    with pytest.raises(notebook.CellFailed, match="SystemExit"):
        notebook.execute(exits, tmp_path)
    syntax = write(tmp_path / "syntax.ipynb", "def (")
    with pytest.raises(notebook.CellFailed, match="SyntaxError"):
        notebook.execute(syntax, tmp_path)


def test_a_stop_signal_during_a_cell_stops_the_run_as_itself(tmp_path):
    """IPython's shell catches every exception a cell raises, KeyboardInterrupt included; the
    stage's stop (guards.Interrupted, KeyboardInterrupt) must reach the runner as itself."""
    source = write(tmp_path / "stop.ipynb", "raise KeyboardInterrupt", "print('never')")
    with pytest.raises(KeyboardInterrupt):
        notebook.execute(source, tmp_path)
    assert sys.modules["__main__"].__name__ == "__main__" and os.getcwd() != str(tmp_path)


def kernel_copy(source, cwd) -> nbformat.NotebookNode:
    """The reference: the same notebook run by nbclient in a fresh ipykernel, as Jupyter runs
    it (what the notebook stage did until 2026-12-07)."""
    from nbclient import NotebookClient

    nb = nbformat.read(source, as_version=4)
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    ).execute()
    return notebook.deterministic(nb)


@pytest.mark.kernel
def test_the_copy_is_the_one_a_jupyter_kernel_gives(tmp_path):
    source = write(tmp_path / "kinds.ipynb", *KINDS)
    assert notebook.to_ipynb(notebook.execute(source, tmp_path)) == notebook.to_ipynb(
        kernel_copy(source, tmp_path)
    )


@pytest.mark.kernel
@pytest.mark.e2e
def test_the_walkthrough_is_the_one_a_jupyter_kernel_gives(real_run):
    """On the course-file run: the stage's copy (reports/) is nbclient's, byte for byte."""
    source = real_run.path("notebooks/verified_status_walkthrough.ipynb")
    stage_copy = real_run.path("reports/walkthrough.ipynb").read_text(encoding="utf-8")
    env = {"PYTHONPATH": str(real_run.path("src"))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel imports the run's own code, as the stage does
    try:
        assert notebook.to_ipynb(kernel_copy(source, real_run.root)) == stage_copy
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
