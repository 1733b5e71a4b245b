"""The local engine: polars, scikit-learn and statsmodels in one process. One module per
stage, each with `run(args, params)`; `stages.dispatch` picks the engine's module."""
