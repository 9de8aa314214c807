"""`python -m controller.cli ...`: the console script without installing it."""

import sys

from controller.cli import main

sys.exit(main.main())
