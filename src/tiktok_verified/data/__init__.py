"""The data: the course file's schema, the CSV reader, the synthetic stand-in, and the row-wise
features built from the cleaned videos."""
