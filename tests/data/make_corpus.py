"""Write tests/data/corpus/: small sheets made by real programs (issue 25, point 10).

Every file here was written by the program named beside it, never by bulkedit's own
writers, so the bytes are those a user hands in. What each sheet must become is in
corpus/MANIFEST.toml, written by hand; tests/test_corpus.py runs both against the sandbox.

Programs, as run to make the committed files (Debian 12):

* LibreOffice Calc 7.4.7.2 (Debian 4:7.4.7-1+deb12u14), headless, one user profile per
  locale with ooSetupSystemLocale and ooLocale set to fr-FR or de-DE (the "Locale setting"
  of Tools > Options > Language Settings, which decides the decimal and group separators
  and the words for TRUE/FALSE), and LANG=fr_FR.UTF-8 / de_DE.UTF-8. A workbook is first
  built with openpyxl (the features LibreOffice has no command line for: hidden rows, an
  autofilter with rows filtered out, merged cells, hidden columns, several tabs, the
  active tab), then opened and saved again by LibreOffice with `soffice --convert-to`, so
  the committed bytes are LibreOffice's. CSV filter options are
  `59,34,76,1` (separator `;`, text delimiter `"`, UTF-8, start at row 1) or
  `9,34,65535,1` (tab, UTF-16 "Unicode text"); cells are saved as shown (the default).
* pandas 3.1.1 `DataFrame.to_excel` with engine="openpyxl" (openpyxl 3.1.5) and
  engine="xlsxwriter" (XlsxWriter 3.3.1), and `DataFrame.to_csv`, with their defaults.
* Python 3.11's csv module for the legacy dialects: Excel for Mac "CSV (Macintosh)"
  (mac_roman, CR line ends), Excel "CSV (MS-DOS)" (cp850, CRLF), UTF-8 with CR only, and
  the CMS (WordPress / Drupal) and MySQL `SELECT … INTO OUTFILE` / PostgreSQL
  `COPY … NULL 'NULL'` shapes, whose servers are not installed here.
* sqlite3 3.40.1 (`sqlite3 -header -csv`).

`python tests/data/make_corpus.py` writes the files again (it needs soffice and sqlite3
on PATH; CI does not: the files are committed). Future dates are in 2037.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.styles import Alignment

CORPUS = Path(__file__).parent / "corpus"
WORK = Path(tempfile.mkdtemp(prefix="bulkedit-corpus-"))

CSV_SEMICOLON_UTF8 = "csv:Text - txt - csv (StarCalc):59,34,76,1"
CSV_TAB_UTF16 = "csv:Text - txt - csv (StarCalc):9,34,65535,1"

# ----------------------------------------------------------------------------- LibreOffice

_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale"
 oor:op="fuse"><value>{loc}</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale"
 oor:op="fuse"><value>{loc}</value></prop></item>
</oor:items>
"""


def _profile(loc: str) -> Path:
    folder = WORK / f"profile-{loc}"
    if not folder.exists():
        (folder / "user").mkdir(parents=True)
        (folder / "user" / "registrymodifications.xcu").write_text(_XCU.format(loc=loc))
    return folder


def libreoffice(source: Path, name: str, loc: str, target: str) -> None:
    """Open `source` in LibreOffice Calc (locale `loc`) and save it as corpus/`name`."""
    out = WORK / f"out-{loc}-{name}"
    out.mkdir()
    env = {**os.environ, "LANG": loc.replace("-", "_") + ".UTF-8",
           "LC_ALL": loc.replace("-", "_") + ".UTF-8"}
    subprocess.run(["soffice", f"-env:UserInstallation=file://{_profile(loc)}", "--headless",
                    "--convert-to", target, "--outdir", str(out), str(source)],
                   check=True, env=env, capture_output=True)
    made = next(out.iterdir())
    shutil.copyfile(made, CORPUS / name)


def book(rows: list[list[object]], title: str = "Feuille1") -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    return wb


def saved(wb: openpyxl.Workbook, stem: str) -> Path:
    path = WORK / f"{stem}.xlsx"
    wb.save(path)
    return path


def _wrap(ws, cell: str) -> None:
    ws[cell].alignment = Alignment(wrap_text=True)


def lo_fr() -> None:
    accents = book([
        ["video_id", "title", "description", "tags", "private", "publish_date"],
        ["x800001", "Crème brûlée à l'été", "Une recette d'été.\nÉpisode 1.", "été, cuisine",
         False, datetime(2037, 6, 1, 18, 0)],
        ["x800002", "Noël à Strasbourg", "Marché de Noël", "noël, alsace", True, None],
        ["x800003", "Œuvres de Maïté", None, None, False, datetime(2037, 6, 3, 9, 30)],
    ])
    ws = accents.active
    _wrap(ws, "C2")
    for cell in ("F2", "F4"):
        ws[cell].number_format = "YYYY-MM-DD HH:MM"
    src = saved(accents, "fr-accents")
    libreoffice(src, "lo-fr-accents.xlsx", "fr-FR", "xlsx:Calc MS Excel 2007 XML")
    libreoffice(src, "lo-fr-accents.ods", "fr-FR", "ods")

    semicolon = book([
        ["video_id", "title", "tags", "channel", "soundtrack_popularity"],
        ["x800004", "Lyon ; la nuit", "lyon, nuit", "travel", 71],
        ["x800005", "Bordeaux, le vin", "vin, bordeaux", "lifestyle", 5],
        ["x800006", "Nice", None, "news", None],
    ])
    libreoffice(saved(semicolon, "fr-semicolon"), "lo-fr-semicolon.csv", "fr-FR",
                CSV_SEMICOLON_UTF8)

    decimal = book([["video_id", "title", "soundtrack_popularity"],
                    ["x800007", "Douze", 12], ["x800008", "Mille deux cents", 1200],
                    ["x800009", "Soixante et onze", 71]])
    ws = decimal.active
    ws["C2"].number_format = "0.000"   # shown 12,000 by a French Calc
    ws["C3"].number_format = "#,##0"   # shown 1 200 (a group separator)
    libreoffice(saved(decimal, "fr-decimal"), "lo-fr-decimal.csv", "fr-FR",
                CSV_SEMICOLON_UTF8)

    hidden = book([["video_id", "title"], ["x800001", "Visible un"],
                   ["x800002", "Caché à la main"], ["x800003", "Visible trois"],
                   ["x800004", "Caché aussi"], ["x800005", "Visible cinq"]])
    hidden.active.row_dimensions[3].hidden = True
    hidden.active.row_dimensions[5].hidden = True
    libreoffice(saved(hidden, "fr-hidden"), "lo-fr-hidden-rows.xlsx", "fr-FR",
                "xlsx:Calc MS Excel 2007 XML")

    filtered = book([["video_id", "title", "channel"], ["x800001", "Info du matin", "news"],
                     ["x800002", "Match retour", "sport"], ["x800003", "Info du soir", "news"],
                     ["x800004", "Finale", "sport"], ["x800005", "Flash info", "news"]])
    ws = filtered.active
    ws.auto_filter.ref = "A1:C6"
    ws.auto_filter.add_filter_column(2, ["news"])  # the user filtered channel = news
    for row in (3, 5):
        ws.row_dimensions[row].hidden = True
    libreoffice(saved(filtered, "fr-filter"), "lo-fr-autofilter.ods", "fr-FR", "ods")

    for ext, target in (("xlsx", "xlsx:Calc MS Excel 2007 XML"), ("ods", "ods")):
        merged = book([["video_id", "channel", "title"], ["x800001", "music", "Concert 1"],
                       ["x800002", None, "Concert 2"], ["x800003", None, "Concert 3"],
                       ["x800004", "news", "Journal"]])
        merged.active.merge_cells("B2:B4")  # one "music" over three rows
        libreoffice(saved(merged, f"fr-merged-{ext}"), f"lo-fr-merged.{ext}", "fr-FR", target)

    tabs = book([["video_id", "title"], ["x800001", "Semaine 1 : ancien titre"],
                 ["x800002", "Semaine 1 : autre"]], title="Semaine 1")
    this_week = tabs.create_sheet("Semaine 2")
    for row in ([["video_id", "title"], ["x800001", "Semaine 2 : nouveau titre"],
                 ["x800003", "Semaine 2 : troisième"]]):
        this_week.append(row)
    tabs.active = 1
    tabs["Semaine 1"].sheet_view.tabSelected = False
    libreoffice(saved(tabs, "fr-tabs"), "lo-fr-tabs.xlsx", "fr-FR",
                "xlsx:Calc MS Excel 2007 XML")

    readme = book([["Comment remplir cette feuille"],
                   ["Une ligne par vidéo, l'identifiant en colonne A. Exemple :"],
                   ["video_id", "title"], ["x800001", "Exemple de titre"]], title="LISEZMOI")
    edits = readme.create_sheet("Modifications")
    for row in ([["video_id", "title"], ["x800001", "Le vrai titre"],
                 ["x800002", "Un autre titre"]]):
        edits.append(row)
    readme.active = 1
    readme["LISEZMOI"].sheet_view.tabSelected = False
    libreoffice(saved(readme, "fr-readme"), "lo-fr-readme-first.ods", "fr-FR", "ods")

    column = book([["video_id", "title", "description"],
                   ["x800001", "Nouveau titre 1", "ancienne description 1"],
                   ["x800002", "Nouveau titre 2", "ancienne description 2"],
                   ["x800003", "Nouveau titre 3", "ancienne description 3"]])
    column.active.column_dimensions["C"].hidden = True
    libreoffice(saved(column, "fr-hidden-col"), "lo-fr-hidden-column.xlsx", "fr-FR",
                "xlsx:Calc MS Excel 2007 XML")

    legacy = book([["video_id", "title"], ["x800001", "Ancien format"]])
    libreoffice(saved(legacy, "fr-legacy"), "lo-fr-legacy.xls", "fr-FR", "xls:MS Excel 97")


def lo_de() -> None:
    plain = book([["video_id", "title", "private", "tags", "channel"],
                  ["x800001", "Größe zählt", True, "sommer, straße", "news"],
                  ["x800002", "Übermorgen", False, "wetter", "news"],
                  ["x800003", "Köln bei Nacht", True, None, "travel"]], title="Tabelle1")
    src = saved(plain, "de-plain")
    libreoffice(src, "lo-de-semicolon.csv", "de-DE", CSV_SEMICOLON_UTF8)  # WAHR / FALSCH
    libreoffice(src, "lo-de-unicode.csv", "de-DE", CSV_TAB_UTF16)
    libreoffice(src, "lo-de-plain.xlsx", "de-DE", "xlsx:Calc MS Excel 2007 XML")

    thousands = book([["video_id", "soundtrack_popularity"], ["x800001", 12000],
                      ["x800002", 1500], ["x800003", 80]], title="Tabelle1")
    for cell in ("B2", "B3", "B4"):
        thousands.active[cell].number_format = "#,##0"  # shown 12.000 by a German Calc
    libreoffice(saved(thousands, "de-thousands"), "lo-de-thousands.csv", "de-DE",
                CSV_SEMICOLON_UTF8)

    dates = book([["video_id", "publish_date"], ["x800001", datetime(2037, 1, 4, 18, 0)],
                  ["x800002", datetime(2037, 3, 12, 9, 0)]], title="Tabelle1")
    for cell in ("B2", "B3"):
        dates.active[cell].number_format = "DD.MM.YYYY HH:MM"
    libreoffice(saved(dates, "de-dates"), "lo-de-dates.csv", "de-DE", CSV_SEMICOLON_UTF8)

    filtered = book([["video_id", "title", "channel"], ["x800001", "Nachrichten", "news"],
                     ["x800002", "Bundesliga", "sport"], ["x800003", "Tagesschau", "news"],
                     ["x800004", "Pokal", "sport"]], title="Tabelle1")
    ws = filtered.active
    ws.auto_filter.ref = "A1:C5"
    ws.auto_filter.add_filter_column(2, ["sport"])
    for row in (2, 4):
        ws.row_dimensions[row].hidden = True
    libreoffice(saved(filtered, "de-filter"), "lo-de-autofilter.xlsx", "de-DE",
                "xlsx:Calc MS Excel 2007 XML")

    breaks = book([["video_id", "tags"], ["x800001", "Sommer\nStrand\nUrlaub"],
                   ["x800002", "Winter\nSki"]], title="Tabelle1")
    _wrap(breaks.active, "B2")
    _wrap(breaks.active, "B3")
    libreoffice(saved(breaks, "de-breaks"), "lo-de-linebreak-tags.ods", "de-DE", "ods")

    slash = book([["video_id", "tags"], ["x800001", "rock / pop / jazz"],
                  ["x800002", "AC/DC"]], title="Tabelle1")
    libreoffice(saved(slash, "de-slash"), "lo-de-slash-tags.xlsx", "de-DE",
                "xlsx:Calc MS Excel 2007 XML")

    tabs = book([["video_id", "title"], ["x800001", "KW 48 alt"], ["x800002", "KW 48 alt"]],
                title="KW 48")
    this_week = tabs.create_sheet("KW 49")
    for row in ([["video_id", "title"], ["x800002", "KW 49 neu"], ["x800003", "KW 49 neu"]]):
        this_week.append(row)
    tabs.active = 1
    tabs["KW 48"].sheet_view.tabSelected = False
    libreoffice(saved(tabs, "de-tabs"), "lo-de-tabs.ods", "de-DE", "ods")


# ----------------------------------------------------------------------------- pandas

def pandas_sheets() -> None:
    frame = pd.DataFrame({
        "video_id": ["x800001", "x800002", "x800003", "x800004"],
        "title": ["Pandas one", "Pandas two", None, "Pandas four"],
        "soundtrack_popularity": [71, float("nan"), 5, 90],   # floats: 71.0 … NaN
        "publish_date": [datetime(2037, 5, 1, 12, 0), pd.NaT, pd.NaT,
                         datetime(2037, 5, 4, 8, 30)],
        "private": [True, False, None, True],
    })
    frame.to_excel(CORPUS / "pandas-openpyxl.xlsx", index=False, engine="openpyxl")
    frame.to_excel(CORPUS / "pandas-xlsxwriter.xlsx", index=False, engine="xlsxwriter")
    frame.to_csv(CORPUS / "pandas-nan.csv", index=False)
    small = frame[["video_id", "title"]].dropna()
    small.to_excel(CORPUS / "pandas-index-left-on.xlsx", engine="xlsxwriter")  # index=True
    small.to_csv(CORPUS / "pandas-index-left-on.csv")
    small.set_index("video_id").to_excel(CORPUS / "pandas-index-is-id.xlsx",
                                         engine="openpyxl")
    # The classic "make every column text" step: str(nan) is "nan", str(None) "None",
    # str(NaT) "NaT" (pandas 3's astype(str) keeps them missing; .map(str) does not).
    frame.map(str).to_csv(CORPUS / "pandas-astype-str.csv", index=False)


# ----------------------------------------------------------------------------- csv module

def _csv(name: str, rows: list[list[str]], encoding: str = "utf-8", newline: str = "\r\n",
         delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL, escapechar: str | None = None,
         ) -> None:
    with (CORPUS / name).open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator=newline, quoting=quoting,
                   escapechar=escapechar).writerows(rows)


def csv_module() -> None:
    # Every accented letter here is a byte Windows-1252 also defines (as another letter or
    # sign), so reading these files as Windows-1252 raises no error: é is Ž in Mac Roman's
    # bytes and ‚ in cp850's.
    accents = [["video_id", "title", "description"],
               ["x800001", "Café au lait", "Noël à Köln"],
               ["x800002", "Pâte à tartiner", "Café noir"],
               ["x800003", "Côte d'Azur", ""]]
    _csv("excel-mac.csv", accents, encoding="mac_roman", newline="\r")
    _csv("excel-msdos.csv", accents, encoding="cp850", newline="\r\n")
    _csv("utf8-cr-only.csv", accents, encoding="utf-8", newline="\r")
    _csv("apostrophe-text.csv", [["video_id", "title"],
                                 ["x800001", "'+33' : l'indicatif de la France"],
                                 ["x800002", "'-ism' words"],
                                 ["x800003", "Rock 'n' roll"]])
    _csv("excel-equals-trick.csv", [["video_id", "content_provider_id", "title"],
                                    ["x800001", '="007"', "Bond"],
                                    ["x800002", '="00123"', "Leading zeros"]])
    _csv("hashtags-spaces.csv", [["video_id", "hashtags"],
                                 ["x800001", "#summer #beach #travel"],
                                 ["x800002", "#news"]])
    _csv("tags-only-commas.csv", [["video_id", "tags", "title"],
                                  ["x800001", ",,,", "Commas only"],
                                  ["x800002", "live", "One tag"]])
    _csv("wordpress-pipe-tags.csv", [
        ["video_id", "title", "description", "tags"],
        ["x800001", "Lisbon by night", "Part one.\nFilmed in May.", "travel|lisbon|night"],
        ["x800002", "Porto by day", "Part two.", "travel|porto"]])
    _csv("drupal-semicolon-tags.csv", [
        ["video_id", "title", "tags"],
        ["x800001", "EU summit", "news; politics; europe"],
        ["x800002", "Market day", "economy"]])
    _csv("cms-html-entities.csv", [
        ["video_id", "title", "description"],
        ["x800001", "Tom &amp; Jerry", "Cat &amp; mouse"],
        ["x800002", "L&#039;été", "Plain"]])
    # MySQL SELECT … INTO OUTFILE FIELDS TERMINATED BY ',' ENCLOSED BY '"' (+ a header row
    # from a UNION): NULL is \N, unquoted.
    (CORPUS / "mysql-outfile.csv").write_bytes(
        b'"video_id","title","description"\n'
        b'"x800001","MySQL one",\\N\n'
        b'"x800002",\\N,"A description"\n')
    # PostgreSQL COPY … TO STDOUT WITH (FORMAT csv, HEADER, NULL 'NULL').
    (CORPUS / "postgres-null.csv").write_bytes(
        b"video_id,title,description,channel\n"
        b"x800001,Postgres one,NULL,news\n"
        b"x800002,NULL,Described,NULL\n")


def sqlite_export() -> None:
    database = WORK / "edits.db"
    script = ("CREATE TABLE edits(video_id TEXT, title TEXT, description TEXT, "
              "soundtrack_popularity INTEGER);"
              "INSERT INTO edits VALUES ('x800001','SQLite one',NULL,42),"
              "('x800002','SQLite, two','Line one\nLine two',NULL),"
              "('x800003','Quote \"three\"',NULL,7);")
    subprocess.run(["sqlite3", str(database), script], check=True)
    out = subprocess.run(["sqlite3", "-header", "-csv", str(database),
                          "SELECT * FROM edits ORDER BY video_id"],
                         check=True, capture_output=True).stdout
    (CORPUS / "sqlite3-csv.csv").write_bytes(out)


def main() -> int:
    CORPUS.mkdir(exist_ok=True)
    for make in (lo_fr, lo_de, pandas_sheets, csv_module, sqlite_export):
        make()
    shutil.rmtree(WORK)
    print(f"wrote {len([p for p in CORPUS.iterdir() if p.name != 'MANIFEST.toml'])} sheets"
          f" to {CORPUS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
