"""`bulkedit apply`: the terminal side of a run (credentials, signals, progress, output).

The run itself is runner.SheetRun; this module only gathers its inputs from the
command line and the environment, and renders what comes back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import TextIO

from bulkedit import protocol
from bulkedit.client import ENV_BASE, Credentials
from bulkedit.console import ProgressReporter, ask_to_confirm, print_issues, print_table
from bulkedit.errors import UsageError
from bulkedit.report import default_results_path, table_format, write_results
from bulkedit.runner import InvalidSheet, RunOptions, RunResult, SheetRun, write_summary


@contextlib.contextmanager
def _api(args: argparse.Namespace) -> Iterator[tuple[Credentials, str]]:
    """Credentials and base URL: a throw-away sandbox, a credentials file, or the env."""
    if args.sandbox:
        from bulkedit.sandbox import SandboxConfig, running_sandbox

        with running_sandbox(SandboxConfig()) as sandbox:
            key, secret = sandbox.key
            yield Credentials(key, secret), sandbox.base_url
        return
    credentials = (Credentials.from_file(Path(args.credentials)) if args.credentials
                   else Credentials.from_env())
    yield credentials, args.api_base or os.environ.get(ENV_BASE) or protocol.PARTNER_API


def _options(args: argparse.Namespace, timezone: tzinfo, api_base: str) -> RunOptions:
    if (args.rate < 0 or args.concurrency < 1 or args.timeout <= 0 or args.max_attempts < 1
            or args.backoff < 0 or args.batch_size < 1):
        raise UsageError("--rate and --backoff must be 0 or more, --concurrency, "
                         "--max-attempts and --batch-size at least 1, --timeout more than 0")
    sheet = Path(args.sheet)
    results = Path(args.results) if args.results else default_results_path(sheet)
    table_format(results)  # refuse a bad extension before any work
    return RunOptions(
        sheet=sheet, sheet_name=args.sheet_name, timezone=timezone,
        allow_irreversible=args.allow_irreversible, allow_live_fields=args.allow_live_fields,
        skip_invalid=args.skip_invalid, rate=args.rate or None, concurrency=args.concurrency,
        timeout=args.timeout, max_attempts=args.max_attempts, base_delay=args.backoff,
        batch_size=args.batch_size,
        api_base=api_base,
        results=results, summary_json=Path(args.summary_json) if args.summary_json else None)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


async def _run_with_signals(run: SheetRun, err: TextIO) -> RunResult:
    """Ctrl-C or SIGTERM once: finish the requests in flight and stop; twice: stop now."""
    loop = asyncio.get_running_loop()

    def first_signal() -> None:
        err.write("\nStopping: letting the requests in flight finish (Ctrl-C again to "
                  "stop at once)…\n")
        run.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, first_signal)
    return await run.run()


def run_apply(args: argparse.Namespace, out: TextIO, timezone: tzinfo,
              err: TextIO | None = None) -> int:
    err = err or sys.stderr
    with _api(args) as (credentials, api_base):
        options = _options(args, timezone, api_base)
        progress = ProgressReporter(err)
        confirm = None
        if not args.yes and _interactive():
            def confirm(plans: list) -> bool:  # type: ignore[type-arg]
                progress.close()
                return ask_to_confirm(plans, sys.stdin, out)
        run = SheetRun(options, credentials, progress, confirm)
        try:
            result = asyncio.run(_run_with_signals(run, err))
        except InvalidSheet as invalid:
            validation = invalid.validation
            out.write(f"{validation.sheet.source}: {validation.row_count} rows, "
                      f"{len(validation.invalid_rows)} invalid"
                      + (", and problems in the header row" if validation.header_errors
                         else "") + "\n")
            print_issues(out, validation.errors, 20, report_hint=False)
            out.write("Nothing was sent. Fix the sheet (bulkedit validate lists every "
                      "problem), or pass --skip-invalid to send only the valid rows.\n")
            return 2
        finally:
            progress.close()
    return _report(result, options, out)


def _report(result: RunResult, options: RunOptions, out: TextIO) -> int:
    assert options.results is not None
    write_results(options.results, result.sheet, result.outcomes)
    result.results_path = options.results
    if options.summary_json is not None:
        write_summary(options.summary_json, result)
    summary = result.summary()
    counts = summary["counts"]
    out.write(f"{result.sheet.source}: {summary['rows']} rows in "
              f"{summary['duration_seconds']:.1f} s — "
              + ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) + "\n")
    out.write(f"API calls: {result.reads} reads, {result.writes} writes "
              f"({summary['achieved_rate_per_second']}/s), {result.retries} retries, "
              f"{result.rate_limited} rate-limited\n")
    failed = [o for o in result.outcomes if o.status in ("failed", "invalid")][:10]
    if failed:
        out.write("\n")
        print_table(out, ["row", "video", "status", "problem"],
                    [[str(o.row), o.video_id or "", o.status, o.error] for o in failed],
                    widths={"problem": 160})
    if result.cancelled:
        out.write("Cancelled: nothing was sent.\n")
    if result.aborted:
        out.write(f"Stopped early: {result.aborted}\n")
    if result.interrupted:
        out.write("Interrupted: the rows not sent are marked skipped.\n")
    out.write(f"Results: {options.results}\n")
    if options.summary_json is not None:
        out.write(f"Summary: {options.summary_json}\n")
    return result.exit_code
