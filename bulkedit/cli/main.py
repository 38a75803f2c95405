"""The `bulkedit` command: parse, call one library function, render, map to an exit code."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import gc
import math
import os
import sys
from collections.abc import Callable, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bulkedit import __version__
from bulkedit.cli.console import TerminalSafe, print_issues, print_table
from bulkedit.cli.options import (
    add_account_option,
    add_api_options,
    add_output_options,
    rate_flag,
    stdout_claims,
)
from bulkedit.core.errors import BulkEditError, DiskProblem, ExitCode, UsageError

if TYPE_CHECKING:
    from bulkedit.core.schema import FieldSpec

# Building the parser (all `--help` and `--version` do) imports no command module: each
# command imports what it needs when it runs. tests/test_startup.py holds the line.

# core.cells.DATE_ORDERS, spelt here so the parser does not import the cell grammar (and
# pycountry with it); tests/test_startup.py checks they agree.
DATE_ORDER_CHOICES = ("dmy", "mdy")


def _timezone(name: str) -> tzinfo:
    from bulkedit.core.cells import zone_named

    return zone_named(name)


# ----------------------------------------------------------------------------- fields

def _field_rows(specs: Sequence[FieldSpec]) -> list[dict[str, str]]:
    return [{
        "field": s.name,
        "kind": s.kind.value,
        "access": s.access.value,
        "limits": s.limits(),
        "clear": "[]" if s.clearable else "no",
        "patch": "+/-" if s.patchable else "",
        "needs": s.tier.value if s.tier.name != "ANYONE" else "",
        "notes": s.refusal or s.notes,
    } for s in specs]


def cmd_fields(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.jsonout import dumps
    from bulkedit.core.schema import FIELDS, READ_ONLY_FIELDS, Access

    specs = [s for s in FIELDS.values() if args.all or s.access is Access.WRITABLE]
    rows = _field_rows(specs)
    if args.format == "json":
        payload = {"fields": [{**r, "summary": s.summary, "example": s.example,
                               "allowed": list(s.allowed) if len(s.allowed) <= 50 else [],
                               "max_length": s.max_length, "max_items": s.max_items,
                               "irreversible_when_true": s.irreversible_true,
                               "write_only": s.write_only}
                              for r, s in zip(rows, specs, strict=True)],
                   "read_only": list(READ_ONLY_FIELDS)}
        out.write(dumps(payload))
        return ExitCode.OK
    columns = ["field", "kind", "limits", "clear", "patch", "needs", "notes"]
    if args.all:
        columns.insert(2, "access")
    if args.format == "markdown":
        out.write("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n")
        for row in rows:
            out.write("| " + " | ".join(row[c].replace("|", "\\|") for c in columns) + " |\n")
    else:
        print_table(out, columns, [[r[c] for c in columns] for r in rows],
                     widths={"limits": 44, "notes": 60})
    if not args.all:
        others = [s.name for s in FIELDS.values() if s.access is not Access.WRITABLE]
        out.write(f"\nNot edited by bulkedit: {', '.join(others)} (--all says why).\n"
                  f"Read-only: {', '.join(READ_ONLY_FIELDS)}.\n")
    return ExitCode.OK


# ----------------------------------------------------------------------------- validate

def cmd_validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import sheet_choices, sheet_read
    from bulkedit.cli.console import Console
    from bulkedit.cli.jsonout import dumps, validation_json
    from bulkedit.cli.stdout import is_stdout, spooled
    from bulkedit.core.validation import validate
    from bulkedit.run.config import load_settings
    from bulkedit.run.options import run_options
    from bulkedit.run.runner import validation_options
    from bulkedit.sheets.files import preflight
    from bulkedit.sheets.load import load_sheet
    from bulkedit.sheets.report import table_format, write_issues

    console = Console.of(args, out, err)
    # The sheet read as plan and apply will read it: the same flags, bulkedit.toml's [run].
    settings = load_settings(Path(args.config) if args.config else None)
    run = run_options(settings, sheet=args.sheet, **sheet_choices(args), offline=True,
                      verbosity=console.verbosity, account=args.account)
    options = validation_options(run)
    to_stdout = is_stdout(args.report)
    report = Path(args.report) if args.report and not to_stdout else None
    if report is not None:
        table_format(report)  # refuse a bad extension before the work
        preflight([("problem report", report)], inputs=[args.sheet])
    sheet = load_sheet(args.sheet, sheet=run.sheet_name, encoding=run.encoding,
                       reading=run.reading)
    result = validate(sheet, options)
    code = ExitCode.OK if result.ok else ExitCode.PROBLEMS
    if args.json:
        out.write(dumps(validation_json(sheet, result, code)))
    elif to_stdout:  # the problems as CSV, the table --report problems.csv writes
        with spooled(out, "problems.csv", text=True) as path:
            write_issues(path, result.issues)
    said = console.human
    said.write(f"{sheet_read(sheet)}: {result.row_count} rows, {result.valid_count} valid, "
               f"{len(result.invalid_rows)} invalid, {len(result.warnings)} warnings\n")
    if result.header_errors:
        said.write(f"{len(result.header_errors)} problems in the header row (row "
                   f"{sheet.header_row}) block the whole sheet.\n")
    print_issues(said, result.issues, args.max_shown,
                 report_hint=report is None and not console.data)
    if report is not None:
        write_issues(report, result.issues)
        said.write(f"Every problem written to {report}\n")
    if result.ok:
        said.write("The sheet is valid; `bulkedit plan` checks its changes against the live "
                   "videos.\n")
        return code
    said.write("Fix the problems above, then validate again. Nothing was sent.\n")
    if console.verbosity.quiet and not console.data:  # quiet: the errors, nothing else
        print_issues(err, result.errors, args.max_shown, report_hint=False)
    return code


# ----------------------------------------------------------------------------- template

def cmd_template(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.console import Console
    from bulkedit.cli.stdout import check_binary, is_stdout, spooled
    from bulkedit.sheets.templates import write_template

    console = Console.of(args, out, err)
    fields = [f for f in args.fields.split(",") if f.strip()] if args.fields else None
    if is_stdout(args.output):  # `-o -`: a CSV template (--format xlsx: a workbook)
        kind = args.format or "csv"
        if kind == "xlsx":
            check_binary(out, "-o - --format xlsx", "an XLSX template")
        with spooled(out, f"template.{kind}", text=kind == "csv") as path:
            specs = write_template(path, fields)
        shown = "standard output"
    else:
        path = Path(args.output)
        if args.format and path.suffix.lower() != f".{args.format}":
            raise UsageError(f"--format {args.format} and -o {path} say two formats; the "
                             "file's extension says it (--format is for -o -)")
        specs = write_template(path, fields)
        shown = str(path)
    console.human.write(f"Template written to {shown}: video_id, "
                        f"{', '.join(s.name for s in specs)}\n")
    return ExitCode.OK


# ----------------------------------------------------------------------------- apply

def cmd_apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_apply

    return run_apply(args, out, err)


def cmd_plan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_plan

    return run_plan(args, out, err)


def _add_apply_parser(commands: argparse._SubParsersAction) -> None:
    apply = commands.add_parser(
        "apply", help="send the sheet's edits",
        description="Check the sheet, read the videos' current values, and send only the "
                    "real changes, rate-limited and retried; then write a results sheet.")
    apply.add_argument("sheet", help="the .xlsx or .csv file")
    _add_sheet_options(apply)
    add = apply.add_argument
    add("--skip-invalid", action="store_true",
        help="send the valid rows even if some rows are invalid (they are reported)")
    add("--results", metavar="PATH",
        help="results sheet (.xlsx or .csv; default: beside the sheet, NAME.results.EXT)")
    add("--rollback", metavar="PATH",
        help="rollback sheet, written before the first edit (default NAME.rollback.EXT)")
    add("--summary-json", metavar="FILE",
        help="write a summary for machines (- for stdout: then the rest goes to stderr)")
    add("--plan", metavar="PLAN",
        help="a plan saved by `bulkedit plan --save`: send exactly what it shows, with the "
             "options it was made with (a flag that contradicts them is refused); rows whose "
             "live values changed since are marked conflict and not sent")
    add("--force", action="store_true", help="with --plan: send drifted rows anyway")
    add("--verify", action=argparse.BooleanOptionalAction, default=None,
        help="read the written fields back, in batches, and call a row updated only when "
             "they read back as sent; a change the API ignored fails the row (default: on; "
             "--no-verify leaves written rows 'sent')")
    add("--canary", type=int, metavar="N",
        help="send N rows first (one per distinct set of fields), read them back, and stop "
             "before the rest if the API refused or ignored anything; a run it stopped stays "
             "stopped until the sheet changes or --no-canary (default 3 against any API not "
             "on this machine)")
    add("--no-canary", action="store_true", help="send every row at once")
    add("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add("--state-dir", metavar="DIR",
        help="where the run journal lives (default: bulkedit.toml's state_dir, "
             "else $BULKEDIT_STATE_DIR, else ~/.local/state/bulkedit)")
    add("--fresh", action="store_true",
        help="start over instead of resuming the sheet's unfinished run")
    add_api_options(apply)
    add_account_option(apply)
    apply.set_defaults(run=cmd_apply)

    plan = commands.add_parser(
        "plan", help="dry run: show what apply would change; send nothing",
        description="Read the videos' current values and write a diff report (XLSX and "
                    "HTML) of what apply would change. Sends no write.")
    plan.add_argument("sheet", help="the .xlsx or .csv file")
    _add_sheet_options(plan)
    plan.add_argument("--skip-invalid", action="store_true",
                      help="plan the valid rows even if some rows are invalid")
    plan.add_argument("--report", metavar="FILE.xlsx",
                      help="diff report for Excel (default NAME.plan.xlsx; - for stdout "
                           "when it is a pipe or a file, never a terminal)")
    plan.add_argument("--html", metavar="FILE.html",
                      help="diff report as a web page (default NAME.plan.html; - for "
                           "stdout)")
    plan.add_argument("--json", action="store_true",
                      help="the plan as JSON on stdout: counts, the calls an apply would "
                           "make, and each row's status and changes; the exit code is "
                           "unchanged")
    plan.add_argument("--save", metavar="PLAN",
                      help="keep the reviewed live values, for apply --plan PLAN")
    add_api_options(plan)
    add_account_option(plan)
    plan.set_defaults(run=cmd_plan)


def cmd_batch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.account_access import keys_for_run
    from bulkedit.cli.commands import announce_api_base, api_choices, canary_choice
    from bulkedit.cli.console import Console
    from bulkedit.cli.stdout import is_stdout
    from bulkedit.run.batch import Batch, JsonLog
    from bulkedit.run.config import load_settings, resolve
    from bulkedit.run.options import run_options

    console = Console.of(args, out, err)
    settings = load_settings(Path(args.config) if args.config else None)
    resolved = resolve(args, settings)  # checks the limits before the night starts
    if not args.sandbox:
        announce_api_base(settings, resolved, console.notices)
    if args.state_dir:
        settings.state_dir = Path(args.state_dir)
    inbox = Path(args.inbox) if args.inbox else settings.inbox
    if inbox is None:
        raise UsageError("no inbox: give the folder, or set [batch] inbox in bulkedit.toml")
    if is_stdout(args.log):  # the JSON lines on stdout, the human lines on stderr
        log = JsonLog(None, console.err, stream=out, only_errors=console.verbosity.quiet)
    else:
        log = JsonLog(Path(args.log) if args.log else settings.log,
                      console.err if console.verbosity.quiet else out,
                      only_errors=console.verbosity.quiet)
    # Each sheet's rows go through their account's key (the one of [api] without accounts).
    with keys_for_run(args, settings, resolved) as (credentials, base):
        said = {**api_choices(args), "api_base": base, "verify": args.verify,
                "canary": canary_choice(args), "settle": args.settle,
                "verbosity": console.verbosity, "account": args.account}
        run_options(settings, **said)  # a wrong setting is refused before the first sheet
        return Batch(settings, inbox, credentials, said, log, trust=args.trust_inbox,
                     detail=console.detail).run()


def cmd_doctor(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_doctor

    return run_doctor(args, out, err)


def _add_doctor_parser(commands: argparse._SubParsersAction) -> None:
    doctor = commands.add_parser(
        "doctor", help="check what your key can do on the API, with read-only calls",
        description="Check the token and its scopes, which fields the API reads for your "
                    "key, how many ids one read answers, the latency, and what --rate and "
                    "--batch-size to start with. A few read-only calls; never a write.")
    add_api_options(doctor)
    add_account_option(doctor)
    doctor.add_argument("--json", action="store_true", help="the findings as JSON")
    doctor.add_argument("--profile", choices=("kind", "strict"), default="kind",
                        help="with --sandbox: the sandbox's realism profile")
    doctor.set_defaults(run=cmd_doctor)


def cmd_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_export

    return run_export(args, out, _timezone(args.timezone), err)


def _add_export_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="write live videos to an editable sheet",
        description="Write chosen fields of a set of videos to a sheet that is itself a "
                    "valid input: edit it in Excel, then plan and apply it.")
    add = export.add_argument
    add("-o", "--output", default="videos.xlsx", metavar="PATH",
        help="the sheet to write: .xlsx (default videos.xlsx) or .csv; - for stdout (CSV, "
             "or XLSX with --format xlsx when stdout is not a terminal)")
    add("--format", choices=("csv", "xlsx"),
        help="the sheet's format, for -o - (default csv); a file's is its extension")
    add("--owner", action="append", metavar="CHANNEL",
        help="a channel (user) id whose videos to export; repeat for several")
    add("--ids", metavar="FILE", help="the videos to export: a .txt of ids, or any sheet's "
                                      "video_id column")
    add("--created-after", metavar="DATE", help="only videos created after DATE")
    add("--created-before", metavar="DATE", help="only videos created before DATE")
    add("--private", choices=("yes", "no"), help="only private (yes) or public (no) videos")
    add("--fields", metavar="A,B,C",
        help="the columns (default: the template's: title, description, tags, channel, …)")
    add("--timezone", default="UTC", metavar="TZ",
        help="time zone of the dates written (default UTC)")
    add_api_options(export)
    add_account_option(export)
    export.set_defaults(run=cmd_export)


def cmd_runs(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_runs

    return run_runs(args, out)


def cmd_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import run_report

    return run_report(args, out, err)


def _add_batch_parser(commands: argparse._SubParsersAction) -> None:
    batch = commands.add_parser(
        "batch", help="apply every sheet in a folder (the nightly job)",
        description="Apply every sheet in an inbox folder, oldest first, without prompts; "
                    "move each to done/ or failed/ with its results and rollback sheets.")
    add = batch.add_argument
    add("inbox", nargs="?", help="the folder of sheets (default: [batch] inbox)")
    add("--config", metavar="FILE",
        help="settings file (default: $BULKEDIT_CONFIG, else ./bulkedit.toml, else "
             "~/.config/bulkedit/bulkedit.toml; `bulkedit config` shows which)")
    add("--log", metavar="FILE",
        help="append one JSON line per event to FILE (- for stdout: then the human lines "
             "go to stderr)")
    add("--state-dir", metavar="DIR", help="the run journal (default INBOX/.bulkedit)")
    add("--settle", type=float, metavar="SECONDS",
        help="take a sheet only once it has stopped changing for this long (default 5; "
             "[batch] settle): one still being copied in is left for later")
    add("--rate", type=rate_flag, metavar="N|auto",
        help="requests per second (0 = no limit), or auto: found as the run goes")
    add("--max-rate", type=float, metavar="N", help="with --rate auto, the most it may try")
    add("--concurrency", type=int, metavar="N", help="requests in flight at most")
    add("--api-base", metavar="URL", help="API base URL")
    add("--allow-api-host", action="append", metavar="HOST",
        help="send credentials to this API host too (https only)")
    add("--trust-inbox", action="store_true",
        help="also apply sheets of other users, or that other users may write (symbolic "
             "links and special files are never read)")
    add("--verify", action=argparse.BooleanOptionalAction, default=None,
        help="read the written fields back (default on, or bulkedit.toml's verify)")
    add("--canary", type=int, metavar="N",
        help="rows sent and read back first in each sheet (default 3 against any API not on "
             "this machine)")
    add("--no-canary", action="store_true", help="send every row of each sheet at once")
    add("--sandbox", action="store_true", help="send to a local sandbox (a demo)")
    add_account_option(batch)
    batch.set_defaults(run=cmd_batch)


def cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.serve_command import run_serve

    return run_serve(args, out)


def _add_serve_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="a review page on this machine: upload a sheet, see its problems",
        description="Serve a review page on 127.0.0.1 (this machine only): people upload a "
                    "sheet and see its problems first, then its rows, as `bulkedit validate`"
                    " finds them. Prints one sign-in link per user ([serve] users in "
                    "bulkedit.toml); Ctrl-C stops it. See docs/serve.md.")
    add = serve.add_argument
    add("--port", type=int, default=8787, help="port on 127.0.0.1 (default 8787; 0 picks a "
                                               "free one)")
    add("--open", action="store_true", help="open the first user's link in the browser")
    add("--config", metavar="FILE",
        help="settings file: [serve] users and max_upload_mb, [run] how sheets are read "
             "(default: $BULKEDIT_CONFIG, else ./bulkedit.toml, else "
             "~/.config/bulkedit/bulkedit.toml)")
    add("--state-dir", metavar="DIR",
        help="where uploaded sheets are kept (DIR/serve; default: as apply's)")
    add("--sandbox", action="store_true", help="a demo: a local sandbox stands for the API")
    serve.set_defaults(run=cmd_serve)


def cmd_config(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.config_command import run_config

    return run_config(args, out)


def _add_config_parser(commands: argparse._SubParsersAction) -> None:
    config = commands.add_parser(
        "config", help="show the settings a command would use, and where each comes from",
        description="Print the resolved settings (flag > environment > bulkedit.toml > "
                    "default) and where each value comes from. Secrets are shown only as "
                    "the name of the variable that holds them. The settings file is the "
                    "first found of: --config FILE, $BULKEDIT_CONFIG, ./bulkedit.toml, "
                    "$XDG_CONFIG_HOME/bulkedit/bulkedit.toml (~/.config/bulkedit/...); "
                    "the output says which won, why, and every place looked at.")
    add_api_options(config)
    config.add_argument("--json", action="store_true",
                        help="the settings, their sources and the lookup, as JSON on stdout")
    config.set_defaults(run=cmd_config)


def cmd_accounts(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.accounts_command import run_accounts

    return run_accounts(args, out, err)


def _add_accounts_parser(commands: argparse._SubParsersAction) -> None:
    accounts = commands.add_parser(
        "accounts", help="list the configured accounts; --check tries each key",
        description="List the Dailymotion accounts bulkedit.toml configures ([accounts.NAME] "
                    "sections; without any, the one account 'default'): where each key is "
                    "(the names of its variables or its file, never the key), its channels "
                    "and its rate. --check tries each key with one token request and one "
                    "read-only call.")
    accounts.add_argument("--check", action="store_true",
                          help="try each key: one token request and one read, never a write")
    accounts.add_argument("--json", action="store_true", help="the accounts as JSON on stdout")
    add_account_option(accounts)
    add_api_options(accounts)
    accounts.set_defaults(run=cmd_accounts)


def _add_journal_parsers(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser("runs", help="list the runs in a journal",
                               description="List the runs kept in a run journal, with their "
                                           "state (finished, interrupted, aborted, running) "
                                           "and where each one's rollback sheet is now.")
    runs.add_argument("--state-dir", metavar="DIR",
                      help="the journal's folder (default: as apply's)")
    runs.add_argument("--json", action="store_true",
                      help="the runs as JSON on stdout, with where each one's results and "
                           "rollback sheets are now")
    runs.set_defaults(run=cmd_runs)
    report = commands.add_parser("report", help="rewrite a run's results and rollback sheets",
                                 description="Rebuild a run's results sheet, rollback sheet "
                                             "and summary from its journal, after any crash.")
    report.add_argument("run_id", metavar="RUN", help="the run id (see `bulkedit runs`)")
    report.add_argument("--state-dir", metavar="DIR",
                        help="the journal's folder (default: as apply's)")
    report.add_argument("--results", metavar="PATH", help="default NAME.results.EXT")
    report.add_argument("--rollback", metavar="PATH", help="default NAME.rollback.EXT")
    report.add_argument("--summary-json", metavar="FILE", help="- for stdout")
    report.set_defaults(run=cmd_report)


# ----------------------------------------------------------------------------- sandbox

def cmd_sandbox(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import asyncio
    from dataclasses import replace

    from bulkedit.sandbox.config import (
        PROFILE_KNOBS,
        AccountTier,
        ApiKey,
        SandboxConfig,
        accounts,
        parse_schedule,
    )
    from bulkedit.sandbox.server import serve_forever

    for name in ("fail_rate", "throttle_rate", "timeout_rate", "drop_rate"):
        if not 0 <= getattr(args, name) <= 1:
            raise UsageError(f"--{name.replace('_', '-')} is a share between 0 and 1")
    for flag, value in (("--slow-above", args.slow_above), ("--rate", args.rate)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{flag} is requests per second, a number more than 0")
    try:
        schedule = parse_schedule(args.rate_schedule) if args.rate_schedule is not None else ()
    except ValueError as exc:
        raise UsageError(f"--rate-schedule: {exc}") from None
    window = _pair(args.window_quota, "--window-quota", "N/SECONDS", "100/60")
    bucket = _pair(args.token_bucket, "--token-bucket", "BURST/REFILL", "20/5")
    if args.latency_ms is not None:
        if not (math.isfinite(args.latency_ms) and args.latency_ms >= 0):
            raise UsageError("--latency-ms is milliseconds, 0 or more")
        args.latency = args.latency_ms / 1000
    key = ApiKey("sandbox-api-key", "sandbox-api-secret", tier=AccountTier(args.tier))
    if not 0 <= args.accounts <= 100:
        raise UsageError("--accounts is a number of accounts, from 0 to 100")
    owners = max(args.owners, args.accounts)  # every account owns at least one channel
    brands = tuple(replace(account, tier=key.tier)
                   for account in accounts(args.accounts, owners)) if args.accounts else ()
    knobs = SandboxConfig.strict() if args.profile == "strict" else SandboxConfig()
    config = SandboxConfig(
        videos=args.videos, seed=args.seed, owners=owners, keys=(key, *brands),
        limit_scope=args.limit_per,
        token_lifetime=args.token_lifetime, max_ids=args.max_ids, rate=args.rate,
        hourly_quota=args.hourly_quota, retry_after_header=not args.no_retry_after,
        rate_limit_status=args.rate_limit_status, latency=args.latency, jitter=args.jitter,
        fail_rate=args.fail_rate, throttle_rate=args.throttle_rate,
        timeout_rate=args.timeout_rate, drop_rate=args.drop_rate,
        hold_seconds=args.hold, fault_seed=args.fault_seed, state_file=args.state,
        rate_schedule=schedule, slow_above=args.slow_above,
        window_quota=window[0] if window else None,
        window_seconds=window[1] if window else 1.0,
        bucket_burst=bucket[0] if bucket else None,
        bucket_refill=bucket[1] if bucket else 1.0,
        **{name: getattr(knobs, name) for name in PROFILE_KNOBS})
    if args.profile == "strict":
        config.retry_after_header = False
    try:
        asyncio.run(serve_forever(config, args.host, args.port, out))
    except KeyboardInterrupt:
        out.write("sandbox stopped\n")
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port} ({exc.strerror})") from None
    return ExitCode.OK


def _pair(text: str | None, flag: str, form: str, example: str) -> tuple[int, float] | None:
    """"100/60" -> (100, 60.0): a count and a number of seconds (or a rate) more than 0."""
    if text is None:
        return None
    count, _, other = text.partition("/")
    try:
        pair = (int(count), float(other))
    except ValueError:
        pair = (0, 0.0)
    if pair[0] < 1 or not (math.isfinite(pair[1]) and pair[1] > 0):
        raise UsageError(f"{flag} {text!r}: write {form}, like {example}")
    return pair


def _add_sandbox_parser(commands: argparse._SubParsersAction) -> None:
    sandbox = commands.add_parser(
        "sandbox", help="serve a local emulator of the Dailymotion partner API",
        description="Serve a local emulator of the Dailymotion partner REST API on loopback, "
                    "with seeded videos and knobs for limits and faults (all off by default).")
    add = sandbox.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8642, help="port (default 8642; 0 picks a free one)")
    add("--videos", type=int, default=1000, help="videos to seed (default 1000)")
    add("--owners", type=int, default=5, help="channels the videos belong to (default 5)")
    add("--accounts", type=int, default=0, metavar="N",
        help="N partner accounts besides the sandbox key, each with its own key "
             "(sandbox-key-1, …) and its own channels, shared out among them; a key "
             "editing another account's video is refused, as the API does")
    add("--limit-per", choices=("token", "key"), default="token",
        help="what --rate and the quotas count: each token apart (default), or every "
             "token of one key together")
    add("--seed", type=int, default=1, help="seed of the generated videos (default 1)")
    add("--state", metavar="FILE", help="keep the videos in this SQLite file across restarts")
    add("--tier", choices=("pro", "standard"), default="pro",
        help="account tier of the key: standard cannot set Pro fields (default pro)")
    add("--token-lifetime", type=float, default=36000.0, metavar="SECONDS",
        help="access token lifetime (default 36000)")
    add("--max-ids", type=int, default=100, help="most ids per GET /rest/videos (default 100)")
    add("--rate", type=float, metavar="N",
        help="requests per second per token (sliding window), never told to the client")
    add("--rate-schedule", metavar="T:N,...",
        help="a limit that changes: from T seconds after the first API request, N per "
             "second, e.g. 0:40,60:15,120:40 (replaces --rate)")
    add("--slow-above", type=float, metavar="N",
        help="slow down instead of refusing: serve N requests per second and queue the "
             "rest, so latency grows with the load above N")
    add("--hourly-quota", type=int, metavar="N", help="requests per hour per token")
    add("--window-quota", metavar="N/SECONDS",
        help="a fixed window quota: N requests per SECONDS-long window, then every request "
             "is refused until the window turns (with --no-retry-after: no hint when)")
    add("--token-bucket", metavar="BURST/REFILL",
        help="a token bucket: BURST requests at once, refilled at REFILL per second")
    add("--no-retry-after", action="store_true", help="send 429s without Retry-After")
    add("--rate-limit-status", type=int, choices=(429, 403), default=429,
        help="answer the rate limit with 429 (default) or a 403 'spam' error")
    add("--latency", type=float, default=0.0, metavar="SECONDS", help="added to each request")
    add("--latency-ms", type=float, metavar="MS",
        help="the same in milliseconds (replaces --latency): high latency needs many "
             "requests in flight (--concurrency) to reach a rate")
    add("--jitter", type=float, default=0.0, metavar="SECONDS", help="up to this much more")
    add("--fail-rate", type=float, default=0.0, metavar="SHARE", help="answer 500/502/503")
    add("--throttle-rate", type=float, default=0.0, metavar="SHARE",
        help="answer 429 at random, whatever the rate")
    add("--timeout-rate", type=float, default=0.0, metavar="SHARE",
        help="hold the request for --hold seconds")
    add("--hold", type=float, default=30.0, metavar="SECONDS",
        help="how long a held request waits (default 30)")
    add("--drop-rate", type=float, default=0.0, metavar="SHARE",
        help="close the connection without an answer")
    add("--fault-seed", type=int, default=7, help="seed of the fault draws (default 7)")
    add("--profile", choices=("kind", "strict"), default="kind",
        help="strict: every behaviour the docs leave open at its harshest plausible value "
             "(unreadable fields, private videos hidden from listings, ids= truncated, "
             "throttling as a plain 403, allow_embedded only, empty clears refused)")
    sandbox.set_defaults(run=cmd_sandbox)


# ----------------------------------------------------------------------------- help, completion

def cmd_help(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`bulkedit help COMMAND` is `bulkedit COMMAND --help`; an unknown command is told the
    closest ones, as `bulkedit COMMAND` would be."""
    with contextlib.redirect_stdout(out):
        build_parser().parse_args([args.topic, "--help"] if args.topic else ["--help"])
    return ExitCode.OK


def cmd_completion(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.completion import script

    out.write(script(build_parser(), args.shell))
    return ExitCode.OK


def _add_help_parsers(commands: argparse._SubParsersAction) -> None:
    helper = commands.add_parser(
        "help", help="show a command's help (the same as COMMAND --help)",
        description="Show the help of COMMAND, as `bulkedit COMMAND --help` does; without "
                    "one, the list of commands.")
    helper.add_argument("topic", nargs="?", metavar="COMMAND", help="the command")
    helper.set_defaults(run=cmd_help)
    completion = commands.add_parser(
        "completion", help="print a shell completion script (bash, zsh or fish)",
        description="Print a script that completes bulkedit's commands, options and their "
                    "choices in your shell. Load it in this shell with `eval \"$(bulkedit "
                    "completion bash)\"` (zsh: the same, after compinit; fish: `bulkedit "
                    "completion fish | source`), or save it where the shell looks: "
                    "~/.local/share/bash-completion/completions/bulkedit, a folder in zsh's "
                    "$fpath as _bulkedit, ~/.config/fish/completions/bulkedit.fish.")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"),
                            help="the shell to complete in")
    completion.set_defaults(run=cmd_completion)


# ----------------------------------------------------------------------------- main

class _Parser(argparse.ArgumentParser):
    """Usage mistakes become one line on stderr and exit 2, like every other user error.

    No option is taken from a prefix of its name (`--max-sh` is not `--max-shown`): an
    option added later must never change what an old script means. The subcommands are
    built by this same class (argparse's default parser_class), so this holds on each.
    A choice that is not one (a command, a --format) is answered with the closest ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        near = difflib.get_close_matches(str(value), names, n=3, cutoff=0.6)
        what = "command" if isinstance(action, argparse._SubParsersAction) else "choice"
        hint = (f"; did you mean {' or '.join(repr(n) for n in near)}?" if near
                else f" (choose from {', '.join(names)})")
        raise argparse.ArgumentError(action, f"unknown {what} {str(value)!r}{hint}")

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse measures the commands' names without the indent it then shows them with,
    so the longest (`completion`) would be pushed onto a line of its own."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction) and action.help != argparse.SUPPRESS:
            for sub in action._get_subactions():
                self._action_max_length = max(
                    self._action_max_length, len(self._format_action_invocation(sub))
                    + self._current_indent + self._indent_increment)


# The README's "Exit codes" table, short (tests/test_cli_exit_codes.py keeps them in step).
EXIT_CODES_HELP = """\
exit codes:
  0    done: every row's status true (validate: the sheet is valid)
  1    finished with invalid or failed rows
  2    bad input, configuration or usage: nothing was sent
  3    run aborted (credentials, too many failures, lock held, disk)
  70   internal error: a bug of bulkedit's, please report it
       (BULKEDIT_DEBUG=1 shows its traceback)
  130  interrupted (resumable)
--json, a - output, --quiet and --verbose never change the exit code;
every command takes -q/--quiet, -v/--verbose and --no-progress (docs/pipes.md)"""


class _ExitCodesFormatter(argparse.HelpFormatter):
    """A command's help as argparse writes it, with the table of exit codes kept as laid
    out (argparse would refill it into one paragraph)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit codes:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bulkedit",
        description="Change the metadata of many Dailymotion videos from one spreadsheet.",
        epilog=EXIT_CODES_HELP, formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"bulkedit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fields = commands.add_parser("fields", help="list the video fields a sheet can change",
                                 description="List the video fields a sheet can change.")
    fields.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    fields.add_argument("--all", action="store_true",
                        help="also list the fields bulkedit refuses or keeps for live streams")
    fields.set_defaults(run=cmd_fields)

    check = commands.add_parser("validate", help="check a sheet; send nothing",
                                description="Check every row of a sheet against the field "
                                            "schema and report every problem at once.")
    check.add_argument("sheet", help="the .xlsx or .csv file")
    _add_sheet_options(check)
    check.add_argument("--report", metavar="FILE",
                       help="write every problem to FILE (.csv, .xlsx or .json; - for CSV "
                            "on stdout)")
    check.add_argument("--json", action="store_true",
                       help="the counts and every problem (row, column, code, message, fix) "
                            "as JSON on stdout; the exit code is unchanged")
    check.add_argument("--max-shown", type=int, default=20, metavar="N",
                       help="problems shown on screen (default 20)")
    check.add_argument("--config", metavar="FILE",
                       help="settings file whose [run] section says how to read the sheet "
                            "(default: $BULKEDIT_CONFIG, else ./bulkedit.toml, else "
                            "~/.config/bulkedit/bulkedit.toml); flags win over it")
    add_account_option(check)
    check.set_defaults(run=cmd_validate)

    template = commands.add_parser("template", help="write a sheet to fill in",
                                   description="Write an XLSX (dropdowns, header notes, a How "
                                               "to fill sheet) or CSV template.")
    template.add_argument("-o", "--output", default="bulkedit-template.xlsx", metavar="PATH",
                          help="where to write it: .xlsx or .csv "
                               "(default bulkedit-template.xlsx); - for stdout (CSV, or "
                               "XLSX with --format xlsx when stdout is not a terminal)")
    template.add_argument("--format", choices=("csv", "xlsx"),
                          help="the template's format, for -o - (default csv)")
    template.add_argument("--fields", metavar="A,B,C",
                          help="the fields to include, comma-separated (default: title, "
                               "description, tags, channel, language, private, "
                               "is_created_for_kids, publish_date, geoblocking)")
    template.set_defaults(run=cmd_template)
    _add_apply_parser(commands)
    _add_batch_parser(commands)
    _add_export_parser(commands)
    _add_doctor_parser(commands)
    _add_journal_parsers(commands)
    _add_config_parser(commands)
    _add_accounts_parser(commands)
    _add_sandbox_parser(commands)
    _add_serve_parser(commands)
    _add_help_parsers(commands)
    for command in commands.choices.values():  # every command: exit codes, --quiet, --verbose…
        command.epilog = command.epilog or EXIT_CODES_HELP
        if command.formatter_class is argparse.HelpFormatter:
            command.formatter_class = _ExitCodesFormatter
        add_output_options(command)
    return parser


def _unknown_arguments(parser: argparse.ArgumentParser, command: str,
                       unknown: Sequence[str]) -> str:
    """argparse's "unrecognized arguments", with the command's closest option for each."""
    prog = parser.prog
    options: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            sub = action.choices[command]
            prog = sub.prog
            options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    hints = []
    for word in unknown:
        name = word.split("=", 1)[0]
        if name.startswith("--"):
            near = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
            if near:
                hints.append(f"{name}: did you mean {near[0]}?")
    said = "".join(f"{hint}; " for hint in hints)
    return f"unrecognized arguments: {' '.join(unknown)} ({said}see `{prog} --help`)"


def _add_sheet_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sheet", dest="sheet_name", metavar="NAME",
                        help="the worksheet to read (default: the first visible one)")
    parser.add_argument("--timezone", metavar="TZ",
                        help="time zone of dates written without an offset (default: "
                             "bulkedit.toml's [run] timezone, else UTC)")
    parser.add_argument("--allow-irreversible", action="store_true",
                        help="allow explicit=true, which Dailymotion can never undo")
    parser.add_argument("--allow-live-fields", action="store_true",
                        help="allow fields that only apply to live streams")
    parser.add_argument("--allow-past-expiry", action="store_true",
                        help="allow an expiry_date in the past on videos whose "
                             "expiry_date_deletion is on: Dailymotion deletes them")
    parser.add_argument("--encoding", metavar="NAME",
                        help="the CSV's encoding, like cp1251 (default: UTF-8, or "
                             "Windows-1252 when the file is not UTF-8 and reads as Western "
                             "text; any other is refused rather than guessed)")
    parser.add_argument("--date-order", choices=DATE_ORDER_CHOICES, metavar="dmy|mdy",
                        help="read dates like 01/12/2026 day first (dmy) or month first "
                             "(mdy); without it they are refused as ambiguous")
    # A sheet that could mean two things is refused; each of these says which it means.
    hidden = parser.add_mutually_exclusive_group()
    hidden.add_argument("--skip-hidden", dest="hidden", action="store_const", const="skip",
                        help="send only the visible rows of a workbook: rows hidden or "
                             "filtered out are reported as skipped, hidden columns ignored "
                             "(without it or --include-hidden, hidden rows are refused)")
    hidden.add_argument("--include-hidden", dest="hidden", action="store_const",
                        const="include",
                        help="read hidden and filtered-out rows and hidden columns as if "
                             "they were visible")
    parser.add_argument("--spread-merged", action="store_true",
                        help="give every cell a merged range covers the range's value "
                             "(without it a merge over data cells is refused)")
    parser.add_argument("--strip-apostrophes", action="store_true",
                        help="in a CSV, drop a leading apostrophe before =, +, - or @ as an "
                             "exporter's escape (without it the apostrophe is kept, as the "
                             "user's text, with a warning)")
    parser.add_argument("--decimal-separator", choices=(".", ","), metavar=". or ,",
                        help="the sheet's decimal separator: with \".\" 12.000 is twelve, "
                             "with \",\" it is twelve thousand (without it such numbers are "
                             "refused as ambiguous)")
    parser.add_argument("--split-lists", action="store_true",
                        help="split a list cell written with ; | or one item per line into "
                             "items (without it such a cell is refused, the split shown)")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None) -> int:
    # Everything printed shows control, bidi and invisible characters escaped: a cell or a
    # file name must never drive the terminal or the log reading it.
    out = TerminalSafe(out or sys.stdout)  # type: ignore[assignment]
    err = TerminalSafe(err or sys.stderr, progress=True)  # type: ignore[assignment]
    parser = build_parser()
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_disk_cleanup(previous_hook)
    try:
        with contextlib.redirect_stdout(out):  # --help and --version print to `out`
            args, unknown = parser.parse_known_args(argv)
        if unknown:
            raise UsageError(_unknown_arguments(parser, args.command, unknown))
        stdout_claims(args)  # two outputs asking for one stdout: refused before any work
        code = int(args.run(args, out, err))
        out.flush()
        lost = out.lost  # type: ignore[attr-defined]
        if lost is not None:  # the output is gone, the outcome is not: its exit code stays
            err.write(f"bulkedit: the output could not be written ("
                      f"{(lost.strerror or type(lost).__name__).lower()}); exit code {code}\n")
        return code
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except BulkEditError as exc:
        err.write(f"bulkedit: error: {exc}\n")
        if os.environ.get("BULKEDIT_DEBUG") and getattr(exc, "detail", ""):
            err.write(f"bulkedit: debug: {exc.detail}\n")  # type: ignore[attr-defined]
        if isinstance(exc, DiskProblem):
            gc.collect()  # a half-written file's objects go while the quiet hook is ours
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("bulkedit: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:  # stderr itself is gone: nothing can be said
        return ExitCode.INTERNAL
    except Exception as exc:  # a bug of ours: one line, and the traceback on request
        if os.environ.get("BULKEDIT_DEBUG"):
            raise
        err.write(f"bulkedit: internal error ({type(exc).__name__}); please report it. "
                  "Set BULKEDIT_DEBUG=1 to see the details.\n")
        return ExitCode.INTERNAL
    finally:
        sys.unraisablehook = previous_hook


def _quiet_disk_cleanup(previous: Callable[[Any], None]) -> Callable[[Any], None]:
    """A full disk is reported once, as one line; the clean-up of the file that hit it (a
    ZipFile closing itself on the same full disk) must not add a traceback after it."""
    def hook(unraisable: Any) -> None:
        error = unraisable.exc_value
        if isinstance(error, OSError) and error.errno in _DISK_ERRNOS \
                and not os.environ.get("BULKEDIT_DEBUG"):
            return
        previous(unraisable)

    return hook


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS}


def run() -> int:
    """The `bulkedit` program: `main`, with the quiet clean-up kept until the interpreter
    exits (a file that hit a full disk may be collected only then)."""
    sys.unraisablehook = _quiet_disk_cleanup(sys.unraisablehook)
    return main()


if __name__ == "__main__":
    sys.exit(run())
