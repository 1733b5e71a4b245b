"""What developers and reviewers run by hand, outside `dvc repro`: compose params.yaml, the
pull-request report, the offline plots template, the resampling comparison."""
