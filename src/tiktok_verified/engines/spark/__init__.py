"""The Spark engine: the same stages, the same metrics files, on Spark DataFrames and MLlib."""
