"""`python -m adminui`: the same entry point as the `adminui` console script."""

import sys

from adminui.cli import main

sys.exit(main())
