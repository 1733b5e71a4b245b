"""The model and its statistics, on scikit-learn and statsmodels: design matrix, split,
resampling, fit, model file, inference, assumptions, held-out metrics, cross-validation."""
