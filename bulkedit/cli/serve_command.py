"""`bulkedit serve`: the review page (bulkedit/serve/), from the command line."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bulkedit.core.errors import UsageError


def run_serve(args: argparse.Namespace, out: TextIO) -> int:
    from bulkedit.run.config import load_settings
    from bulkedit.serve.server import ServeOptions, serve

    if not 0 <= args.port <= 65535:
        raise UsageError("--port is a port number, 1 to 65535 (0 picks a free one)")
    settings = load_settings(Path(args.config) if args.config else None)
    options = ServeOptions(port=args.port, settings=settings, open_browser=args.open,
                           state_dir=Path(args.state_dir) if args.state_dir else None)
    if not args.sandbox:
        return serve(options, out)
    from bulkedit.client.transport import Credentials
    from bulkedit.sandbox import running_sandbox

    with running_sandbox() as sandbox:
        return serve(replace(options, api=f"a local sandbox at {sandbox.base_url}",
                             credentials=Credentials(*sandbox.key),
                             api_base=sandbox.base_url), out)
