import sys

from bulkedit.cli import main

sys.exit(main())
