"""Lintas: Indonesian news into English, Chinese, Japanese, Arabic and French editions."""

__version__ = "0.1.0"
