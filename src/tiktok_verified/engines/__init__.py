"""Engines other than the local one (polars, scikit-learn, statsmodels), behind the same stages:
`engine.name: spark` runs the data-reading stages on Apache Spark DataFrames."""
