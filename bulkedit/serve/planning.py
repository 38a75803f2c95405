"""A version planned against the live values, by the engine `bulkedit plan` runs (a dry
run of SheetRun: the same reads, planner and estimate), and saved as `plan --save` saves
it (run/savedplan.py), so that the plan approved is the file an `apply --plan` sends.

The saved plan is named by the SHA-256 of its bytes, which is the plan's hash the approval
records. Checking an approved plan plans again bound to it (as `apply --plan` does): a row
whose live values drifted since is a conflict, which an apply does not send.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from bulkedit.core.errors import BulkEditError
from bulkedit.core.outcomes import RunResult
from bulkedit.run.options import RunOptions, run_options
from bulkedit.run.runner import InvalidSheet, SheetRun
from bulkedit.run.savedplan import reviewed_rows, save_plan
from bulkedit.serve.plan_view import PlanView, plan_view
from bulkedit.serve.state import ServeState, Upload
from bulkedit.sheets.files import own_folder


@dataclass(frozen=True)
class Made:
    view: PlanView | None
    sha256: str = ""  # of the saved plan file
    path: Path | None = None
    problem: str = ""  # why there is no plan (one line, as the CLI would say it)


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def make_plan(state: ServeState, upload: Upload, approved: Path | None = None) -> Made:
    """Plan the version against the live values; save it unless it checks `approved`."""
    sheet = state.sheets / upload.digest
    try:
        credentials = state.credentials()
        options = run_options(state.settings, sheet=str(sheet), send=False,
                              api_base=state.api_base,
                              plan=str(approved) if approved is not None else None)
        run = SheetRun(options, credentials)
        result = await asyncio.to_thread(lambda: asyncio.run(run.run()))
    except InvalidSheet:
        return Made(None, problem="the sheet has problems (listed on this page): nothing can "
                                  "be planned until they are fixed and the sheet uploaded "
                                  "again ([run] skip_invalid = true plans the valid rows)")
    except BulkEditError as exc:
        return Made(None, problem=str(exc))
    options = run.options  # the account's, once the rows said which
    view = plan_view(result, result.estimate(options.batch_size, options.limits().fixed_rate,
                                             options.verify, options.apply_canary_size))
    if approved is not None or not view.complete:
        return Made(view)
    path, sha256 = await asyncio.to_thread(_save, state, sheet, result, options)
    return Made(view, sha256, path)


def _save(state: ServeState, sheet: Path, result: RunResult, options: RunOptions
          ) -> tuple[Path, str]:
    folder = own_folder(state.folder / "plans", "folder of saved plans")
    temporary = folder / f".plan.{os.getpid()}.{secrets.token_hex(8)}.json"
    save_plan(temporary, sheet, result.sheet_sha256, reviewed_rows(result),
              {**options.shaping(), **({"account": result.account}
                                       if result.account != "default" else {})})
    temporary.chmod(0o600)
    sha256 = digest_of(temporary)
    path = folder / f"{sha256}.json"
    os.replace(temporary, path)
    return path, sha256


def keep_approved(state: ServeState, number: int, plan: Path, sha256: str) -> Path:
    """The approved plan, where an apply takes it: `serve/approved/version-N.plan.json`,
    the very bytes approved (checked against their hash)."""
    folder = own_folder(state.folder / "approved", "folder of approved plans")
    target = folder / f"version-{number}.plan.json"
    temporary = folder / f".approved.{os.getpid()}.{secrets.token_hex(8)}"
    shutil.copyfile(plan, temporary)
    temporary.chmod(0o600)
    if digest_of(temporary) != sha256:
        temporary.unlink()
        raise BulkEditError(f"the saved plan {plan} changed since it was shown; plan again")
    os.replace(temporary, target)
    return target


def void_approved(state: ServeState, number: int) -> bool:
    """A new upload of the sheet: the earlier version's approved plan goes, so that no
    apply can take it. True when there was one."""
    target = state.folder / "approved" / f"version-{number}.plan.json"
    try:
        target.unlink()
    except FileNotFoundError:
        return False
    return True
