"""The package's version, written once: ``lintas.__version__``, the editions' signature, the User-Agent of the
outbound requests and ``lintas --version`` all read it from here (a foundation module, so that the stages can import
it without importing the package's face)."""

__version__ = "0.1.0"
