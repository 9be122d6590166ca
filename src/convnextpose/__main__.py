"""``python -m convnextpose``: the same as the ``convnextpose`` console script."""

import sys

from .cli import main

sys.exit(main())
