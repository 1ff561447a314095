"""`python -m brightkitchen` is the `brightkitchen` command."""

import sys

from brightkitchen.cli import main

sys.exit(main())
