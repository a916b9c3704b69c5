"""boligmix: Danish almene housing from register data.

Official area lists, monitoring, social mix and segregation, letting, simulation,
development plans, evaluation and reports, in one package.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boligmix")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
