"""reporting.notebook.execute: cells run in a fresh kernel in `cwd`; a failing cell raises,
naming the cell; the kernel's own stderr never reaches the stage's unless execution fails."""

from __future__ import annotations

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from tiktok_verified.reporting import notebook

pytestmark = pytest.mark.kernel  # each test starts an ipykernel


def write(path, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_cells_run_in_cwd_and_kernel_stderr_stays_out(tmp_path, capfd):
    (tmp_path / "here.txt").write_text("42")
    source = write(
        tmp_path / "ok.ipynb",
        "print(open('here.txt').read())",
        "import os, sys; os.write(2, b'kernel noise\\n')",
    )
    out = notebook.execute(source, tmp_path)
    assert out.cells[0].outputs[0]["text"] == "42\n"
    assert "kernel noise" not in capfd.readouterr().err


def test_a_failing_cell_raises_and_shows_the_kernels_stderr(tmp_path, capfd):
    source = write(tmp_path / "bad.ipynb", "import os; os.write(2, b'kernel noise\\n')", "1 / 0")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        notebook.execute(source, tmp_path)
    assert "kernel noise" in capfd.readouterr().err
