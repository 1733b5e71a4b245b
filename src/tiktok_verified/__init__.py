"""Logistic regression of TikTok verified status on video characteristics, as a DVC pipeline."""

__version__ = "0.1.0"
