"""``python -m mobseg`` runs the command line."""

import sys

from mobseg.cli import main

sys.exit(main())
