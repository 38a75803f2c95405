"""How tests/data/journal-v1.sqlite was made (journal format 1, before the events table of
`bulkedit serve`'s audit trail), with bulkedit at 95994ab (SCHEMA_VERSION = 1):

    printf 'video_id,title,tags\\nx800001,Night title 1,"a,b"\\nx800002,Night title 2,\\n'\\
'x800003,=cmd|calc,+extra\\n' > night.csv
    bulkedit apply night.csv --sandbox --yes --state-dir state   # a real, finished run
    python tests/data/make_journal_v1.py state                     # two linked accounts

The second step adds what format 1 brought: a finished run of the account brand1 and an
interrupted run of brand2 linked to it, with a row sent but not read back, a pending
row and the values it carried over. Kept for the record: it needs that bulkedit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bulkedit.run.journal import SCHEMA_VERSION, Journal, RowRecord

if __name__ == "__main__":
    assert SCHEMA_VERSION == 1, "made by bulkedit with journal format 1"
    journal = Journal(Path(sys.argv[1]))
    first = journal.start_run("/srv/sheets/brands.csv", "ab" * 32, {"timezone": "UTC"},
                              account="brand1")
    second = journal.start_run("/srv/sheets/brands.csv", "ab" * 32, {"timezone": "UTC"},
                               account="brand2", linked=first.id)
    journal.record_rows(first.id, [RowRecord(
        0, 2, "x800010", "done", "updated", "", "", 200, "", ("title",), 1, 1.0, 2.0,
        {"form": {"title": "B1"}, "old": {"title": "Old"}})])
    journal.record_rows(second.id, [
        RowRecord(0, 3, "x800011", "sent", "sent", "", "", None, "", (), 1, 1.5, None,
                  {"form": {"tags": "p,q"}, "old": {"tags": ["z"]}}),
        RowRecord(1, 4, "x800012", "pending", "pending", "", "", None, "", (), 0, None, None,
                  None)])
    journal.carry(second.id, {"x800011": (3, {"tags": ["z"]})})
    journal.finish_run(first.id, "finished", {"counts": {"updated": 1}})
    journal._db.execute("UPDATE runs SET state = 'interrupted' WHERE id = ?", (second.id,))
    journal.close()
