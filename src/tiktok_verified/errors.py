"""The one base class of the failures a stage explains in one line (bad params, bad input, a
refused model file): the stage runner prints `<stage>: error: <message>` and exits 1 for these,
and lets anything else (a bug) show its traceback."""


class PipelineError(ValueError):
    """A failure the user can act on; its message names what is wrong and where."""
