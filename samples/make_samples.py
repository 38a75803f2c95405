"""Regenerate samples/edits.csv, samples/edits.xlsx and samples/thumbnails.csv
(deterministic).

    python samples/make_samples.py

The ids are the first videos of the default sandbox (`bulkedit sandbox`), which
names video n `x8` + n in base 36 on five characters.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from bulkedit.core.cells import csv_safe
from bulkedit.core.doubts import geo_cell
from bulkedit.sheets.report import OWN_MARK

HERE = Path(__file__).parent
ROWS = 60
HEADERS = ["video_id", "title", "description", "tags", "channel", "language", "country",
           "private", "is_created_for_kids", "publish_date", "expiry_date", "geoblocking",
           "hashtags", "soundtrack_popularity", "geoloc",
           "player_next_video", "# notes"]

PLACES = ["Lisbon", "Kyoto", "Marseille", "Québec", "Oaxaca", "Tromsø", "Zanzibar", "Porto",
          "Seville", "Hội An", "Reykjavík", "Valparaíso"]
THEMES = [("travel", "travel"), ("food", "lifestyle"), ("music", "music"),
          ("football", "sport"), ("news", "news"), ("tech", "tech")]
LANGUAGES = ["en", "fr", "es", "pt", "ja", "de", "it"]
COUNTRIES = ["fr", "us", "gb", "es", "pt", "jp", "ca", "de"]


def video_id(index: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        index, rest = divmod(index, 36)
        text = digits[rest] + text
        if not index:
            break
    return "x8" + text.rjust(5, "0")


def rows() -> list[list[object]]:
    rng = random.Random(48)
    out: list[list[object]] = []
    base = dt.datetime(2027, 1, 4, 18, 0)
    for i in range(ROWS):
        place = PLACES[i % len(PLACES)]
        theme, channel = THEMES[i % len(THEMES)]
        row: dict[str, object] = {"video_id": video_id(i)}
        row["title"] = f"{place}: {theme} diaries, episode {i + 1}"
        if i % 3 == 0:
            row["description"] = (f"A {theme} story filmed in {place}.\n"
                                  f"Episode {i + 1} of our winter series.")
        elif i % 17 == 5:
            row["description"] = "[]"  # clear it
        if i % 4 == 0:
            row["tags"] = f"{theme}, {place.lower()}, winter series"
        elif i % 4 == 1:
            row["tags"] = f"+{place.lower()}, +winter series, -summer"  # a patch
        elif i % 11 == 2:
            row["tags"] = "[]"
        row["channel"] = channel
        row["language"] = LANGUAGES[i % len(LANGUAGES)]
        if i % 5 == 0:
            row["country"] = COUNTRIES[i % len(COUNTRIES)]
        row["private"] = i % 7 == 3
        row["is_created_for_kids"] = False if i % 9 else None
        if i % 6 == 0:
            row["publish_date"] = base + dt.timedelta(days=i)
            if i % 12 == 0:
                row["expiry_date"] = base + dt.timedelta(days=i + 90)
        if i % 8 == 0:
            row["geoblocking"] = "deny, " + ", ".join(rng.sample(COUNTRIES, 2))
        elif i % 8 == 4:
            row["geoblocking"] = "[]"
        if i % 5 == 2:
            row["hashtags"] = f"#{theme}, #{place.lower().replace(' ', '')}"
        if i % 13 == 0:
            row["soundtrack_popularity"] = rng.randint(0, 100)
        if i % 15 == 1:
            # Hemisphere letters: a bare pair of these is a place in both orders (refused).
            lon, lat = round(rng.uniform(-10, 30), 4), round(rng.uniform(35, 60), 4)
            row["geoloc"] = geo_cell(lon, lat)
        if i % 10 == 9:
            row["player_next_video"] = video_id(i + 1)
        row["# notes"] = "reviewed by Ana" if i % 10 == 0 else None
        out.append([row.get(h) for h in HEADERS])
    return out


def as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    return str(value)


# A change the default sandbox key may not make, as Dailymotion does without the
# permission: the API answers 200 and keeps the old thumbnail (README, "A change the API
# ignored"). The quick start's sheet edits only what the default key may edit.
THUMBNAILS = [["video_id", "title", "thumbnail_url"]] + [
    [video_id(i), f"Thumbnail refresh {i + 1}", f"https://cdn.example.com/thumbs/{video_id(i)}.jpg"]
    for i in range(3)]


def main() -> None:
    with (HERE / "thumbnails.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(THUMBNAILS)
    data = rows()
    with (HERE / "edits.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        # Excel-safe like every sheet bulkedit writes: '+a, -b' patches get an apostrophe,
        # and the OWN_MARK column says that such an apostrophe is an escape, not the text.
        writer.writerow([*HEADERS, OWN_MARK])
        writer.writerows([*(csv_safe(as_text(v)) for v in row), ""] for row in data)
    book = Workbook()
    book.properties.created = book.properties.modified = dt.datetime(2026, 1, 1)
    sheet = book.active
    sheet.title = "Edits"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in data:
        sheet.append(row)
    for cell in sheet["J"][1:] + sheet["K"][1:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.column_dimensions["A"].number_format = "@"
    sheet.freeze_panes = "B2"
    book.save(HERE / "edits.xlsx")


if __name__ == "__main__":
    main()
