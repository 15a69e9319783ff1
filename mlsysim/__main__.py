"""``python -m mlsysim`` runs the command line."""

import sys

from mlsysim.cli.main import main

sys.exit(main())
