"""`bulkedit apply` and `bulkedit plan`: the terminal side of a run.

The run itself is runner.SheetRun; this module gathers its inputs from the
command line and the environment (credentials, signals) and renders what comes
back (progress, summaries, result and report files).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path
from typing import Any, TextIO

from bulkedit.cli.account_access import account_names, keys_for_run, one_key_each
from bulkedit.cli.console import (
    Console,
    ProgressReporter,
    ask_to_confirm,
    print_issues,
    print_table,
)
from bulkedit.cli.jsonout import dumps
from bulkedit.client.transport import Credentials
from bulkedit.core.account_estimate import SheetEstimate
from bulkedit.core.errors import ApiError, ExitCode, RunAborted, UsageError
from bulkedit.core.outcomes import Estimate, Outcome, RunResult, sheet_notes
from bulkedit.core.policy import ApiLimits
from bulkedit.core.sheet import Sheet
from bulkedit.core.validation import ValidationResult
from bulkedit.run.config import LIMITS, Resolved, Settings, load_settings, resolve
from bulkedit.run.journal import Journal, state_dir_for
from bulkedit.run.options import RunOptions, run_options
from bulkedit.run.plan_estimate import plan_estimate
from bulkedit.run.runner import InvalidSheet, SheetRun, account_binding
from bulkedit.sheets.files import keep_earlier, preflight
from bulkedit.sheets.report import (
    default_side_path,
    table_format,
    write_results,
    write_rollback,
    write_summary,
)


def settings_of(args: argparse.Namespace, err: TextIO | None = None
                ) -> tuple[Settings, Resolved]:
    """bulkedit.toml (--config, else ./bulkedit.toml) and the settings resolved from it, the
    flags and the environment: the same for every command. A settings file that sends the
    credentials somewhere else than the default says so on `err`."""
    settings = load_settings(Path(args.config) if getattr(args, "config", None) else None)
    resolved = resolve(args, settings)
    if not getattr(args, "sandbox", False):
        announce_api_base(settings, resolved, err)
    return settings, resolved


def announce_api_base(settings: Settings, resolved: Resolved, err: TextIO | None) -> None:
    if err is not None and settings.source is not None \
            and resolved.sources.get("api_base") == str(settings.source):
        err.write(f"{settings.source} sends the API calls to {resolved.api_base}\n")


def sheet_choices(args: argparse.Namespace) -> dict[str, Any]:
    """What the user said of how to read the sheet; None for each flag left out (so that
    bulkedit.toml or a saved plan can say it)."""
    def said(flag: bool) -> bool | None:
        return True if flag else None

    return {"sheet_name": args.sheet_name, "timezone": args.timezone,
            "date_order": args.date_order, "encoding": args.encoding,
            "allow_irreversible": said(args.allow_irreversible),
            "allow_live_fields": said(args.allow_live_fields),
            "allow_past_expiry": said(args.allow_past_expiry),
            "skip_invalid": said(getattr(args, "skip_invalid", False)),
            "hidden": args.hidden, "spread_merged": said(args.spread_merged),
            "strip_apostrophes": said(args.strip_apostrophes),
            "decimal_separator": args.decimal_separator,
            "split_lists": said(args.split_lists)}


def api_choices(args: argparse.Namespace) -> dict[str, Any]:
    """What the user said of the API's limits and where it is (None: not said)."""
    return {**{name: getattr(args, name, None) for name in LIMITS},
            "allow_hosts": getattr(args, "allow_api_host", None),
            "global_rate": getattr(args, "global_rate", None)}


def canary_choice(args: argparse.Namespace) -> int | None:
    if args.no_canary and args.canary not in (None, 0):
        raise UsageError("--canary N and --no-canary say opposite things; give one")
    return 0 if args.no_canary else args.canary


def _when(moment: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


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


def sheet_read(sheet: Sheet) -> str:
    """Which sheet a command read, as it tells the user: the file, and a workbook's tab."""
    return (f"sheet '{sheet.sheet_name}' of {sheet.source}" if sheet.sheet_name
            else sheet.source)


def tell_sheet(out: TextIO, progress: ProgressReporter | None = None
               ) -> Callable[[Sheet, ValidationResult], None]:
    """What plan and apply say as soon as the sheet is read, before any read of the API,
    prompt or write: which sheet, and every warning validate would give."""
    def told(sheet: Sheet, validation: ValidationResult) -> None:
        if progress is not None:
            progress.close()  # a bar half drawn must not swallow the lines
        out.write(f"Reading {sheet_read(sheet)} (header on row {sheet.header_row})\n")
        warnings = validation.warnings
        if warnings:
            out.write(f"{len(warnings)} {'warning' if len(warnings) == 1 else 'warnings'} "
                      "about how the sheet was read; check them before anything is sent "
                      "(each is in the results sheet and the summary):\n")
            print_issues(out, warnings, 10, report_hint=False)
            out.write("\n")
    return told


def _refused(invalid: InvalidSheet, out: TextIO) -> int:
    validation = invalid.validation
    out.write(f"{validation.sheet.source}: {validation.row_count} rows, "
              f"{len(validation.invalid_rows)} invalid"
              + (", and problems in the header row" if validation.header_errors else "")
              + "\n")
    print_issues(out, validation.errors, 20, report_hint=False)
    out.write("Nothing was sent. Fix the sheet (bulkedit validate lists every problem), or "
              "pass --skip-invalid to leave the invalid rows out.\n")
    return ExitCode.BAD_INPUT


def _execute(run: SheetRun, progress: ProgressReporter, out: TextIO, err: TextIO,
             on_refused: Callable[[ValidationResult], None] | None = None
             ) -> RunResult | int:
    try:
        return asyncio.run(_run_with_signals(run, err))
    except InvalidSheet as invalid:
        if on_refused is not None:
            on_refused(invalid.validation)
        return _refused(invalid, out)
    finally:
        progress.close()


# ----------------------------------------------------------------------------- apply

def run_apply(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    from bulkedit.cli.stdout import UNDO_KEPT, is_stdout, keep_as_file

    err = err or sys.stderr
    console = Console.of(args, out, err)
    said = console.human
    sheet = Path(args.sheet)
    results = Path(args.results) if args.results else default_side_path(sheet, "results")
    rollback = Path(args.rollback) if args.rollback else default_side_path(sheet, "rollback")
    keep_as_file("--results", args.results, UNDO_KEPT)
    keep_as_file("--rollback", args.rollback, UNDO_KEPT)
    for path in (results, rollback):
        table_format(path)  # refuse a bad extension before any work
    # `--summary-json -`: the summary on stdout, written here once the run is over.
    summary_out = is_stdout(args.summary_json)
    settings, resolved = settings_of(args, console.notices)
    with keys_for_run(args, settings, resolved) as (credentials, api_base):
        options = run_options(
            settings, sheet=sheet, **sheet_choices(args), **api_choices(args),
            api_base=api_base, account=account_names(args), send=True, results=results,
            rollback=rollback, summary_json=None if summary_out else args.summary_json,
            force=args.force or None, verify=args.verify,
            canary=canary_choice(args), fresh=args.fresh or None, state_dir=args.state_dir,
            plan=args.plan, verbosity=console.verbosity)
        progress = console.progress()
        confirm = None
        stopped_at_prompt: list[bool] = []
        asking = err if console.data else out  # the question never goes into the data
        if not args.yes and _interactive():
            def confirm(plans: list) -> bool:  # type: ignore[type-arg]
                progress.close()
                try:
                    with _signals_interrupt():
                        return ask_to_confirm(plans, sys.stdin, asking)
                except KeyboardInterrupt:  # Ctrl-C or SIGTERM at the prompt: nothing sent
                    asking.write("\n")
                    stopped_at_prompt.append(True)
                    return False

        def announce(phase: str, done: int, total: int, failures: int) -> None:
            if run.resumed is not None and not announced:
                announced.append(True)
                earlier = run.resumed
                confirmed = len(earlier.done_positions())
                console.notice(f"Resuming run {earlier.run.id} (started "
                               f"{_when(earlier.run.started)}): {confirmed} rows already "
                               "done are not sent again; --fresh starts over")
            progress(phase, done, total, failures)

        announced: list[bool] = []
        run = SheetRun(options, credentials, announce, confirm,
                       on_loaded=tell_sheet(said, progress), on_detail=console.detail)
        if options.rate == "auto":
            progress.rate = run.current_rate  # the bar shows the rate as it is found
        outcome = _execute(run, progress, console.problems, err)
    if isinstance(outcome, int):
        return outcome
    code = _report_apply(outcome, options, console)
    if summary_out:
        out.write(dumps(outcome.summary()))
    return ExitCode.INTERRUPTED if stopped_at_prompt else code


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """While the prompt blocks the event loop, SIGINT and SIGTERM interrupt the read at
    once (the loop's own handlers would only run after the answer)."""
    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_accounts(summary: dict[str, Any], out: TextIO) -> None:
    """A sheet routed to several accounts: a line for each, naming it."""
    for name, block in summary.get("accounts", {}).items():
        counts = block["counts"]
        rate = block["achieved_rate_per_second"]
        pace = f" ({rate:g}/s)" if rate is not None else ""
        stopped = block["stopped"]
        out.write(f"  {name}: {block['rows']} rows — "
                  + ", ".join(f"{counts[k]} {k}" for k in sorted(counts))
                  + f"; {block['reads']} reads, {block['writes']} writes{pace}, "
                  f"{block['retries']} retries, {block['rate_limited']} rate-limited"
                  + (f"; stopped: {stopped}" if stopped else "") + "\n")


def _report_apply(result: RunResult, options: RunOptions, console: Console) -> int:
    out = console.human
    summary = result.summary()  # the run wrote the results sheet and summary file
    counts = summary["counts"]
    out.write(f"{result.sheet.source}: {summary['rows']} rows in "
              f"{summary['duration_seconds']:.1f} s — "
              + ", ".join(f"{counts[k]} {k}" for k in sorted(counts)) + "\n")
    rate = summary["achieved_rate_per_second"]
    pace = (f"{rate:g}/s over {summary['duration_seconds']:.1f} s" if rate is not None
            else "too short a run to measure a rate")
    out.write(f"API calls: {result.reads} reads, {result.writes} writes ({pace}), "
              f"{result.retries} retries, {result.rate_limited} rate-limited\n")
    _print_accounts(summary, out)
    if result.rate.get("mode") == "auto" and result.writes:
        found = result.rate["found_per_second"]
        out.write(f"Rate found by --rate auto: {found:g}/s, the highest rate that held "
                  f"(--max-rate {result.rate['max_per_second']:g}/s)\n" if found is not None
                  else "Rate: --rate auto found no rate that held for long enough (a short "
                  "run, or one held back by --concurrency or the API's latency); it ended "
                  f"at {result.rate['final_per_second']:g}/s\n")
    _print_read_back(result, out)
    _print_row_problems(result, console.problems, "in the results sheet",
                        errors_only=console.verbosity.quiet)
    if result.blocked:
        console.problems.write(f"Nothing was sent: {result.blocked} rows are refused "
                               "against the live values. Fix them, or pass --skip-invalid "
                               "to send the other rows.\n")
    if result.cancelled:
        out.write("Cancelled: nothing was sent.\n")
    if result.aborted:
        console.problems.write(f"Stopped early: {result.aborted}\n")
    if result.interrupted:
        unread = sum(o.status == "sent" and not o.error_class
                     for o in result.outcomes) if result.verify else 0
        console.problems.write("Interrupted: the rows not sent are marked skipped"
                  + (f"; {unread} rows written but not yet read back are marked sent"
                     if unread else "")
                  + ". Run the same command again to resume.\n")
    if result.results_path is not None:
        out.write(f"Results: {result.results_path}\n")
    # Every summary, resumed or not, says where the undo is (issue 29, point 7).
    if result.rollback_path is not None:
        out.write(f"Rollback: {result.rollback_path} (apply it to undo this run)\n")
    else:
        out.write("Rollback: none (this run changed no video, so there is nothing to "
                  "undo)\n")
    for notice in result.notices:  # notices: on stderr, as they are not the summary
        console.notice(notice)
    for earlier in result.kept_earlier:
        out.write(f"{_kept_line(earlier)}\n")
    if result.not_rolled_back:
        fields = sorted({name for _, name in result.not_rolled_back})
        out.write(f"The rollback sheet cannot undo {len(result.not_rolled_back)} changes "
                  f"({', '.join(fields)}): the API cannot clear or reveal them.\n")
    if options.summary_json is not None:
        out.write(f"Summary: {options.summary_json}\n")
    return result.exit_code


def _kept_line(earlier: Path) -> str:
    """What a kept-aside output is, said with where it went (sheets/kept_aside.py)."""
    from bulkedit.sheets import kept_aside

    before, after = kept_aside.split_name(earlier)
    kind = after.split(".")[1] if after.count(".") > 1 else "output"
    tag = before.rpartition(".")[2]
    if tag == kept_aside.FIRST:
        return (f"The first rollback sheet of this sheet (the values from before any run) is "
                f"kept as {earlier}")
    return f"The earlier {kind} sheet is kept as {earlier}"


def _print_read_back(result: RunResult, out: TextIO) -> None:
    """What reading the written rows back found; or that it was off, and what that means."""
    back = result.read_back()
    if not back["on"]:
        sent = result.counts().get("sent", 0)
        if sent:
            out.write(f"Read back: off (--no-verify, or verify = false): {sent} rows were "
                      "accepted by the API but not read back, so they are 'sent', not "
                      "'updated'\n")
        return
    written = back["as_sent"] + back["not_as_sent"] + back["not_read_back"]
    if not written:
        return
    calls = back["calls"]
    line = f"Read back: {back['as_sent']} of {written} written rows read back as sent"
    if calls:  # none when the read that planned a resumed run confirmed them
        line += f" ({calls} {'call' if calls == 1 else 'calls'})"
    if back["not_as_sent"]:
        line += f"; {back['not_as_sent']} not applied by the API (failed)"
    if back["cannot_be_read_back"]:
        line += f"; {back['cannot_be_read_back']} cannot be read back (sent)"
    if back["not_read_back"] > back["cannot_be_read_back"]:
        line += (f"; {back['not_read_back'] - back['cannot_be_read_back']} not read back yet "
                 "(sent)")
    out.write(line + "\n")


def _print_row_problems(result: RunResult, out: TextIO, where: str,
                        errors_only: bool = False) -> None:
    """The rows that failed or were refused, and the warnings planning gave, first ten;
    a dry run names rows by their plan status (refused, not_found), like its counts.
    `errors_only` (--quiet): the rows that make the exit code, no warning."""
    def told(position: int, outcome: Outcome) -> bool:
        if outcome.status in ("failed", "invalid", "conflict"):
            return True
        if errors_only:
            return not result.sent and result.plan_status(position) in ("refused",
                                                                        "not_found")
        return "warning:" in outcome.error or (outcome.status == "sent" and bool(outcome.error))

    shown = [(p, o) for p, o in enumerate(result.outcomes) if told(p, o)]
    if not shown:
        return
    out.write("\n")
    print_table(out, ["row", "video", "status", "problem"],
                [[str(o.row), o.video_id or "", o.status if result.sent
                  else result.plan_status(p), o.error] for p, o in shown[:10]],
                widths={"problem": 240})
    if len(shown) > 10:
        out.write(f"… and {len(shown) - 10} more {where}\n")


# ----------------------------------------------------------------------------- plan

def _estimate_words(part: Estimate) -> str:
    """One account's part of a plan's estimate, on its line under the footer."""
    back = f", {part.read_backs} to read them back" if part.read_backs else ""
    pace = (f"{part.time} at {part.rate:g}/s" if part.seconds is not None and part.rate
            else "no fixed rate")
    return (f"{part.calls} API calls ({part.reads} reads, {part.writes} "
            f"writes{back}), {pace}")


def _accounts_pace(found: SheetEstimate) -> str:
    """The time of a sheet of several accounts, which run at the same time."""
    if found.capped:
        return (f"{found.total.time} at --global-rate {found.total.rate:g}, the accounts "
                "at the same time")
    return (f"{found.total.time}, its slowest account's ({found.slowest}), the accounts "
            "at the same time")


def run_plan(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """The dry run: read, compare, report. Sends no write."""
    from bulkedit.cli.jsonout import plan_json, refused_plan_json
    from bulkedit.cli.stdout import check_binary, is_stdout, keep_as_file, spooled
    from bulkedit.sheets import diffreport

    err = err or sys.stderr
    console = Console.of(args, out, err)
    said = console.human
    sheet = Path(args.sheet)
    xlsx_out, html_out = is_stdout(args.report), is_stdout(args.html)
    report = (Path(args.report) if args.report and not xlsx_out
              else default_side_path(sheet, "plan", ".xlsx"))
    page = (Path(args.html) if args.html and not html_out
            else default_side_path(sheet, "plan", ".html"))
    if report.suffix.lower() != ".xlsx" or page.suffix.lower() not in (".html", ".htm"):
        raise UsageError("--report takes a .xlsx path and --html a .html path (or - for "
                         "standard output)")
    keep_as_file("--save", args.save, "a saved plan is kept as a file, for apply --plan")
    if xlsx_out:
        check_binary(out, "--report -", "the diff report (XLSX)")
    preflight([("diff report", None if xlsx_out else report),
               ("HTML report", None if html_out else page),
               ("saved plan", Path(args.save) if args.save else None)], inputs=[sheet])
    settings, resolved = settings_of(args, console.notices)
    with keys_for_run(args, settings, resolved) as (credentials, api_base):
        options = run_options(settings, sheet=sheet, **sheet_choices(args),
                              **api_choices(args), api_base=api_base,
                              account=account_names(args), send=False,
                              verbosity=console.verbosity)
        progress = console.progress()

        def refused(validation: ValidationResult) -> None:  # --json: the sheet's problems
            if args.json:
                out.write(dumps(refused_plan_json(validation, ExitCode.BAD_INPUT)))

        outcome = _execute(SheetRun(options, credentials, progress,
                                    on_loaded=tell_sheet(said, progress),
                                    on_detail=console.detail), progress, console.problems,
                           err, refused)
    if isinstance(outcome, int):
        return outcome
    result = outcome
    planned = result.planned()
    changes = planned.get("change", 0)
    fixed = options.limits().fixed_rate
    sheet_estimate = plan_estimate(result, options)
    estimate = sheet_estimate.total
    reads, writes, calls = estimate.reads, estimate.writes, estimate.calls
    back = f", {estimate.read_backs} to read them back" if estimate.read_backs else ""
    pace = (_accounts_pace(sheet_estimate) if sheet_estimate.accounts
            and estimate.seconds is not None else
            f"{estimate.time} at --rate {fixed:g}" if estimate.seconds is not None else
            f"at the rate the API takes, found as it goes (at most {options.max_rate:g}/s)"
            if options.rate == "auto" else "as fast as the API answers (no --rate)")
    footer = (f"{result.sheet.source}: {changes} videos to change; an apply will make "
              f"{calls} API calls ({reads} reads, {writes} writes{back}), {pace}.")
    if xlsx_out:
        with spooled(out, "plan.xlsx", text=False) as path:
            diffreport.write_xlsx(path, result)
    else:
        diffreport.write_xlsx(report, result)
    if html_out:
        with spooled(out, "plan.html", text=True) as path:
            diffreport.write_html(path, result, f"bulkedit plan — {sheet.name}", footer)
    else:
        diffreport.write_html(page, result, f"bulkedit plan — {sheet.name}", footer)
    said.write(f"{result.sheet.source}: {len(result.outcomes)} rows — "
               + ", ".join(f"{n} {s}" for s, n in sorted(planned.items())) + "\n")
    _print_row_problems(result, console.problems, "in the diff report",
                        errors_only=console.verbosity.quiet)
    said.write(footer.split(": ", 1)[1][0].upper() + footer.split(": ", 1)[1][1:] + "\n")
    for name, part in sheet_estimate.accounts.items():
        said.write(f"  {name}: {_estimate_words(part)}\n")
    from bulkedit.core.planning import RowStatus, not_restorable

    lost = not_restorable([p for p in result.plans.values() if p.status is RowStatus.CHANGE])
    if lost:
        said.write(f"{len(lost)} changes could not be undone by a rollback sheet ("
                   + ", ".join(sorted({name for _, name in lost}))
                   + "): the API cannot clear or reveal them.\n")
    field_counts = diffreport.field_counts(diffreport.report_rows(result)[1])
    if field_counts:
        said.write("Changes per field: " + ", ".join(
            f"{name} {count}" for name, count in field_counts.most_common()) + "\n")
    complete = not (result.interrupted or result.aborted)
    if args.save and not complete:
        said.write(f"Plan not saved: the dry run did not read every row, so {args.save} "
                   "would not show what an apply sends. Plan again to save it.\n")
    saved = None
    if args.save and complete:
        from bulkedit.run.savedplan import reviewed_rows, save_plan

        save_plan(Path(args.save), sheet, result.sheet_sha256, reviewed_rows(result),
                  {**options.shaping(), **account_binding(result)})
        saved = args.save
        said.write(f"Plan saved: {args.save} (apply --plan {args.save} sends exactly what "
                   "this plan shows, with its options, and refuses rows that change on "
                   "Dailymotion before then)\n")
    shown = ["standard output" if xlsx_out else str(report),
             "standard output" if html_out else str(page)]
    said.write(f"Diff report: {shown[0]} and {shown[1]}\nNothing was sent.\n")
    code: int
    if result.aborted:
        console.problems.write(f"Stopped early: {result.aborted}\n")
        code = ExitCode.ABORTED
    elif result.interrupted:
        code = ExitCode.INTERRUPTED
    else:
        bad = sum(planned.get(s, 0) for s in ("invalid", "refused", "not_found", "failed",
                                              "conflict"))
        code = ExitCode.PROBLEMS if bad else ExitCode.OK
    if args.json:
        payload = plan_json(result, code, estimate,
                            reports={"xlsx": None if xlsx_out else str(report),
                                     "html": None if html_out else str(page)},
                            saved=saved)
        out.write(dumps(payload))
    return code


# ----------------------------------------------------------------------------- runs, report

def _journal(args: argparse.Namespace) -> Journal:
    from bulkedit.run.journal import Journal

    settings = load_settings(None)
    folder = state_dir_for(Path.cwd(), Path(args.state_dir) if args.state_dir
                           else settings.state_dir)
    if not (folder / "journal.sqlite").exists():
        raise UsageError(f"no run journal in {folder}; pass --state-dir (the folder the "
                         "apply used)")
    return Journal(folder)


def run_runs(args: argparse.Namespace, out: TextIO) -> int:
    """Every run in the journal, with its state, its rows and where its rollback sheet is
    now (the journal follows it when it is kept aside or filed); --json for machines."""
    from datetime import UTC, datetime

    from bulkedit.run.lock import run_is_held

    journal = _journal(args)
    try:
        runs = journal.runs()
        damage = journal.damage()
        # From the rows themselves: a killed run never wrote its summary.
        held = {record.id: journal.status_counts(record.id) for record in runs}
        outputs = {record.id: journal.outputs(record.id) for record in runs}
    finally:
        journal.close()
    listed = []
    for record in runs:
        counts = held[record.id] or (record.summary or {}).get("counts", {})
        state = record.state
        # The sheet's lock, or (one account of several) the account's own (run/lock.py).
        if state == "running" and not run_is_held(record.sheet, record.account):
            state = "interrupted"  # its process is gone: `apply` again resumes it
        rollback = outputs[record.id].get("rollback")
        results = outputs[record.id].get("results")
        listed.append({
            "run": record.id, "state": state,
            "started": datetime.fromtimestamp(record.started, UTC).isoformat(),
            "finished": datetime.fromtimestamp(record.finished, UTC).isoformat()
            if record.finished else None,
            "sheet": record.sheet, "account": record.account, "linked": record.linked,
            "rows": counts,
            "results": str(results) if results else None,
            "rollback": str(rollback) if rollback else None,
            "rollback_exists": rollback is not None and rollback.exists()})
    if getattr(args, "json", False):
        out.write(dumps({"runs": listed, "damage": damage}))
        return ExitCode.OK
    rows = []
    # The account column only once a run used one (a journal of one account looks as before).
    accounts = any(record.account != "default" for record in runs)
    for record, entry in zip(runs, listed, strict=True):
        rollback = entry["rollback"]
        undo = ("none" if rollback is None else rollback if entry["rollback_exists"]
                else f"{rollback} (gone)")
        rows.append([entry["run"], entry["state"], _when(record.started),
                     ", ".join(f"{n} {s}" for s, n in sorted(entry["rows"].items())),
                     _end(record.sheet), *([record.account] if accounts else []),
                     _end(undo, 100)])
    print_table(out, ["run", "state", "started", "rows", "sheet",
                      *(["account"] if accounts else []), "rollback"], rows,
                widths={"sheet": 80, "rows": 60, "rollback": 100})
    for line in damage:
        out.write(f"Damaged journal: {line}\n")
    return ExitCode.OK


def _end(path: str, width: int = 80) -> str:
    """A long path keeps its end, where the file's name is."""
    return path if len(path) <= width else "…" + path[-(width - 1):]


def run_report(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    from bulkedit.cli.stdout import UNDO_KEPT, is_stdout, keep_as_file
    from bulkedit.run.resume import rebuild

    console = Console.of(args, out, err or sys.stderr)
    said = console.human
    keep_as_file("--results", args.results, UNDO_KEPT)
    keep_as_file("--rollback", args.rollback, UNDO_KEPT)

    journal = _journal(args)
    try:
        result, rollback_plans, rollback_accounts = rebuild(journal,
                                                            journal.run(args.run_id))
        damage = journal.damage(journal.run(args.run_id).sheet)
        sheet = Path(result.sheet.source)
        results = Path(args.results) if args.results else default_side_path(sheet, "results")
        rollback = (Path(args.rollback) if args.rollback
                    else default_side_path(sheet, "rollback"))
        summary_out = is_stdout(args.summary_json)
        summary_path = (Path(args.summary_json) if args.summary_json and not summary_out
                        else None)
        preflight([("results sheet", results), ("rollback sheet", rollback),
                   ("summary", summary_path)], inputs=[sheet])
        for line in damage:
            console.notice(f"Damaged journal: {line}; these results hold what remains")
        kept = []
        for kind, path in (("results", results), ("rollback", rollback)):
            aside = keep_earlier(path, journal.writer(kind, path),
                                 rollback=kind == "rollback")
            if aside is not None:
                journal.moved(path, aside)
                kept.append(aside)
        write_results(results, result.sheet, result.outcomes,
                      sheet_notes(result.sheet, result.validation))
        write_rollback(rollback, rollback_plans, rollback_accounts)
        for kind, path in (("results", results), ("rollback", rollback)):
            journal.wrote(args.run_id, kind, path)  # `bulkedit runs` points at these now
    finally:
        journal.close()
    for earlier in kept:
        said.write(f"{_kept_line(earlier)}\n")
    counts = result.counts()
    said.write(f"Run {args.run_id}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + f"\nResults: {results}\nRollback: {rollback}\n")
    summary = result.summary()
    summary["results"], summary["rollback"] = str(results), str(rollback)
    if summary_out:
        out.write(dumps(summary))
    elif summary_path is not None:
        write_summary(summary_path, summary)
        said.write(f"Summary: {summary_path}\n")
    return ExitCode.OK


# ----------------------------------------------------------------------------- export

def _read_ids(path: Path) -> list[str]:
    """Video ids from a text file (one a line) or from the id column of any sheet."""
    from bulkedit.core.cells import parse_video_id
    from bulkedit.core.schema import ID_COLUMN
    from bulkedit.sheets.load import load_sheet

    if path.suffix.lower() == ".txt":
        try:
            texts = path.read_text(encoding="utf-8-sig").split()
        except OSError as exc:
            raise UsageError(f"--ids {path}: cannot be read ({exc.strerror})") from None
    else:
        column = load_sheet(path).column(ID_COLUMN)
        if column is None:
            raise UsageError(f"--ids {path}: the sheet has no video_id column")
        texts = [t for t in column.values.to_pylist() if t.strip()]
    ids = []
    for text in texts:
        video, problem = parse_video_id(text)
        if problem is not None:
            raise UsageError(f"--ids {path}: '{text}': {problem.message}")
        ids.append(video)
    return list(dict.fromkeys(ids))


def _moment(name: str, text: str | None, timezone: tzinfo) -> int | None:
    from bulkedit.core.cells import parse_date

    if text is None:
        return None
    seconds, reason = parse_date(text, timezone)
    if seconds is None:
        raise UsageError(f"--{name} {text}: {reason}")
    return seconds


def run_export(args: argparse.Namespace, out: TextIO, timezone: tzinfo,
               err: TextIO | None = None) -> int:
    from bulkedit.cli.account_access import Key, configured_accounts
    from bulkedit.cli.stdout import check_binary, is_stdout, spooled
    from bulkedit.run.export import (
        ExportPart,
        Selection,
        account_selections,
        export_fields,
        export_parts,
    )
    from bulkedit.sheets.export_sheet import SheetWriter

    err = err or sys.stderr
    console = Console.of(args, out, err)
    to_stdout = is_stdout(args.output)
    kind = getattr(args, "format", None)
    output = Path(f"videos.{kind or 'csv'}") if to_stdout else Path(args.output)
    if output.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"-o {output}: an export is .xlsx or .csv")
    if kind is not None and not to_stdout and output.suffix.lower() != f".{kind}":
        raise UsageError(f"--format {kind} and -o {output} say two formats; the file's "
                         "extension says it (--format is for -o -)")
    if to_stdout and output.suffix.lower() == ".xlsx":
        check_binary(out, "-o - --format xlsx", "an XLSX sheet")
    selection = Selection(owners=list(args.owner or []),
                          ids=_read_ids(Path(args.ids)) if args.ids else [],
                          created_after=_moment("created-after", args.created_after, timezone),
                          created_before=_moment("created-before", args.created_before,
                                                 timezone),
                          private={"yes": True, "no": False}.get(args.private or ""))
    specs = export_fields([f for f in args.fields.split(",") if f.strip()]
                          if args.fields else None)
    settings, resolved = settings_of(args, console.notices)
    named = bool(settings.accounts)  # named accounts: each row says which (#account)
    if not selection.owners and not selection.ids and not named:
        account_selections(selection, [("default", ())])  # refused: nothing asked
    if not to_stdout:
        preflight([("export", output)], inputs=[args.ids])

    async def main(keys: list[Key], asked: list[tuple[str, Selection]], target: Path) -> Any:
        from contextlib import AsyncExitStack

        from bulkedit.client.connect import connect

        by_name = {name: (credentials, base, limits) for name, credentials, base, limits in keys}
        async with AsyncExitStack() as stack:
            parts = []
            for name, chosen in asked:
                credentials, api_base, limits = by_name[name]
                dispatcher = await stack.enter_async_context(connect(
                    credentials, api_base, limits,
                    detail=console.detail if console.verbosity.verbose else None))
                parts.append(ExportPart(dispatcher, chosen, name if named else None))
            writer = SheetWriter(target, specs, timezone, account_column=named)
            try:
                return await export_parts(parts, writer,
                                          lambda n: progress("export", n, 0, 0))
            except (ApiError, RunAborted) as error:
                kept = ("nothing was written to standard output" if to_stdout
                        else f"{output} was left as it was" if output.exists()
                        else f"{output} was not written")
                raise RunAborted(f"the export stopped: {error}; {kept}") from None

    with one_key_each(args, settings, resolved, "export") as keys:
        configured = configured_accounts(args, settings) if named else None
        asked = account_selections(selection, [
            (name, configured.get(name).channels if configured is not None else ())
            for name, *_ in keys])
        progress = console.progress()
        try:
            if to_stdout:  # the whole sheet, once complete: never half a sheet in a pipe
                with spooled(out, output.name, text=output.suffix.lower() == ".csv") as path:
                    result = asyncio.run(main(keys, asked, path))
            else:
                result = asyncio.run(main(keys, asked, output))
        finally:
            progress.close()
    said = console.human
    shown = "standard output" if to_stdout else output
    said.write(f"{result.written} videos exported to {shown} ({result.calls} API calls"
              + (f", {result.windows} time windows" if result.windows > 1 else "") + ")\n")
    for name, videos in result.left_blank.items():
        said.write(f"{name}: left blank (keep) for {len(videos)} videos whose live value the "
                  "sheet cannot say exactly (" + ", ".join(videos[:5])
                  + (" …" if len(videos) > 5 else "") + ")\n")
    if result.missing:
        console.problems.write(f"{len(result.missing)} ids were not found: "
                  + ", ".join(result.missing[:10]) + (" …" if len(result.missing) > 10 else "")
                  + "\n")
        return ExitCode.PROBLEMS
    return ExitCode.OK


# ----------------------------------------------------------------------------- doctor

def run_doctor(args: argparse.Namespace, out: TextIO, err: TextIO | None = None) -> int:
    """A few read-only calls, a table (or --json) of what this key can do. Never a write."""

    from bulkedit.client.connect import connect
    from bulkedit.run.doctor import checkup

    err = err or sys.stderr
    console = Console.of(args, out, err)
    settings, resolved = settings_of(args, console.notices)
    detail = console.detail if console.verbosity.verbose else None

    async def main(credentials: Credentials, api_base: str, limits: ApiLimits) -> Any:
        async with connect(credentials, api_base, limits,
                           detail=detail) as dispatcher:
            return await checkup(dispatcher.client, api_base)  # type: ignore[arg-type]

    with one_key_each(args, settings, resolved, "doctor") as keys:
        checked = []
        for name, credentials, api_base, limits in keys:
            try:
                checked.append((name, asyncio.run(main(credentials, api_base, limits))))
            except ApiError as error:
                who = f" (account {name})" if len(keys) > 1 else ""
                raise RunAborted(f"doctor could not go on{who}: {error}") from None
    if len(checked) > 1:
        return _doctor_accounts(checked, args.json, out)
    found = checked[0][1]
    if args.json:
        out.write(dumps(found.as_dict()))
        return ExitCode.OK if not found.problems else ExitCode.PROBLEMS
    return _doctor_table(found, out)


def _doctor_accounts(checked: list[tuple[str, Any]], as_json: bool, out: TextIO) -> int:
    """doctor over several accounts: each one's findings, under its name."""
    worst = ExitCode.PROBLEMS if any(found.problems for _, found in checked) else ExitCode.OK
    if as_json:
        out.write(dumps({"accounts": [{"account": name, **found.as_dict()}
                                      for name, found in checked]}))
        return worst
    for index, (name, found) in enumerate(checked):
        out.write(("\n" if index else "") + f"Account {name}:\n")
        _doctor_table(found, out)
    return worst


def _doctor_table(found: Any, out: TextIO) -> int:
    rows = [
        ["API", found.api_base],
        ["token", "granted" if found.token else "refused"],
        ["scopes", " ".join(found.scopes) or "(none said)"]
        + ([f"missing: {', '.join(found.missing_scopes)}"] if found.missing_scopes else []),
        ["videos of the key's channel", str(found.videos_seen)],
        ["fields read", f"{len(found.readable)} of {len(found.readable) + len(found.unreadable)}"],
        ["fields not read", ", ".join(found.unreadable) or "none"],
        ["ids per read", f"{found.ids_maximum or '?'} ({found.ids_note})"],
        ["latency (median)", f"{found.latency_ms} ms" if found.latency_ms is not None else "?"],
        ["Pro fields", {True: "likely allowed: your videos read as a verified partner's",
                        False: "likely refused (geoblocking, publish and expiry dates): your "
                               "videos do not read as a verified partner's",
                        None: "unknown"}[found.pro]
         + " (only a write proves it; apply's canary checks it)"],
        ["start with", f"--rate {found.recommend_rate:g} --batch-size "
                       f"{found.recommend_batch_size} (the rate is a cautious start, not "
                       "a measure: read-only calls cannot find the write limit)"],
    ]
    print_table(out, ["check", "result"], [r[:2] for r in rows], widths={"result": 160})
    for problem in found.problems:
        out.write(f"Problem: {problem}\n")
    out.write(f"{found.calls} read-only calls; nothing was written.\n")
    return ExitCode.OK if not found.problems else ExitCode.PROBLEMS
