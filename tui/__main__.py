"""`python -m tui` = `vllm-tui`."""

import sys

from tui.cli import main

sys.exit(main())
