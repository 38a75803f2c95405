import sys

from bulkedit.cli.main import main

sys.exit(main())
