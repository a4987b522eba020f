"""The version of mobseg (one place; setup.cfg and the package read it)."""

__version__ = "0.3.0"
