import sys

from cortex_tui.cli import main

sys.exit(main())
