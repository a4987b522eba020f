"""``python -m mobseg`` runs the command line."""

from mobseg.cli import entry_point

entry_point()
