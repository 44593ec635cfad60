"""`python -m flowlight ...` is the `flowlight` command."""

import sys

from flowlight.cli import main

sys.exit(main())
