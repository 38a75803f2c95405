"""Generate benchmark sheets (deterministic), like perf-notes.md §1's test data.

    python bench/gen.py csv 1000000 bench/data/in_1000000.csv
    python bench/gen.py xlsx 100000 bench/data/in_100000.xlsx
    python bench/gen.py xlsx-numbers 100000 bench/data/num_100000.xlsx

Columns: video_id + 8 fields (title, description, tags, channel,
is_created_for_kids, published, publish_date, geoblocking). 1 % of rows carry a
deliberate mistake, so validation has real problems to report.
"""

from __future__ import annotations

import csv
import random
import sys
from collections.abc import Iterator
from pathlib import Path

HEADERS = ["video_id", "title", "description", "tags", "channel", "is_created_for_kids",
           "published", "publish_date", "geoblocking"]
CHANNELS = ["animals", "auto", "creation", "fun", "lifestyle", "music", "news", "people",
            "school", "sport", "tech", "travel", "tv", "videogames", "webcam", "kids"]
ALPHABET = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ éèàçüöñ ÅØÆ ΑΒΓΔ абвгд 東京大阪 🎬🎵 "
            "0123456789")
BOOLS = ["true", "false", "TRUE", "False", "1", "0"]
COUNTRIES = ["fr", "us", "gb", "de", "es", "it", "jp", "ca", "br", "in", "pt", "nl"]
WORDS = ["travel", "food", "music", "sport", "news", "tech", "cats", "city", "summer",
         "winter", "live", "review", "howto", "vlog", "interview"]


def rows(count: int, seed: int = 2026) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(count):
        title = "".join(rng.choices(ALPHABET, k=rng.randint(45, 75))).strip() or "t"
        description = ("" if rng.random() < 0.05 else
                       "".join(rng.choices(ALPHABET, k=rng.randint(250, 350))).strip())
        tags = ", ".join(rng.sample(WORDS, rng.randint(0, 6)))
        hour = rng.randint(0, 23)
        date = (f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{hour:02d}:"
                f"{rng.randint(0, 59):02d}:00{rng.choice(['+01:00', 'Z', '-05:00'])}")
        geo = ("" if rng.random() < 0.6 else
               ", ".join([rng.choice(["deny", "allow"]), *rng.sample(COUNTRIES, 3)]))
        row = [f"x{i:07x}", title, description, tags, rng.choice(CHANNELS),
               rng.choice(BOOLS), rng.choice(BOOLS), date, geo]
        if rng.random() < 0.01:  # a deliberate mistake in one cell
            column = rng.randint(1, 8)
            row[column] = {1: "x" * 300, 2: "d" * 3100, 3: "+a, b", 4: "sprot", 5: "maybe",
                           6: "perhaps", 7: "tomorrow", 8: "fr, deny"}[column]
        yield row


def main() -> None:
    kind, count, target = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            writer.writerows(rows(count))
    else:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(target))
        sheet = book.add_worksheet("Edits")
        sheet.write_row(0, 0, HEADERS)
        # xlsx-numbers: one title in five is a number cell shown with two decimals, as a
        # person types "12.50", so the loader has to read cell formats (issue 11).
        numbers = kind == "xlsx-numbers"
        two_places = book.add_format({"num_format": "0.00"})
        for r, row in enumerate(rows(count), start=1):
            for c, value in enumerate(row):
                if numbers and c == 1 and r % 5 == 0:
                    sheet.write_number(r, c, r + 0.5, two_places)
                else:
                    sheet.write_string(r, c, value)
        book.close()


if __name__ == "__main__":
    main()
