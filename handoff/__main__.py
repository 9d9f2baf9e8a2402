import sys

from handoff.app import main

sys.exit(main())
