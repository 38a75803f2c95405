"""`bulkedit config`: the settings a command would use, where each comes from, and which
settings file won the lookup (run/config_lookup.py), as a table or as JSON (--json)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from bulkedit.cli.console import print_table
from bulkedit.core.errors import ExitCode


def run_config(args: argparse.Namespace, out: TextIO) -> int:
    from bulkedit.cli.commands import settings_of
    from bulkedit.cli.jsonout import dumps
    from bulkedit.run.config import LIMITS
    from bulkedit.run.config_lookup import find_config
    from bulkedit.run.options import run_options

    lookup = find_config(Path(args.config) if args.config else None)
    settings, resolved = settings_of(args)
    rows = [["api_base", resolved.api_base, resolved.sources["api_base"]]]
    rows += [[name, str(getattr(resolved.limits, name)), resolved.sources[name]]
             for name in LIMITS]
    # How a run reads and sends a sheet ([run]), as apply and batch would have it.
    options = run_options(settings, api_base=resolved.api_base,
                          allow_hosts=getattr(args, "allow_api_host", None))
    said = settings.run_keys()
    shown = {"verify": "on (read back)" if options.verify else "off",
             "canary": f"{options.canary_size} rows" + (
                 "" if "canary" in said else " (none on this machine, 3 against any other API)"),
             "timezone": str(options.timezone),
             "date_order": options.date_order or "none (ambiguous dates refused)",
             "encoding": options.encoding or "found (UTF-8, else Windows-1252)",
             "hidden": {"refuse": "refused (hidden or filtered rows and columns)",
                        "skip": "skipped (only visible rows sent)",
                        "include": "included (read as if visible)"}[options.hidden],
             "decimal_separator": options.decimal_separator or "none (12.000 refused)",
             **{name: str(getattr(options, name)).lower() for name in (
                 "skip_invalid", "allow_irreversible", "allow_live_fields",
                 "allow_past_expiry", "spread_merged", "strip_apostrophes",
                 "split_lists")}}
    rows += [[name, value, str(settings.source) if name in said else "default"]
             for name, value in shown.items()]
    # Never a secret: only the names of the variables that hold them.
    if settings.credentials_file is not None:
        rows += [["api key and secret", str(settings.credentials_file), "credentials file"]]
    else:
        rows += [["api key", f"${settings.key_env}", "environment variable name"],
                 ["api secret", f"${settings.secret_env}", "environment variable name"]]
    if settings.accounts:  # [accounts.NAME] (issue 30): `bulkedit accounts` lists them
        default = settings.default_account or (
            next(iter(settings.accounts)) if len(settings.accounts) == 1 else None)
        rows += [["accounts", ", ".join(name + (" (default)" if name == default else "")
                                        for name in settings.accounts)
                  + " (bulkedit accounts lists them)", str(settings.source)]]
    if args.json:
        payload = {"settings_file": lookup.as_dict(),
                   "settings": [{"setting": name, "value": value, "from": source}
                                for name, value, source in rows]}
        out.write(dumps(payload))
        return ExitCode.OK
    out.write(f"Settings file: {lookup.path} ({lookup.why})\n\n" if lookup.path else
              f"Settings file: none ({lookup.why})\n\n")
    print_table(out, ["setting", "value", "from"], rows, widths={"value": 80, "from": 200})
    out.write("\nSettings files looked at, in order (the first found wins):\n")
    for place in lookup.places:
        where = f"{place.path}: " if place.path is not None else ""
        out.write(f"  {place.source:<16} {where}{place.state}\n")
    return ExitCode.OK
