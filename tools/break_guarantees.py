"""Break each security guarantee on purpose and show that the test SECURITY.md cites for
it fails. A guarantee whose test still passes with the guarantee gone is not guarded.

    python tools/break_guarantees.py            # every break, a table at the end
    python tools/break_guarantees.py tls html   # some of them

Each break is applied to a fresh copy of the project (the working tree is never touched)
and the cited tests run against that copy (PYTHONPATH puts it first). Not part of
`python -m pytest`: about two minutes in all. Exit 1 if any break goes unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Break:
    name: str
    guarantee: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    # Further (file, old, new) edits, for a guarantee that holds in more than one place:
    # the break must remove all of them, or the cited test rightly still passes.
    more: tuple[tuple[str, str, str], ...] = ()

    @property
    def edits(self) -> tuple[tuple[str, str, str], ...]:
        return ((self.file, self.old, self.new), *self.more)


SECURITY = "tests/test_security.py::"
SWAPS = "tests/test_inbox_swaps.py::"
TEMPS = "tests/test_temporaries.py::"
HOSTILE = "tests/test_hostile_sheets.py::"
SERVE = "tests/test_serve_guard.py::"
UPLOAD = "tests/test_serve_upload.py::"
PAGES = "tests/test_serve_pages.py::"
REVIEW = "tests/test_serve_review.py::"
AUDIT = "tests/test_serve_audit.py::"
BREAKS = (
    Break("html", "the HTML diff report escapes every value",
          "bulkedit/sheets/diffreport.py", "import html\n",
          "import html\nhtml.escape = lambda text, quote=True: text  # BROKEN\n",
          (SECURITY + "test_the_html_report_escapes_every_value",)),
    Break("tls", "TLS certificates are verified",
          "bulkedit/client/connect.py", "aiohttp.TCPConnector(limit=limits.concurrency)",
          "aiohttp.TCPConnector(limit=limits.concurrency, ssl=False)",
          (SECURITY + "test_a_self_signed_certificate_is_refused_before_any_request",)),
    Break("exception-text", "aiohttp's exception text is never shown",
          "bulkedit/client/transport.py", "failed ({type(exc).__name__})", "failed ({exc!r})",
          (SECURITY + "test_a_network_error_says_its_kind_and_nothing_of_the_request",)),
    Break("traceback", "an internal error is one line, no traceback",
          "bulkedit/cli/main.py", 'if os.environ.get("BULKEDIT_DEBUG"):', "if True:",
          (SECURITY + "test_an_internal_error_is_one_line_without_traceback",)),
    # The listing's lstat and the open's O_NOFOLLOW both keep a link out: the break removes
    # both (either alone is the open-nofollow break, or a listing the open still guards).
    Break("symlinks", "the inbox never follows a symbolic link",
          "bulkedit/run/batch.py", "entry.stat(follow_symlinks=False)", "entry.stat()",
          (SECURITY + "test_the_inbox_never_follows_a_symlink",),
          more=(("bulkedit/sheets/files.py", "os.O_NOFOLLOW | os.O_NONBLOCK if from_inbox",
                 "os.O_NONBLOCK if from_inbox"),)),
    Break("http-base", "credentials never travel over plain http to another machine",
          "bulkedit/core/protocol.py", 'if parts.scheme != "https":', "if False:",
          (SECURITY + "test_every_command_refuses_a_plain_http_base_before_connecting",
           SECURITY + "test_any_other_base_is_refused_with_its_fix")),
    Break("api-host", "credentials go only to Dailymotion's API hosts unless allowed",
          "bulkedit/core/protocol.py", "if host not in DAILYMOTION_API_HOSTS and host not "
          "in allowed:", "if False:",
          (SECURITY + "test_any_other_base_is_refused_with_its_fix",)),
    Break("password", "a password is masked in every artifact",
          "bulkedit/core/schema.py", "return MASK if self.sensitive and text else text",
          "return text",
          (SECURITY + "test_a_password_is_masked_in_every_artifact",)),
    Break("plan-password", "a saved plan never holds a password",
          "bulkedit/run/savedplan.py",
          "return {name: (MASK if name in FIELDS and FIELDS[name].sensitive and value else value)",
          "return {name: (value if name in FIELDS and FIELDS[name].sensitive and value else value)",
          (SECURITY + "test_a_password_is_masked_in_every_artifact",
           "tests/test_saved_plan.py::"
           "test_a_saved_plan_keeps_the_options_and_forms_but_never_a_password")),
    Break("formulas", "no cell bulkedit writes is evaluated as a formula",
          "bulkedit/core/cells.py", """return "'" + value if _CSV_RISKY.match(value) else value""",
          "return value",
          ("tests/test_cli.py::test_reports_never_hold_a_formula",
           "tests/test_bad_inputs.py::test_formula_cells_stay_text_in_every_output")),
    Break("terminal", "no control, C1 or bidi character reaches the terminal or a log",
          "bulkedit/core/charclasses.py", 'return f"\\\\u{ord(match.group(0)):04x}"',
          "return match.group(0)",
          (SECURITY + "test_no_cell_reaches_the_terminal_raw",
           SECURITY + "test_a_file_name_cannot_forge_a_log_line_or_drive_the_terminal")),
    Break("private-undo", "the rollback sheet and the journal are 0600",
          "bulkedit/sheets/report.py", 'sheet_title="Rollback", mode=0o600,',
          'sheet_title="Rollback",',
          (SECURITY + "test_the_journal_and_the_undo_are_private",)),
    Break("redirects", "no redirect is followed (the token never reaches another host)",
          "bulkedit/client/transport.py", "allow_redirects=False", "allow_redirects=True",
          ("tests/test_client.py::test_the_authorization_header_never_follows_a_redirect",)),
    Break("secret-repr", "the secret is hidden from repr and logs",
          "bulkedit/client/transport.py", "api_secret='***')", "api_secret={self.api_secret!r})",
          ("tests/test_client.py::test_credentials_never_show_the_secret",)),
    Break("private-journal", "the journal is 0600 (it keeps values from before each run)",
          "bulkedit/run/journal.py",
          "            self.path.chmod(0o600)\n", "            self.path.chmod(0o644)\n",
          (SECURITY + "test_the_journal_and_the_undo_are_private",)),
    Break("foreign-files", "the inbox reads only the user's files no one else may write",
          "bulkedit/sheets/files.py", "if status.st_mode & 0o022:\n        return",
          "if False:\n        return",
          (SECURITY + "test_the_inbox_refuses_files_others_may_write_unless_trusted",)),
    Break("special-files", "a special file in the inbox is never opened",
          "bulkedit/sheets/files.py", "if not stat.S_ISREG(status.st_mode):\n        return",
          "if False:\n        return",
          (SECURITY + "test_a_special_file_in_the_inbox_is_never_opened",)),
    Break("inbox-folders", "no folder bulkedit writes in is a symbolic link",
          "bulkedit/sheets/files.py", "if stat.S_ISLNK(status.st_mode):\n        raise",
          "if False:\n        raise",
          (SECURITY + "test_a_symlinked_folder_in_the_inbox_is_refused",)),
    Break("open-nofollow", "a sheet swapped for a link after the inbox check is refused",
          "bulkedit/sheets/files.py", "os.O_NOFOLLOW | os.O_NONBLOCK if from_inbox",
          "os.O_NONBLOCK if from_inbox",
          (SWAPS + "test_a_sheet_swapped_for_a_link_after_the_check_is_never_followed",)),
    Break("open-nonblock", "a sheet swapped for a pipe is never waited on",
          "bulkedit/sheets/files.py", "os.O_NOFOLLOW | os.O_NONBLOCK if from_inbox",
          "os.O_NOFOLLOW if from_inbox",
          (SWAPS + "test_a_sheet_swapped_for_a_pipe_after_the_check_is_never_waited_on",)),
    Break("hard-links", "a hard link in the inbox is refused like a symbolic link",
          "bulkedit/sheets/files.py", "if status.st_nlink > 1:", "if False:",
          (SWAPS + "test_a_hard_link_in_the_inbox_is_refused_like_a_symbolic_link",)),
    Break("private-problems", "a problems report is 0600",
          "bulkedit/sheets/report.py", 'text_columns=("value",),\n                mode=0o600)',
          'text_columns=("value",))',
          (SWAPS + "test_a_problems_report_is_private",)),
    Break("shared-inbox", "an inbox every user may write without the sticky bit is said",
          "bulkedit/sheets/files.py", "if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:",
          "if False:",
          (SWAPS + "test_an_inbox_every_user_may_write_is_said",)),
    Break("seals", "a damaged or lost seal is damage, never a silent restart",
          "bulkedit/run/journal.py",
          "            if sealed is None:  # garbled: its sheet is known only if the journal "
          "has the run\n",
          "            if sealed is None:\n                continue\n            if False:\n",
          ("tests/test_journal_damage.py::test_a_damaged_seal_is_damage_never_a_silent_restart",),
          more=(("bulkedit/run/journal.py", "            if self.counts(record[\"id\"])[0]:",
                 "            if False:"),)),
    Break("integrity-line", "a failed integrity check is one line (detail under BULKEDIT_DEBUG)",
          "bulkedit/run/journal.py", "else str(exc).splitlines()[0])", "else str(exc))\n"
          "            reason = str(exc)",
          ("tests/test_journal_damage.py::"
           "test_a_journal_failing_its_integrity_check_is_one_line",)),
    Break("spools", "openpyxl never spools an XLSX in $TMPDIR",
          "bulkedit/sheets/files.py", "token = _SPOOL_BESIDE.set(Path(target))",
          "token = _SPOOL_BESIDE.set(None)",
          (TEMPS + "test_no_xlsx_bulkedit_writes_spools_in_tmpdir",
           TEMPS + "test_what_a_killed_write_left_is_swept_by_the_next_run")),
    Break("sweep", "what a killed write left is removed by the next run",
          "bulkedit/sheets/files.py", "        sweep_leftovers(self.target)\n", "",
          (TEMPS + "test_what_a_killed_write_left_is_swept_by_the_next_run",),
          more=(("bulkedit/sheets/files.py",
                 "        sweep_leftovers(path)  # what a killed run left while writing it\n",
                 ""),)),
    Break("full-folder", "a full disk names the folder that is full, with its free space",
          "bulkedit/sheets/files.py",
          "full = Path(os.fsdecode(exc.filename)) if exc.filename else Path(path)",
          "full = Path(path)",
          (TEMPS + "test_a_full_disk_names_the_folder_that_is_full",)),
    Break("shown-host", "a refused API base shows the host the request would go to",
          "bulkedit/core/protocol.py", "    shown = _shown_base(base)\n",
          '    shown = re.sub(r"//[^/@]*@", "//***@", base)\n',
          ("tests/test_api_base_shown.py::test_a_refused_base_shows_its_real_host",)),
    Break("certificates", "a refused certificate is never retried, and says so",
          "bulkedit/client/transport.py",
          "except (aiohttp.ClientConnectorCertificateError, ssl.SSLCertVerificationError):",
          "except ZeroDivisionError:",
          ("tests/test_tls_refused.py::"
           "test_a_refused_certificate_is_said_once_and_never_retried",
           SECURITY + "test_a_self_signed_certificate_is_refused_before_any_request")),
    Break("irreversible", "explicit = true needs --allow-irreversible",
          "bulkedit/core/planning.py",
          'if name == "explicit" and new is True and not rules.allow_irreversible:',
          "if False:",
          ("tests/test_plan.py::"
           "test_explicit_true_is_refused_unless_allowed_and_false_or_unchanged_is_fine",)),
    Break("settings-owner", "a bulkedit.toml others may write is refused",
          "bulkedit/run/config.py",
          "if status.st_uid != os.geteuid() or status.st_mode & 0o022:", "if False:",
          (SECURITY + "test_a_settings_file_others_may_write_is_refused",)),
    # Issue 26 (the nightly job): a sheet still arriving, a killed filing, one lock a sheet.
    Break("settle", "a sheet still being written is never taken",
          "bulkedit/run/settle.py", '        return "it is gone"\n',
          '        return "it is gone"\n    return None  # BROKEN\n',
          ("tests/test_settle.py::test_a_sheet_written_in_two_halves_is_applied_whole",
           "tests/test_settle.py::test_a_sheet_a_process_still_holds_open_for_writing_is_not_taken")),
    Break("open-writer", "a sheet's file still open for writing is never filed nor removed",
          "bulkedit/run/filing.py", "    if writers([seen]):", "    if False:",
          ("tests/test_filing.py::test_a_writer_still_appending_never_reaches_the_filed_sheet",)),
    Break("filing", "a night killed while filing is completed by the next, nothing run twice",
          "bulkedit/run/batch.py", "= self._complete_filings()", "= []",
          ("tests/test_filing.py::test_a_night_killed_while_filing_is_completed_by_the_next",)),
    Break("applied-unfiled", "a night killed between a run and its filing never reruns it",
          "bulkedit/run/batch.py", "        if applied is not None:", "        if False:",
          ("tests/test_filing.py::test_a_night_killed_while_filing_is_completed_by_the_next",)),
    Break("sheet-lock", "one sheet never runs twice at once, whatever the state folder",
          "bulkedit/run/lock.py", "self._held.append(RunLock(path, self.what).acquire())",
          "pass",
          ("tests/test_lock.py::test_stdin_sheets_are_locked_by_their_content_not_by_a_dash",
           "tests/test_lock.py::"
           "test_two_applies_of_one_sheet_with_different_state_folders_never_both_run")),
    Break("native-abort", "no workbook can abort the process: calamine reads in a child",
          "bulkedit/sheets/workbook_child.py", "    if in_process:\n        return _unpack(",
          "    if True:\n        return _unpack(",
          (HOSTILE + "test_a_native_abort_is_a_refused_sheet_not_a_dead_process",)),
    Break("sheet-extent", "a workbook beyond the rows, columns or cells read is refused "
                          "before it is read",
          "bulkedit/sheets/workbook_extent.py",
          '    where = f"sheet \'{extent.sheet}\'" if extent.sheet else "the sheet"',
          '    return\n    where = ""',
          (HOSTILE + "test_a_hostile_sheet_is_refused_with_its_numbers",)),
    Break("csv-line", "a CSV line past the cell cap is refused before the file is read",
          "bulkedit/sheets/csv_reader.py", "    cap = limits.field_bytes\n",
          "    cap = 1 << 62\n",
          (HOSTILE + "test_a_hostile_sheet_is_refused_with_its_numbers[one_line_csv]",
           HOSTILE + "test_a_long_csv_line_is_refused_before_the_file_is_read")),
    Break("serve-host", "serve answers only a loopback Host with its port (DNS rebinding)",
          "bulkedit/serve/guard.py", "if not loopback_host(host, port):", "if False:",
          (SERVE + "test_a_rebinding_host_is_refused",
           SERVE + "test_a_look_alike_host_is_refused")),
    Break("serve-host-parse", "a look-alike Host is another host (exact parse, no prefix)",
          "bulkedit/serve/origins.py", "match = _HOST.fullmatch(host)",
          "match = _HOST.match(host)",
          (SERVE + "test_a_look_alike_host_is_refused",)),
    Break("serve-session", "every route of serve needs a session",
          "bulkedit/serve/guard.py", "    if user is None:\n        return _refused(401",
          "    if False:\n        return _refused(401",
          (SERVE + "test_no_cookie_no_page_and_no_upload",)),
    Break("serve-token", "a wrong link token signs no one in",
          "bulkedit/serve/users.py", "if hmac.compare_digest(kept, wanted):", "if True:",
          (SERVE + "test_a_wrong_token_or_session_signs_no_one_in",)),
    Break("serve-cookie", "the session cookie is HttpOnly and SameSite=Strict",
          "bulkedit/serve/guard.py", 'httponly=True, samesite="Strict"', 'samesite="Lax"',
          (SERVE + "test_the_link_becomes_a_strict_http_only_cookie_and_leaves_the_address",)),
    Break("serve-origin", "a state change needs the page's own Origin, compared exactly",
          "bulkedit/serve/guard.py",
          "if not own_origin(request.headers.get(hdrs.ORIGIN), host):", "if False:",
          (SERVE + "test_a_cross_site_origin_is_refused",
           SERVE + "test_a_look_alike_origin_is_refused")),
    Break("serve-origin-exact", "a look-alike Origin is another origin",
          "bulkedit/serve/origins.py", 'and origin == f"http://{host}"',
          'and origin.startswith(f"http://{host}")',
          (SERVE + "test_a_look_alike_origin_is_refused",)),
    Break("serve-fetch-site", "a state change with Sec-Fetch-Site other than same-origin is "
          "refused", "bulkedit/serve/origins.py", "return value is None or value in "
          "ALLOWED_FETCH_SITES", "return True",
          (SERVE + "test_sec_fetch_site_cross_site_is_refused",)),
    Break("serve-content-type", "a state change must carry its route's content type",
          "bulkedit/serve/guard.py",
          "if wanted is None or request.content_type != wanted:", "if False:",
          (SERVE + "test_a_wrong_content_type_is_refused",)),
    Break("serve-headers", "every serve answer carries the security headers",
          "bulkedit/serve/app.py", "app.on_response_prepare.append(security_headers)", "pass",
          (SERVE + "test_every_answer_carries_the_security_headers",)),
    Break("serve-cap", "an upload is capped while streaming, nothing kept past the cap",
          "bulkedit/serve/upload.py", "if size > cap:", "if False:",
          (UPLOAD + "test_the_cap_is_counted_while_streaming",
           UPLOAD + "test_the_upload_stops_being_read_at_the_cap")),
    Break("serve-escape", "every serve page escapes what it shows",
          "bulkedit/serve/app.py", "autoescape=True,", "autoescape=False,",
          (PAGES + "test_every_page_escapes_what_it_shows",)),
    Break("serve-password", "a password is *** on serve's pages",
          "bulkedit/serve/problems_view.py", "text = spec.shown(text)", "pass",
          (PAGES + "test_a_password_is_masked_on_the_page",)),
    Break("serve-loopback", "serve binds 127.0.0.1 only",
          "bulkedit/serve/server.py", "web.TCPSite(runner, LOOPBACK, port)",
          'web.TCPSite(runner, "0.0.0.0", port)',
          ("tests/test_serve_command.py::test_the_server_binds_loopback_only",)),
    Break("serve-approver", "only an approver approves or declines",
          "bulkedit/serve/review.py", "if not user.can(APPROVER):", "if False:",
          (REVIEW + "test_an_editor_who_is_no_approver_may_plan_but_never_decide",)),
    Break("serve-second-person", "with require_second_person, the uploader may not decide",
          "bulkedit/serve/review.py", "if second_person and user.name == uploaded_by:",
          "if False:",
          (REVIEW + "test_approving_your_own_upload_is_refused_when_two_people_are_required",)),
    Break("serve-plan-hash", "an approval is of the plan shown, by its hash",
          "bulkedit/serve/review.py", "if plan_sha256 != plan.sha256:", "if False:",
          (REVIEW + "test_the_approval_is_of_the_plan_shown_never_of_one_made_since",)),
    Break("serve-void", "a new upload of the sheet voids its approval and its approved plan",
          "bulkedit/serve/app.py",
          'if earlier.label == label and review.stage == "approved":', "if False:",
          (REVIEW + "test_a_new_upload_of_the_sheet_voids_its_approval",)),
    Break("serve-drift", "after approval, rows that drifted are conflicts of the approved plan",
          "bulkedit/serve/app.py", "made = await make_plan(state, found, approved)",
          "made = await make_plan(state, found, None)",
          (REVIEW + "test_drift_after_the_approval_is_a_conflict_in_the_approved_plan",)),
    Break("serve-events", "every upload, plan, decision and download is an event in the journal",
          "bulkedit/serve/state.py",
          "event: Event = self.journal.record_event(actor, action, **said)",
          "event = Event(0, 0.0, actor, action)",
          (AUDIT + "test_each_action_leaves_one_event_with_its_actor_time_hashes_and_comment",)),
    Break("serve-audit-csv", "the audit CSV's cells are safe for Excel",
          "bulkedit/serve/audit.py",
          "write_table(path, HEADERS, (cells(e) for e in events), mode=0o600)",
          "import csv\n        with path.open('w', encoding='utf-8-sig', newline='') as out:\n"
          "            csv.writer(out).writerows([HEADERS, *(cells(e) for e in events)])",
          (AUDIT + "test_the_audit_csv_holds_exactly_the_events_every_cell_safe_for_excel",
           AUDIT + "test_a_comment_that_starts_a_formula_is_text_in_the_csv")),
)


def copy_project(into: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


def run(chosen: Break) -> tuple[bool, str, float]:
    """(caught, what pytest said last, seconds)."""
    with tempfile.TemporaryDirectory(prefix="bulkedit-break-") as scratch:
        copy = Path(scratch)
        copy_project(copy)
        for file, old, new in chosen.edits:
            target = copy / file
            text = target.read_text(encoding="utf-8")
            if old not in text:
                return False, f"the code to break is gone from {file}: update the break", 0.0
            target.write_text(text.replace(old, new, 1), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy)}
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", *chosen.tests], cwd=copy, env=env,
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return False, "the tests hung (a hang is not a clear failure)", 300.0
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        return done.returncode != 0, lines[-1] if lines else done.stderr[-200:], \
            time.perf_counter() - started


def main(names: list[str]) -> int:
    chosen = [b for b in BREAKS if not names or b.name in names]
    rows = []
    for item in chosen:
        caught, said, seconds = run(item)
        rows.append((item, caught, said, seconds))
        print(f"{'caught' if caught else 'NOT CAUGHT':>10}  {item.name}: {said} "
              f"({seconds:.1f} s)", flush=True)
    print("\n| break | guarantee | cited tests | result |\n|---|---|---|---|")
    for item, caught, _said, _ in rows:
        tests = ", ".join(f"`{t.split('/')[-1]}`" for t in item.tests)
        print(f"| {item.name} | {item.guarantee} | {tests} | "
              f"{'fails: caught' if caught else 'PASSES: not caught'} |")
    return 0 if all(caught for _, caught, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
