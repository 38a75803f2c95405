"""The run journal: every row's state and outcome in SQLite, so that a crash loses nothing.

One database per state folder (`.bulkedit/journal.sqlite` beside the sheet by
default), in WAL mode. A run is keyed by its sheet (path and content digest); its
rows move pending → sent → (written, until read back) → done / failed. A row's outcome
is committed before the row counts as done anywhere else (progress, results), so a
SIGKILL can only lose rows that were in flight or not yet read back — and those are read
again and, if needed, sent again: edits set absolute values, so sending one twice is
harmless.

`synchronous=NORMAL`: a commit survives the process being killed; after a power
cut the last few commits may be lost, which costs a harmless resend, not a
forgotten edit, because the planned edits are re-read against the live values.

Damage is never a silent restart. SQLite drops what a deleted or garbled `-wal` file
held without a word, and reads an emptied file as a new, empty journal; so each run
also keeps a seal outside the database (`seals/RUN`: how many of its rows the journal
has settled, rewritten in place after each commit, and the sheet). A journal that holds
fewer settled rows than a seal says, or has lost a sealed run, or fails SQLite's own
check, is `JournalDamaged` (exit 2) with what was lost and the safe ways on.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import socket
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkedit.core.errors import UsageError
from bulkedit.sheets.files import disk_problem, own_folder

SEALS = "seals"
SETTLED = ("done", "failed", "final")  # a row's state once the journal has its last word


def _disk_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """A journal write that fails for want of disk (SQLite says "full", the seal's write
    says ENOSPC) is a DiskProblem naming the journal: exit 3, and the same command resumes
    once there is room. Anything else is left as it is."""

    @functools.wraps(method)
    def wrapper(self: Journal, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as exc:
            code = errno.ENOSPC if "full" in str(exc) else errno.EIO if "I/O" in str(exc) \
                else None
            if code is None:
                raise
            self._abandon_transaction()
            raise disk_problem(OSError(code, str(exc)), self.path) or exc from None
        except OSError as exc:
            self._abandon_transaction()
            raise disk_problem(exc, self.path) or exc from None

    return wrapper


class JournalDamaged(UsageError):
    """The journal lost what it had recorded: resuming from it could resend rows or leave
    them out of the rollback, so nothing runs until the user chooses a safe way on. The
    message is one line; `detail` (shown with BULKEDIT_DEBUG=1) is what SQLite said."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class _CheckFailed(sqlite3.DatabaseError):
    """PRAGMA quick_check did not answer "ok"; the text is its report."""

DEFAULT_STATE_DIR = ".bulkedit"
PINNED_SHEETS = "sheets"  # the copies of the sheets runs worked from, by SHA-256
KEEP_DAYS = 30  # how long a finished run's pinned copy and seal are kept
UNFINISHED = ("running", "interrupted", "aborted")

# The journal's format (SQLite's user_version). 0 is every journal from before versions
# were kept: the same tables without runs.account and runs.linked; 1 has no events table
# (the audit trail of `bulkedit serve`). An older file is
# brought forward when opened, in one transaction, losing nothing; a newer one (from a
# later bulkedit) is refused, never read by code that does not know its columns.
SCHEMA_VERSION = 2
_EVENTS = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    sheet TEXT NOT NULL DEFAULT '',
    version INTEGER,
    sheet_sha256 TEXT NOT NULL DEFAULT '',
    plan_sha256 TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    run_id TEXT
)"""
# Each step: (what it adds, "table.column" or a table's name; the statement that adds it).
_MIGRATIONS = {
    # 0 -> 1: several accounts (issue 30): each run is one sheet for one account, and the
    # runs of one sheet started together are linked by the id of the first of them.
    1: [("runs.account", "ALTER TABLE runs ADD COLUMN account TEXT NOT NULL DEFAULT 'default'"),
        ("runs.linked", "ALTER TABLE runs ADD COLUMN linked TEXT")],
    # 1 -> 2: the audit trail of `bulkedit serve` (issue 31, point 9): one event per
    # upload, plan, approval, decline, download (and, later, apply and cancel), in order.
    2: [("events", _EVENTS)],
}
DEFAULT_ACCOUNT = "default"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    sheet TEXT NOT NULL,
    sheet_sha256 TEXT NOT NULL,
    options TEXT NOT NULL,
    state TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    summary TEXT,
    account TEXT NOT NULL DEFAULT 'default',
    linked TEXT
);
CREATE TABLE IF NOT EXISTS rows (
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    row INTEGER NOT NULL,
    video_id TEXT,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    error_class TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    http_status INTEGER,
    error_type TEXT NOT NULL DEFAULT '',
    changed_fields TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    plan TEXT,
    PRIMARY KEY (run_id, position)
);
-- Values from before an earlier, unfinished attempt first wrote a video (a crash, then
-- --fresh or a changed sheet): the new run's rollback restores these, not what it read.
-- The files a run wrote (results, rollback), as they were when written: a resumed run
-- rewrites its own, and moves anything else at that path aside.
CREATE TABLE IF NOT EXISTS outputs (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    identity TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
);
CREATE TABLE IF NOT EXISTS carried (
    run_id TEXT NOT NULL,
    video_id TEXT NOT NULL,
    row INTEGER NOT NULL,
    old TEXT NOT NULL,
    PRIMARY KEY (run_id, video_id)
);
""" + _EVENTS + ";\n"


@dataclass(frozen=True)
class RunRecord:
    id: str
    sheet: str
    sheet_sha256: str
    options: dict[str, Any]
    state: str
    host: str
    pid: int
    started: float
    finished: float | None
    summary: dict[str, Any] | None
    account: str = DEFAULT_ACCOUNT  # the account whose key the run uses
    linked: str | None = None  # the first run of those started together on one sheet


@dataclass(frozen=True)
class RowRecord:
    position: int
    row: int
    video_id: str | None
    state: str  # pending, sent, written (to be read back), done, failed, final
    status: str
    error_class: str
    error: str
    http_status: int | None
    error_type: str
    changed_fields: tuple[str, ...]
    attempts: int
    started: float | None
    finished: float | None
    plan: dict[str, Any] | None  # {"form": {...}, "old": {field: live value}}


@dataclass(frozen=True)
class Event:
    """One thing someone did on the review page (`bulkedit serve`), as the audit trail
    keeps it: who, when, what, on which sheet version, with the hashes it was bound to."""

    seq: int  # the journal's order: increasing, never reused
    at: float  # seconds since the epoch
    actor: str
    action: str  # upload, plan, approve, decline, download
    sheet: str = ""  # the sheet's name as uploaded (its slot)
    version: int | None = None
    sheet_sha256: str = ""
    plan_sha256: str = ""
    comment: str = ""  # what the person wrote
    detail: str = ""  # what the server adds (counts, what was voided, the file)
    run_id: str | None = None


STATE_DIR_ENV = "BULKEDIT_STATE_DIR"


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where apply journals its runs and runs/report look, wherever they are started:
    $BULKEDIT_STATE_DIR, else $XDG_STATE_HOME/bulkedit, else ~/.local/state/bulkedit."""
    env = os.environ if environ is None else environ
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV]).expanduser()
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else (
        Path.home() / ".local" / "state")
    return base / "bulkedit"


def state_dir_for(sheet: Path, state_dir: Path | None) -> Path:
    """The one rule: --state-dir (or bulkedit.toml's state_dir), else the user's state
    folder, so `bulkedit runs` lists what `apply` did from any folder, and a run resumes
    wherever it is started again."""
    return state_dir if state_dir is not None else default_state_dir()


def state_folder(folder: Path) -> Path:
    """The state folder, made (0700: it holds values from before each run) and checked
    writable, or one line saying why not."""
    own_folder(folder, "state folder")  # 0700, ours, not a link
    try:
        probe = folder / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        hint = "is a file" if folder.is_file() else (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot use {folder} for the run journal: {hint}; pass "
                         "--state-dir with a folder you can write to") from None
    return folder


def set_aside(folder: Path) -> Path:
    """Move a damaged journal (with its WAL and seals) aside, under a dated name, so a
    fresh one can start and nothing of the old is deleted."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = folder / f"journal.damaged-{stamp}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        source = folder / f"journal.sqlite{suffix}"
        if source.exists():
            os.replace(source, folder / f"{aside.name}{suffix}")
    if (folder / SEALS).exists():
        os.replace(folder / SEALS, folder / f"{SEALS}.damaged-{stamp}")
    return aside


class Journal:
    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / "journal.sqlite"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise UsageError(f"cannot use {folder} for the run journal: "
                             f"{(exc.strerror or str(exc)).lower()}; pass --state-dir "
                             "with a folder you can write to") from None
        try:
            # 0600 from the start (SQLite gives the -wal and -shm files the same mode).
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
            if self.path.stat().st_uid != os.geteuid():
                raise UsageError(f"the run journal {self.path} belongs to another user, who "
                                 "could read or change it; use a state folder of your own")
            self.path.chmod(0o600)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            checked = [str(row[0]) for row in self._db.execute("PRAGMA quick_check")]
            if checked != ["ok"]:
                raise _CheckFailed("\n".join(checked))
            self._migrate()
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(Exception):
                self._db.close()
            if "locked" in str(exc) or "readonly" in str(exc) or "unable to open" in str(exc):
                raise UsageError(f"cannot open the run journal {self.path} ({exc}); pass "
                                 "--state-dir with a folder you can write to") from None
            # One line: SQLite's own report (many lines, page by page) is for BULKEDIT_DEBUG.
            reason = ("SQLite's integrity check found it damaged"
                      if isinstance(exc, _CheckFailed) else str(exc).splitlines()[0])
            raise JournalDamaged(
                f"the run journal {self.path} is damaged ({reason}): what its runs did can "
                "no longer be read. The rollback sheets they wrote are kept beside their "
                "sheets. To go on, move the journal aside (or pass --fresh, which does) "
                "and run again: every row is planned against the live values",
                detail=f"SQLite's integrity check of {self.path}:\n{exc}"
                if isinstance(exc, _CheckFailed) else str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot open the run journal in {folder} ({exc}); pass "
                             "--state-dir to put it somewhere writable") from None
        self._db.row_factory = sqlite3.Row
        self._pending = False
        self._seals: dict[str, _Seal] = {}

    def _migrate(self) -> None:
        """Create the tables, or bring an older journal forward to SCHEMA_VERSION."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise UsageError(
                f"the run journal {self.path} was written by a later bulkedit (journal "
                f"version {version}; this one reads up to {SCHEMA_VERSION}): upgrade "
                "bulkedit, or pass --state-dir with another folder")
        self._db.execute("BEGIN IMMEDIATE")  # one process migrates; the next finds it done
        try:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if self._has("runs"):  # an older journal: each step once, in order
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for what, statement in _MIGRATIONS[step]:
                        if not self._has(what):
                            self._db.execute(statement)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _has(self, what: str) -> bool:
        """Whether the journal has the table, or the "table.column", `what` names."""
        table, _, column = what.partition(".")
        columns = {str(r[1]) for r in self._db.execute(f"PRAGMA table_info({table})")}
        return bool(columns) and (not column or column in columns)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            for seal in self._seals.values():
                seal.close()
            self._db.close()

    # ------------------------------------------------------------------ damage

    def counts(self, run_id: str) -> tuple[int, int]:
        """(rows recorded, rows settled) of a run."""
        rows, settled = self._db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(state IN {SETTLED}), 0) FROM rows "
            "WHERE run_id = ?", (run_id,)).fetchone()
        return int(rows), int(settled)

    def answered(self, run_id: str) -> int:
        """How far the run got, as a number that only grows while it runs: each row
        counts once when it has an answer (written, to be read back) and once more when
        settled (`bulkedit serve` numbers its progress events by it)."""
        row = self._db.execute(
            f"SELECT COALESCE(SUM(state IN ('written', {', '.join(map(repr, SETTLED))})), 0)"
            f" + COALESCE(SUM(state IN {SETTLED}), 0) FROM rows WHERE run_id = ?",
            (run_id,)).fetchone()
        return int(row[0])

    def damage(self, sheet: str | None = None) -> list[str]:
        """What the journal has lost, run by run (the sheet's runs only, if given). A seal
        that cannot be read is damage too, and so is an unfinished run that recorded rows
        but whose seal is gone: either way, what the journal lost can no longer be told."""
        lost = []
        folder = self.folder / SEALS
        sealed_ids = set()
        for path in sorted(folder.glob("*")):
            if not path.is_file():
                continue
            sealed_ids.add(path.name)
            sealed = _Seal.read(path)
            held = self._db.execute("SELECT sheet FROM runs WHERE id = ?",
                                    (path.name,)).fetchone()
            if sealed is None:  # garbled: its sheet is known only if the journal has the run
                if held is not None and sheet is not None and held["sheet"] != sheet:
                    continue
                lost.append(f"run {path.name} "
                            + (f"of {held['sheet']} has a damaged seal ({path}), so what the "
                               "journal lost of it cannot be told" if held is not None else
                               f"is gone from it and its seal ({path}) is damaged, so not "
                               "even its sheet can be told"))
                continue
            rows, settled, key = sealed
            if sheet is not None and key != sheet:
                continue
            if held is None:
                lost.append(f"run {path.name} of {key} ({rows} rows) is gone from it")
                continue
            held_rows, held_settled = self.counts(path.name)
            if held_rows < rows or held_settled < settled:
                lost.append(f"run {path.name} of {key} recorded {rows} rows, {settled} of them "
                            f"settled; it now holds {held_rows}, {held_settled} settled (its "
                            f"write-ahead log {self.path.name}-wal was removed or damaged)")
        for record in self._db.execute(
                f"SELECT id, sheet FROM runs WHERE state IN {UNFINISHED} ORDER BY started"):
            if record["id"] in sealed_ids or (sheet is not None and record["sheet"] != sheet):
                continue
            if self.counts(record["id"])[0]:  # rows recorded, so a seal was written
                lost.append(f"run {record['id']} of {record['sheet']} has lost its seal "
                            f"({folder / record['id']}), so what the journal lost of it "
                            "cannot be told")
        return lost

    def check(self, sheet: str | None = None) -> None:
        lost = self.damage(sheet)
        if lost:
            report = ("" if all("is gone" in line for line in lost) else
                      "`bulkedit report RUN` writes the results from what remains; ")
            raise JournalDamaged(
                f"the run journal {self.path} has lost what it recorded: {'; '.join(lost)}. "
                "Which of those rows were sent is no longer known, so resuming could send "
                "them again or leave them out of the rollback. The rollback sheet that run "
                "wrote before its first edit is kept beside its sheet, and a new run moves "
                f"it aside rather than overwrite it. {report}`bulkedit apply SHEET --fresh` "
                "starts over, keeping the values-before the journal still has")

    def accept_damage(self, sheet: str) -> None:
        """--fresh: the user has been told; the sheet's broken seals are set aside."""
        damaged = self.folder / SEALS / "damaged"
        for line in self.damage(sheet):
            run_id = line.split()[1]
            if (self.folder / SEALS / run_id).is_file():  # a lost seal has nothing to move
                damaged.mkdir(exist_ok=True, mode=0o700)
                os.replace(self.folder / SEALS / run_id, damaged / run_id)

    def _sealed(self, run_id: str) -> None:
        """Rewrite the run's seal after a commit."""
        rows, settled = self.counts(run_id)
        seal = self._seals.get(run_id)
        if seal is None:
            key = self._db.execute("SELECT sheet FROM runs WHERE id = ?",
                                   (run_id,)).fetchone()[0]
            self._seals[run_id] = _Seal(self.folder / SEALS / run_id, key, rows, settled)
        else:
            seal.write(rows, settled)

    def prune(self, keep_days: float = KEEP_DAYS, now: float | None = None) -> None:
        """Forget the copies and seals of runs that finished more than `keep_days` ago
        (`report` needs a run's pinned copy only until then); unfinished runs keep theirs."""
        cutoff = (time.time() if now is None else now) - keep_days * 86400
        keep = {r["sheet_sha256"] for r in self._db.execute(
            f"SELECT sheet_sha256 FROM runs WHERE state IN {UNFINISHED} "
            "OR COALESCE(finished, started) >= ?", (cutoff,))}
        for pinned in (self.folder / PINNED_SHEETS).glob("*"):
            with contextlib.suppress(OSError):
                if pinned.name.split(".")[0] not in keep and pinned.stat().st_mtime < cutoff:
                    pinned.unlink()
        old = {r["id"] for r in self._db.execute(
            f"SELECT id FROM runs WHERE state NOT IN {UNFINISHED} "
            "AND COALESCE(finished, started) < ?", (cutoff,))}
        for seal in (self.folder / SEALS).glob("*"):
            if seal.name in old:
                seal.unlink(missing_ok=True)

    # ------------------------------------------------------------------ runs

    def unfinished_run(self, sheet: str, digest: str,
                       account: str = DEFAULT_ACCOUNT) -> RunRecord | None:
        """The latest unfinished run of these exact bytes for this account."""
        row = self._db.execute(
            "SELECT * FROM runs WHERE sheet = ? AND sheet_sha256 = ? AND account = ? AND "
            "state IN (?, ?, ?) ORDER BY started DESC LIMIT 1",
            (sheet, digest, account, *UNFINISHED)).fetchone()
        return _run(row) if row else None

    def unfinished_runs(self, sheet: str, account: str = DEFAULT_ACCOUNT) -> list[RunRecord]:
        """Every unfinished run of the sheet for this account, whatever its content,
        oldest first."""
        cursor = self._db.execute("SELECT * FROM runs WHERE sheet = ? AND account = ? AND "
                                  "state IN (?, ?, ?) ORDER BY started",
                                  (sheet, account, *UNFINISHED))
        return [_run(row) for row in cursor]

    def linked_runs(self, run_id: str) -> list[RunRecord]:
        """The runs started together with this one on its sheet (one per account), itself
        included, in the order they were started."""
        first = self.run(run_id).linked or run_id
        cursor = self._db.execute("SELECT * FROM runs WHERE id = ? OR linked = ? "
                                  "ORDER BY started, id", (first, first))
        return [_run(row) for row in cursor]

    @_disk_errors
    def abandon(self, run_ids: Iterable[str]) -> None:
        self._db.executemany("UPDATE runs SET state = 'abandoned', finished = ? WHERE id = ?",
                             [(time.time(), run_id) for run_id in run_ids])

    @_disk_errors
    def wrote(self, run_id: str, kind: str, path: Path) -> None:
        self._db.execute("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?)",
                         (run_id, kind, str(Path(path).resolve()), _identity(path)))

    def owns(self, run_id: str, kind: str, path: Path) -> bool:
        """Whether the file at `path` is the one this run wrote there, unchanged since."""
        row = self._db.execute("SELECT path, identity FROM outputs WHERE run_id = ? AND "
                               "kind = ?", (run_id, kind)).fetchone()
        return row is not None and row["path"] == str(Path(path).resolve()) \
            and row["identity"] == _identity(path)

    def writer(self, kind: str, path: Path) -> str | None:
        """The run that wrote the file now at `path` (unchanged since), if one did."""
        row = self._db.execute("SELECT run_id FROM outputs WHERE kind = ? AND path = ? AND "
                               "identity = ? ORDER BY run_id DESC LIMIT 1",
                               (kind, str(Path(path).resolve()), _identity(path))).fetchone()
        return str(row["run_id"]) if row is not None else None

    @_disk_errors
    def moved(self, old: Path, new: Path) -> None:
        """A run's output was moved (kept aside, filed): the journal follows it, so that
        `bulkedit runs` says where each run's rollback is now."""
        self._db.execute("UPDATE outputs SET path = ?, identity = ? WHERE path = ?",
                         (str(Path(new).resolve()), _identity(new), str(Path(old).resolve())))

    def outputs(self, run_id: str) -> dict[str, Path]:
        """Where the run's outputs are, by kind (results, rollback), as last known."""
        return {str(r["kind"]): Path(r["path"]) for r in self._db.execute(
            "SELECT kind, path FROM outputs WHERE run_id = ?", (run_id,))}

    def carried(self, run_id: str) -> dict[str, tuple[int, dict[str, Any]]]:
        """video id -> (sheet row, values before the first write of an earlier attempt)."""
        cursor = self._db.execute("SELECT video_id, row, old FROM carried WHERE run_id = ?",
                                  (run_id,))
        return {r["video_id"]: (r["row"], json.loads(r["old"])) for r in cursor}

    @_disk_errors
    def carry(self, run_id: str, originals: Mapping[str, tuple[int, dict[str, Any]]]) -> None:
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO carried VALUES (?, ?, ?, ?)",
                             [(run_id, video, row, json.dumps(old))
                              for video, (row, old) in originals.items()])
        self._db.execute("COMMIT")

    @_disk_errors
    def start_run(self, sheet: str, digest: str, options: dict[str, Any],
                  account: str = DEFAULT_ACCOUNT, linked: str | None = None) -> RunRecord:
        """A new run of the sheet for one account; `linked`: the first run of those
        started together on this sheet (for the other accounts)."""
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        now = time.time()
        self._db.execute(
            "INSERT INTO runs (id, sheet, sheet_sha256, options, state, host, pid, started, "
            "account, linked) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
            (run_id, sheet, digest, json.dumps(options), socket.gethostname(), os.getpid(),
             now, account, linked))
        return self.run(run_id)

    @_disk_errors
    def resume_run(self, run_id: str) -> RunRecord:
        self._db.execute("UPDATE runs SET state = 'running', host = ?, pid = ? WHERE id = ?",
                         (socket.gethostname(), os.getpid(), run_id))
        return self.run(run_id)

    @_disk_errors
    def finish_run(self, run_id: str, state: str, summary: dict[str, Any]) -> None:
        self.flush()
        self._db.execute("UPDATE runs SET state = ?, finished = ?, summary = ? WHERE id = ?",
                         (state, time.time(), json.dumps(summary), run_id))

    def run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id} in {self.path}; `bulkedit runs` lists them")
        return _run(row)

    def status_counts(self, run_id: str) -> dict[str, int]:
        """Rows per status, as the journal holds them now (a killed run's too)."""
        return {r["status"]: int(r["n"]) for r in self._db.execute(
            "SELECT status, COUNT(*) AS n FROM rows WHERE run_id = ? GROUP BY status",
            (run_id,))}

    def runs(self) -> list[RunRecord]:
        return [_run(r) for r in self._db.execute("SELECT * FROM runs ORDER BY started")]

    # ------------------------------------------------------------------ events

    @_disk_errors
    def record_event(self, actor: str, action: str, *, sheet: str = "",
                     version: int | None = None, sheet_sha256: str = "",
                     plan_sha256: str = "", comment: str = "", detail: str = "",
                     run_id: str | None = None, at: float | None = None) -> Event:
        """One event of the audit trail, committed before it is told anywhere."""
        moment = time.time() if at is None else at
        cursor = self._db.execute(
            "INSERT INTO events (at, actor, action, sheet, version, sheet_sha256, "
            "plan_sha256, comment, detail, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (moment, actor, action, sheet, version, sheet_sha256, plan_sha256, comment,
             detail, run_id))
        seq = cursor.lastrowid
        assert seq is not None
        return Event(seq, moment, actor, action, sheet, version, sheet_sha256, plan_sha256,
                     comment, detail, run_id)

    def events(self, after: int = 0) -> list[Event]:
        """The events after `after` (a seq), in the order they happened."""
        return [Event(r["seq"], r["at"], r["actor"], r["action"], r["sheet"], r["version"],
                      r["sheet_sha256"], r["plan_sha256"], r["comment"], r["detail"],
                      r["run_id"])
                for r in self._db.execute("SELECT * FROM events WHERE seq > ? ORDER BY seq",
                                          (after,))]

    # ------------------------------------------------------------------ rows

    def rows(self, run_id: str) -> dict[int, RowRecord]:
        cursor = self._db.execute("SELECT * FROM rows WHERE run_id = ? ORDER BY position",
                                  (run_id,))
        return {r["position"]: _row(r) for r in cursor}

    @_disk_errors
    def record_rows(self, run_id: str, records: Iterable[RowRecord]) -> None:
        """Insert or replace rows, committed at once."""
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, r.position, r.row, r.video_id, r.state, r.status, r.error_class, r.error,
              r.http_status, r.error_type, ",".join(r.changed_fields), r.attempts, r.started,
              r.finished, json.dumps(r.plan) if r.plan is not None else None)
             for r in records])
        self._db.execute("COMMIT")
        self._sealed(run_id)

    @_disk_errors
    def mark_sent(self, run_id: str, position: int) -> None:
        """The row is about to be sent. Not committed on its own: losing this mark costs
        at most a read-back on resume."""
        if not self._pending:
            self._db.execute("BEGIN")
            self._pending = True
        self._db.execute("UPDATE rows SET state = 'sent' WHERE run_id = ? AND position = ?",
                         (run_id, position))

    _UPDATE_OUTCOME = (
        "UPDATE rows SET state = ?, status = ?, error_class = ?, error = ?, "
        "http_status = ?, error_type = ?, changed_fields = ?, attempts = ?, started = ?, "
        "finished = ? WHERE run_id = ? AND position = ?")

    @staticmethod
    def _outcome_values(run_id: str, position: int, state: str, outcome: Any
                        ) -> tuple[Any, ...]:
        return (state, outcome.status, outcome.error_class, outcome.error, outcome.http_status,
                outcome.error_type, ",".join(outcome.changed_fields), outcome.attempts,
                outcome.started, outcome.finished, run_id, position)

    @_disk_errors
    def record_outcome(self, run_id: str, position: int, state: str, outcome: Any) -> None:
        """A row's word (final, or `written`: to be read back), committed before it counts
        anywhere else."""
        if not self._pending:
            self._db.execute("BEGIN")
        self._db.execute(self._UPDATE_OUTCOME,
                         self._outcome_values(run_id, position, state, outcome))
        self._db.execute("COMMIT")
        self._pending = False
        seal = self._seals.get(run_id)
        if seal is not None:  # one more settled row: no query on the hot path
            if state in SETTLED:
                seal.write(seal.rows, seal.settled + 1)
        else:
            self._sealed(run_id)

    @_disk_errors
    def record_outcomes(self, run_id: str, verdicts: Iterable[tuple[int, Any, str]]) -> None:
        """Several rows' final words (a read-back's), committed at once."""
        if not self._pending:
            self._db.execute("BEGIN")
        self._db.executemany(self._UPDATE_OUTCOME,
                             [self._outcome_values(run_id, position, state, outcome)
                              for position, outcome, state in verdicts])
        self._db.execute("COMMIT")
        self._pending = False
        self._sealed(run_id)

    @_disk_errors
    def _abandon_transaction(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        self._pending = False

    def flush(self) -> None:
        if self._pending:
            self._db.execute("COMMIT")
            self._pending = False


class _Seal:
    """A run's counts outside the database: rows recorded and rows settled, in one small
    file rewritten in place (no fsync: it must survive a killed process, as the WAL does;
    after a power cut both may lag). Its first line carries a CRC-32 of the counts and the
    sheet, so a garbled byte anywhere is seen as damage, never read as another sheet's
    seal or as other counts."""

    def __init__(self, path: Path, sheet: str, rows: int, settled: int):
        own_folder(path.parent, "folder of journal seals")
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        self.sheet = sheet
        self.rows, self.settled = rows, settled
        text = f"{_seal_counts(rows, settled, sheet)}\n{sheet}\n".encode()
        os.pwrite(self._fd, text, 0)
        os.ftruncate(self._fd, len(text))

    def write(self, rows: int, settled: int) -> None:
        self.rows, self.settled = rows, settled
        os.pwrite(self._fd, _seal_counts(rows, settled, self.sheet).encode(), 0)

    def close(self) -> None:
        os.close(self._fd)

    @classmethod
    def read(cls, path: Path) -> tuple[int, int, str] | None:
        """(rows, settled, sheet), or None if the seal is damaged (read again a few times,
        in case a running attempt was rewriting its counts in that very moment)."""
        for _ in range(3):
            try:
                counts, sheet = path.read_text(encoding="utf-8").split("\n")[:2]
                fields = counts.split(" ")
                rows, settled = int(fields[0]), int(fields[1])
            except (OSError, ValueError, UnicodeDecodeError, IndexError):
                continue
            # Two fields: a seal written before seals had a checksum.
            if len(fields) == 2 or (len(fields) == 3 and counts == _seal_counts(rows, settled,
                                                                                sheet)):
                return rows, settled, sheet
        return None


def _seal_counts(rows: int, settled: int, sheet: str) -> str:
    check = zlib.crc32(f"{rows} {settled}\n{sheet}".encode())
    return f"{rows:012d} {settled:012d} {check:08x}"


def _identity(path: Path) -> str:
    try:
        status = os.stat(path)
    except OSError:
        return ""
    return f"{status.st_dev}:{status.st_ino}:{status.st_size}:{status.st_mtime_ns}"


def _run(row: sqlite3.Row) -> RunRecord:
    return RunRecord(row["id"], row["sheet"], row["sheet_sha256"], json.loads(row["options"]),
                     row["state"], row["host"], row["pid"], row["started"], row["finished"],
                     json.loads(row["summary"]) if row["summary"] else None,
                     row["account"], row["linked"])


def _row(row: sqlite3.Row) -> RowRecord:
    fields = tuple(f for f in row["changed_fields"].split(",") if f)
    return RowRecord(row["position"], row["row"], row["video_id"], row["state"], row["status"],
                     row["error_class"], row["error"], row["http_status"], row["error_type"],
                     fields, row["attempts"], row["started"], row["finished"],
                     json.loads(row["plan"]) if row["plan"] else None)


def outcome_of(record: RowRecord) -> Any:
    from bulkedit.core.errors import ErrorClass
    from bulkedit.core.outcomes import Outcome, Status

    return Outcome(record.row, record.video_id, Status(record.status),
                   ErrorClass(record.error_class),
                   record.error, record.http_status, record.error_type, record.changed_fields,
                   record.attempts, record.started, record.finished)


def record_of(position: int, outcome: Any, state: str, plan: dict[str, Any] | None
              ) -> RowRecord:
    return RowRecord(position, outcome.row, outcome.video_id, state, outcome.status,
                     outcome.error_class, outcome.error, outcome.http_status,
                     outcome.error_type, tuple(outcome.changed_fields), outcome.attempts,
                     outcome.started, outcome.finished, plan)
