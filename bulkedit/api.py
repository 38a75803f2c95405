"""The front door for Python callers, a notebook first: validate, plan and apply a sheet
given as a path, a file object, a pyarrow Table or a pandas DataFrame, and get typed
results back, each with `.to_pandas()`.

A DataFrame is read as the same data saved with `to_excel(index=False)` would be, so it
gives the same problems, plan and writes as that workbook run through the CLI. pandas is
an optional extra (`pip install "bulkedit[pandas]"`), imported only by `.to_pandas()`,
never on the command line's path. The functions are synchronous and work inside a running
event loop (Jupyter) too.

    import bulkedit

    with bulkedit.local_sandbox() as api:       # a local Dailymotion API emulator
        report = bulkedit.validate(df)
        report.to_pandas()                       # one row per problem
        plan = bulkedit.plan(df, api=api)        # reads live values, sends nothing
        plan.to_pandas()                         # one row per changed field
        done = bulkedit.apply(df, api=api)
        done.to_pandas()                         # one row per input row
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from bulkedit.client.transport import Credentials
from bulkedit.core.display import (
    count_words,
    counted,
    html_table,
    rounded_duration,
    short_source,
)
from bulkedit.core.errors import ExitCode, UsageError
from bulkedit.core.outcomes import Estimate, RunResult
from bulkedit.core.policy import ApiLimits
from bulkedit.core.routing import DEFAULT_ACCOUNT
from bulkedit.core.sheet import Sheet, SheetReading
from bulkedit.core.types import Issue, TypedRow
from bulkedit.core.validation import ValidationResult
from bulkedit.core.validation import validate as validate_sheet
from bulkedit.run.accounts import Account
from bulkedit.run.config import LIMITS, Settings, load_settings
from bulkedit.run.options import RunOptions, run_options
from bulkedit.run.plan_estimate import plan_estimate
from bulkedit.run.runner import CredentialsFor, SheetRun
from bulkedit.sheets.load import load_sheet, load_table

if TYPE_CHECKING:
    import pandas as pd

Source = str | os.PathLike[str] | BinaryIO | Any  # Any: a pyarrow Table or DataFrame
T = TypeVar("T")


def read(source: Source, *, sheet: str | None = None, encoding: str | None = None,
         name: str | None = None, reading: SheetReading | None = None) -> Sheet:
    """The sheet of a path, a binary file object, a pyarrow Table or a pandas DataFrame.
    `reading`: how hidden rows, merges and a CSV's apostrophes read (default: refused)."""
    if isinstance(source, str | os.PathLike) or hasattr(source, "read"):
        return load_sheet(source, sheet=sheet, name=name, encoding=encoding, reading=reading)
    return load_table(source, name or "<table>")


@dataclass(frozen=True)
class Validation:
    """Every problem of a sheet, and its valid rows typed."""

    result: ValidationResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def problems(self) -> list[Issue]:
        return self.result.issues

    @property
    def rows(self) -> list[TypedRow]:
        return list(self.result.rows())

    def to_pandas(self) -> pd.DataFrame:
        """One row per problem: row, column, value, code, severity, message."""
        return _frame(self._records(), _PROBLEM_COLUMNS)

    def _records(self) -> list[dict[str, Any]]:
        return [{"row": i.row, "column": i.column, "value": i.value, "code": i.code,
                 "severity": i.severity.value, "message": i.message} for i in self.problems]

    def __repr__(self) -> str:
        return f"<Validation {self.result.headline()}>"

    def _repr_html_(self) -> str:
        return _html(f"Validation {self.result.headline()}", _PROBLEM_COLUMNS, self._records(),
                     "every problem: .to_pandas()")


def validate(source: Source, *, sheet: str | None = None, encoding: str | None = None,
             timezone: str | None = None, date_order: str | None = None,
             allow_irreversible: bool | None = None, allow_live_fields: bool | None = None,
             allow_past_expiry: bool | None = None, hidden: str | None = None,
             spread_merged: bool | None = None, strip_apostrophes: bool | None = None,
             decimal_separator: str | None = None, split_lists: bool | None = None,
             config: str | os.PathLike[str] | None = None) -> Validation:
    """Check every row of the sheet against the field schema; sends nothing. The sheet is
    read as plan and apply read it (the same options, from the same place)."""
    from bulkedit.run.runner import validation_options

    settings = load_settings(Path(config)) if config is not None else Settings()
    options = run_options(settings, offline=True, sheet_name=sheet, encoding=encoding,
                          timezone=timezone, date_order=date_order,
                          allow_irreversible=allow_irreversible,
                          allow_live_fields=allow_live_fields,
                          allow_past_expiry=allow_past_expiry, hidden=hidden,
                          spread_merged=spread_merged, strip_apostrophes=strip_apostrophes,
                          decimal_separator=decimal_separator, split_lists=split_lists)
    loaded = read(source, sheet=options.sheet_name, encoding=options.encoding,
                  reading=options.reading)
    return Validation(validate_sheet(loaded, validation_options(options)))


@dataclass(frozen=True)
class Plan:
    """What an apply would change, read against the live values (a dry run)."""

    result: RunResult
    estimate: Estimate

    @property
    def exit_code(self) -> ExitCode:
        return self.result.exit_code

    def counts(self) -> dict[str, int]:
        """Rows per plan status, the words of `bulkedit plan` and its diff report: change,
        noop, refused, not_found, invalid, conflict."""
        return self.result.planned()

    def to_pandas(self) -> pd.DataFrame:
        """One row per changed field (a row without a change has one line, field empty):
        row, video_id, status, field, live, new, note; and account, the account each row
        goes through, when the configuration names accounts."""
        return _frame(self._records(), _with_account(self.result, _PLAN_COLUMNS))

    def _records(self) -> list[dict[str, Any]]:
        from bulkedit.sheets.diffreport import report_rows

        records: list[dict[str, Any]] = []
        accounts = _row_accounts(self.result)
        for row in report_rows(self.result)[1]:
            base = {"row": row.row, "video_id": row.video_id, "status": row.status,
                    **({"account": accounts[row.row]} if accounts is not None else {})}
            cells = row.cells.items() or [("", ("", "", False))]
            for field, (live, new, _) in cells:
                records.append({**base, "field": field, "live": live, "new": new,
                                "note": row.note})
        return records

    def _title(self) -> str:
        result, estimate = self.result, self.estimate
        pace = (f", {estimate.time} at {estimate.rate:g}/s" if estimate.time and estimate.rate
                else f", {estimate.time}" if estimate.time else "")
        return (f"{short_source(result.sheet.source)}: {counted(len(result.outcomes), 'row')}"
                f" — {count_words(self.counts())}{_stopped(result)}; apply: "
                f"{counted(estimate.calls, 'API call')}{pace}")

    def __repr__(self) -> str:
        return f"<Plan {self._title()}>"

    def _repr_html_(self) -> str:
        # What to look at: the changes and the refused rows; the noops are counted above.
        return _html(f"Plan {self._title()}", _PLAN_COLUMNS,
                     [r for r in self._records() if r["status"] != "noop"],
                     "every row: .to_pandas()")


@dataclass(frozen=True)
class Applied:
    """What happened to each row of an apply."""

    result: RunResult

    @property
    def exit_code(self) -> ExitCode:
        return self.result.exit_code

    def counts(self) -> dict[str, int]:
        """Rows per #status, the words of `bulkedit apply`, the results sheet and the
        summary: updated, sent, unchanged, failed, invalid, skipped, conflict."""
        return self.result.counts()

    def to_pandas(self) -> pd.DataFrame:
        """One row per input row: row, video_id, status, error_class, error, http_status,
        changed_fields, attempts; and account, the account each row went through, when the
        configuration names accounts."""
        return _frame(self._records(), _with_account(self.result, _OUTCOME_COLUMNS))

    def _records(self) -> list[dict[str, Any]]:
        accounts = _row_accounts(self.result)
        return [{"row": o.row, "video_id": o.video_id, "status": str(o.status),
                 "error_class": str(o.error_class), "error": o.error,
                 "http_status": o.http_status, "changed_fields": ", ".join(o.changed_fields),
                 "attempts": o.attempts,
                 **({"account": accounts[o.row]} if accounts is not None else {})}
                for o in self.result.outcomes]

    def _title(self) -> str:
        result = self.result
        took = rounded_duration(max(result.finished - result.started, 0.0))
        return (f"{short_source(result.sheet.source)}: {counted(len(result.outcomes), 'row')} in "
                f"{took} — {count_words(self.counts())}{_stopped(result)}; "
                f"exit {int(self.exit_code)}")

    def __repr__(self) -> str:
        return f"<Applied {self._title()}>"

    def _repr_html_(self) -> str:
        # What to look at: every row not updated or unchanged, or with a word to say.
        return _html(f"Applied {self._title()}", _OUTCOME_COLUMNS,
                     [r for r in self._records()
                      if r["status"] not in ("updated", "unchanged") or r["error"]],
                     "every row: .to_pandas()")


def plan(source: Source, *, api: Any = None, api_base: str | None = None,
         credentials: tuple[str, str] | Credentials | None = None,
         skip_invalid: bool | None = None, limits: ApiLimits | None = None,
         config: str | os.PathLike[str] | None = None, **sheet_options: Any) -> Plan:
    """Read the videos' current values and plan the changes; sends no write. `api` is a
    running `local_sandbox()`; else `api_base` and `credentials` (default: the environment).
    `config`: a bulkedit.toml to take settings from, as the command line does."""
    options, given, keys = _run_options(source, api, api_base, credentials, limits, config,
                                        {"skip_invalid": skip_invalid, **sheet_options,
                                         "send": False})
    result = _sync(SheetRun(options, keys, sheet=given).run())
    # Each account at its own rate, at the same time: the slowest one's time.
    return Plan(result, plan_estimate(result, options).total)


def apply(source: Source, *, api: Any = None, api_base: str | None = None,
          credentials: tuple[str, str] | Credentials | None = None,
          skip_invalid: bool | None = None, verify: bool | None = None,
          canary: int | None = None, limits: ApiLimits | None = None,
          results: str | os.PathLike[str] | None = None,
          rollback: str | os.PathLike[str] | None = None,
          summary_json: str | os.PathLike[str] | None = None,
          state_dir: str | os.PathLike[str] | None = None,
          saved_plan: str | os.PathLike[str] | None = None, force: bool | None = None,
          config: str | os.PathLike[str] | None = None, **sheet_options: Any) -> Applied:
    """Send the sheet's real changes, rate-limited and retried, with the engine's defaults,
    as the command line has them: each written row is read back (`verify=False` leaves
    rows `sent`), and against an API not on this machine a canary of 3 rows goes first
    (`canary=N`, 0 for none). The rollback sheet, when named, is written before the first
    write. A sheet given as a path keeps a journal and resumes like the CLI; a table has no
    file to resume from. `saved_plan`: a plan saved by `bulkedit plan --save`, sent exactly
    as reviewed (`force=True`: send rows whose live values drifted since)."""
    options, given, keys = _run_options(
        source, api, api_base, credentials, limits, config,
        {"skip_invalid": skip_invalid, **sheet_options, "send": True, "verify": verify,
         "canary": canary, "results": results, "rollback": rollback,
         "summary_json": summary_json, "state_dir": state_dir, "plan": saved_plan,
         "force": force})
    return Applied(_sync(SheetRun(options, keys, sheet=given).run()))


@contextlib.contextmanager
def local_sandbox(**config: Any) -> Iterator[Any]:
    """A local Dailymotion API emulator on 127.0.0.1 for the block; pass it as `api=`. Its
    `base_url` and `key` (key, secret) are there for other clients."""
    from bulkedit.sandbox import SandboxConfig, running_sandbox

    with running_sandbox(SandboxConfig(**config)) as running:
        yield running


def _account_key(account: Account) -> Credentials:
    return account.credentials()


def _run_options(source: Source, api: Any, api_base: str | None,
                 credentials: tuple[str, str] | Credentials | None,
                 limits: ApiLimits | None, config: str | os.PathLike[str] | None,
                 said: dict[str, Any]
                 ) -> tuple[RunOptions, Sheet | None, Credentials | CredentialsFor]:
    known = {"sheet", "encoding", "timezone", "date_order", "allow_irreversible",
             "allow_live_fields", "allow_past_expiry", "hidden", "spread_merged",
             "strip_apostrophes", "decimal_separator", "split_lists"}
    unknown = set(said) - known - _RUN_KEYWORDS
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
    if api is not None:
        api_base, credentials = api.base_url, api.key
    settings = load_settings(Path(config)) if config is not None else Settings()
    keys: Credentials | CredentialsFor = (
        credentials if isinstance(credentials, Credentials)
        else Credentials(*credentials) if credentials
        # [accounts.NAME]: the key of the account the rows are routed to, read then.
        else _account_key if settings.accounts
        else settings.credentials() if settings.source else Credentials.from_env())
    path = Path(source) if isinstance(source, str | os.PathLike) else None
    said = {("sheet_name" if name == "sheet" else name): value for name, value in said.items()}
    if limits is not None:
        said.update({name: getattr(limits, name) for name in LIMITS})
    if isinstance(said.get("account"), str):  # account="brand_fr", or a list of names
        said["account"] = [said["account"]]
    options = run_options(settings, sheet=path, api_base=api_base, **said)
    # A file-like sheet or a table is read here, as the options say a path is read.
    given = None if path is not None else read(source, sheet=options.sheet_name,
                                               encoding=options.encoding,
                                               reading=options.reading)
    return options, given, keys


_RUN_KEYWORDS = {"skip_invalid", "send", "verify", "canary", "results", "rollback",
                 "summary_json", "state_dir", "plan", "force", "account"}


def _row_accounts(result: RunResult) -> dict[int, str] | None:
    """Each sheet row's account ("" for a row that reaches none), when the rows were routed
    to named accounts (None: the one account `default`, and no account column)."""
    routes = result.validation.routes
    if routes is None:
        return None
    found = routes.positions()
    if set(found) <= {DEFAULT_ACCOUNT, None}:
        return None
    numbers = result.sheet.row_numbers
    return {numbers[p]: account or "" for account, positions in found.items()
            for p in positions}


def _with_account(result: RunResult, columns: list[str]) -> list[str]:
    return [*columns, "account"] if _row_accounts(result) is not None else columns


def _sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end, also from inside a running loop (a notebook's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


_PROBLEM_COLUMNS = ["row", "column", "value", "code", "severity", "message"]
_PLAN_COLUMNS = ["row", "video_id", "status", "field", "live", "new", "note"]
_OUTCOME_COLUMNS = ["row", "video_id", "status", "error_class", "error", "http_status",
                    "changed_fields", "attempts"]


def _stopped(result: RunResult) -> str:
    return ("; stopped early" if result.aborted else "; interrupted" if result.interrupted
            else "")


def _html(title: str, columns: list[str], records: list[dict[str, Any]], more: str) -> str:
    return html_table(title, columns, [[r[c] for c in columns] for r in records], more)


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    try:
        import pandas as pd
    except ImportError:
        raise UsageError('to_pandas() needs pandas: pip install "bulkedit[pandas]"') from None
    return pd.DataFrame.from_records(records, columns=columns)
