import sys

from bulkedit.cli.main import run

sys.exit(run())
