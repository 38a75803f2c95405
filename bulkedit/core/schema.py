"""Every Dailymotion video field bulkedit knows: the single source of truth.

The validator, the templates, the sandbox and `bulkedit fields` all read this
table. Facts come from ../shared/dailymotion-api.md §2 (writable fields),
§2.1 (read-only fields) and §1.1 (wire encoding); where the documentation is
silent the spec says so in `notes` and errs on the side of refusing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import pycountry


class Kind(StrEnum):
    TEXT = "text"
    ENUM = "enum"
    BOOL = "bool"
    DATE = "date"
    LIST = "list"
    COUNTRY_LIST = "country list"
    URL = "url"
    NUMBER = "number"
    GEO_POINT = "geo point"
    VIDEO_ID = "video id"


class Access(StrEnum):
    WRITABLE = "writable"
    READ_ONLY = "read-only"
    REFUSED = "refused"  # writable on the API, but bulkedit will not send it
    LIVE_ONLY = "live-only"  # only with --allow-live-fields


class Tier(StrEnum):
    ANYONE = "anyone"
    PRO = "Pro / verified partner"


class ItemKind(StrEnum):
    """What each item of a list field must be."""

    TEXT = "text"
    LANGUAGE = "language"
    VIDEO_ID = "video id"


MASK = "***"  # what every artifact shows instead of a secret value (a video password)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    summary: str
    access: Access = Access.WRITABLE
    tier: Tier = Tier.ANYONE
    # Text: length bounds after trimming. Lists: bounds on each item.
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None
    item_kind: ItemKind = ItemKind.TEXT
    # Enums: the accepted values (lower case); `doubtful` ones are accepted with a warning.
    allowed: tuple[str, ...] = ()
    doubtful: tuple[str, ...] = ()
    # Numbers.
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    # How `[]` is sent: the wire value, or None when the field cannot be cleared.
    clear_wire: str | None = None
    # Lists only: may a cell patch the live list with `+a, -b`?
    patchable: bool = False
    # Setting the field to true can never be undone on Dailymotion.
    irreversible_true: bool = False
    # Values are secrets of the user's (never echoed in messages).
    sensitive: bool = False
    # The API takes the field but never returns it: a write cannot be read back.
    write_only: bool = False
    example: str = ""
    notes: str = ""
    refusal: str = ""  # why bulkedit will not send it (REFUSED / LIVE_ONLY)

    @property
    def clearable(self) -> bool:
        return self.clear_wire is not None

    def shown(self, text: str) -> str:
        """`text` as any file or screen may show it: a secret is masked, an empty cell
        stays empty (so "no password" and "a password" still read differently)."""
        return MASK if self.sensitive and text else text

    @property
    def writable(self) -> bool:
        return self.access is Access.WRITABLE

    def limits(self) -> str:
        """The field's limits in words, for tables, notes and messages."""
        parts: list[str] = []
        if self.kind is Kind.LIST or self.kind is Kind.COUNTRY_LIST:
            if self.max_items is not None:
                parts.append(f"at most {self.max_items} items")
            if self.max_length is not None:
                parts.append(f"each at most {self.max_length} characters")
            if self.item_kind is not ItemKind.TEXT:
                parts.append(f"each a {self.item_kind.value}")
        elif self.kind is Kind.NUMBER:
            if self.minimum is not None and self.maximum is not None:
                parts.append(f"{self.minimum:g} to {self.maximum:g}")
            elif self.minimum is not None:
                parts.append(f"at least {self.minimum:g}")
            if self.integer:
                parts.append("whole number")
        elif self.kind is Kind.ENUM and self.allowed:
            if len(self.allowed) <= 20:
                parts.append("one of " + ", ".join(self.allowed))
            else:
                parts.append(f"one of {len(self.allowed)} codes")
        elif self.max_length is not None:
            lo = self.min_length or 0
            parts.append(f"{lo}-{self.max_length} characters" if lo else
                         f"at most {self.max_length} characters")
        return "; ".join(parts)


# Wire values that reset the two availability dates. The API documents "null
# (recommended)" but not how to send null in a form, so we use the documented
# numeric alternatives: "a date before Jan 1st 1990" and "a date after Jan 19th 2038".
PUBLISH_DATE_RESET = "0"  # 1970-01-01T00:00:00Z
EXPIRY_DATE_RESET = "2147558400"  # 2038-01-20T00:00:00Z

CHANNELS = ("animals", "auto", "creation", "fun", "kids", "lifestyle", "music", "news",
            "people", "school", "shortfilms", "sport", "tech", "travel", "tv",
            "videogames", "webcam")


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes, lower case (the case of the API's own examples)."""
    return tuple(sorted(c.alpha_2.lower() for c in pycountry.countries))


@cache
def language_codes() -> tuple[str, ...]:
    """ISO 639-1 alpha-2 and ISO 639-3 alpha-3 codes, lower case."""
    codes: set[str] = set()
    for lang in pycountry.languages:
        codes.add(lang.alpha_3)
        alpha_2 = getattr(lang, "alpha_2", None)
        if alpha_2:
            codes.add(alpha_2)
    return tuple(sorted(codes))


def _bool(name: str, summary: str, **kw: object) -> FieldSpec:
    return FieldSpec(name, Kind.BOOL, summary, example="true", **kw)  # type: ignore[arg-type]


_WRITABLE: tuple[FieldSpec, ...] = (
    FieldSpec("title", Kind.TEXT, "Title of the video.", min_length=1, max_length=255,
              example="Summer in Lisbon", notes="Cannot be blank."),
    FieldSpec("description", Kind.TEXT, "Description of the video.", max_length=3000,
              clear_wire="", example="A walk through Alfama at dawn."),
    FieldSpec("channel", Kind.ENUM, "Category of the video.", allowed=CHANNELS,
              doubtful=("kids", "shortfilms"), example="travel",
              notes="'kids' and 'shortfilms' are on the edit page but not on the current "
                    "categories page; the API may refuse them."),
    FieldSpec("tags", Kind.LIST, "Tags of the video.", max_items=150, max_length=150,
              clear_wire="", patchable=True, example="travel, lisbon, summer",
              notes="Comma-separated; a tag cannot contain a comma."),
    FieldSpec("hashtags", Kind.LIST, "Hashtags of the video.", max_items=150, max_length=150,
              clear_wire="", patchable=True, example="#travel, #lisbon"),
    FieldSpec("custom_classification", Kind.LIST, "Your own classification values.",
              max_items=3, max_length=150, clear_wire="", patchable=True,
              example="sports, highlights"),
    FieldSpec("language", Kind.ENUM, "Spoken language (ISO 639 alpha-2 or alpha-3 code).",
              allowed=(), example="en", notes="Codes from ISO 639-1 and ISO 639-3."),
    FieldSpec("country", Kind.ENUM, "Country of the video (ISO 3166-1 alpha-2).",
              allowed=(), clear_wire="", example="fr"),
    FieldSpec("geoblocking", Kind.COUNTRY_LIST, "Where the video may be watched.",
              tier=Tier.PRO, clear_wire="allow", patchable=True, example="deny, us, ca",
              notes="Optional first word allow (default) or deny, then ISO 3166-1 alpha-2 "
                    "country codes. [] allows everywhere."),
    _bool("is_created_for_kids", "Made for an audience under 16."),
    _bool("explicit", "Explicit content.", irreversible_true=True,
          notes="Once true it can never be set back to false; needs --allow-irreversible."),
    _bool("private", "Private video (reachable only by its private URL)."),
    _bool("published", "Published (may still be encoding)."),
    _bool("allow_embed", "Can be embedded outside Dailymotion."),
    _bool("allowed_in_playlists", "Can be added to playlists."),
    FieldSpec("password", Kind.TEXT, "Password protecting the video.", max_length=255,
              clear_wire="", sensitive=True, write_only=True,
              notes="[] removes the protection. The value is never echoed in reports."),
    FieldSpec("publish_date", Kind.DATE, "When the video becomes public.", tier=Tier.PRO,
              clear_wire=PUBLISH_DATE_RESET, example="2026-12-01T18:00:00+01:00",
              notes="A private video becomes public at this date. [] resets it."),
    FieldSpec("expiry_date", Kind.DATE, "When the video becomes private again.",
              tier=Tier.PRO, clear_wire=EXPIRY_DATE_RESET, example="2027-06-30",
              notes="By default the video is DELETED after expiry unless "
                    "expiry_date_deletion is false. [] resets it."),
    _bool("expiry_date_availability", "Reachable by private URL after expiry.",
          tier=Tier.PRO),
    _bool("expiry_date_deletion", "Delete the video after expiry.", tier=Tier.PRO,
          notes="Defaults to true on Dailymotion: expired videos are deleted."),
    _bool("publish_date_keep_private", "Stay private when publish_date is reached.",
          tier=Tier.PRO),
    FieldSpec("content_provider", Kind.TEXT, "Content provider name.", max_length=255,
              clear_wire="", notes="Editability is not confirmed by the docs."),
    FieldSpec("content_provider_id", Kind.TEXT, "Content provider's own id.", max_length=255,
              clear_wire="", notes="Editability is not confirmed by the docs."),
    FieldSpec("advertising_custom_target", Kind.TEXT, "Custom advertising target.",
              tier=Tier.PRO, max_length=255, clear_wire=""),
    _bool("advertising_instream_blocked", "Block in-stream ads."),
    FieldSpec("player_next_video", Kind.VIDEO_ID, "Video the player shows next.",
              clear_wire="", example="x8abc12"),
    FieldSpec("player_next_videos", Kind.LIST, "Videos the player shows next.",
              item_kind=ItemKind.VIDEO_ID, max_items=150, clear_wire="",
              example="x8abc12, x8abc13"),
    FieldSpec("thumbnail_url", Kind.URL, "URL of a custom thumbnail (at most 10 MB).",
              example="https://example.com/thumb.jpg",
              notes="Without the permission, Dailymotion silently ignores it."),
    FieldSpec("geoloc", Kind.GEO_POINT, "Where the video was shot: longitude, latitude.",
              example="9.14W, 38.71N",
              notes="Longitude -180..180, latitude -90..90. A bare pair valid in both "
                    "orders (-9.14, 38.71) is refused: hemisphere letters say which is which."),
    FieldSpec("soundtrack_isrc", Kind.TEXT, "ISRC of the soundtrack.", min_length=1,
              max_length=150, clear_wire="", example="FR-6V8-21-83311"),
    FieldSpec("soundtrack_popularity", Kind.NUMBER, "Soundtrack popularity.", minimum=0,
              integer=True, example="100"),
    _bool("stream_altered_with_ai", "The video stream was altered with AI."),
    _bool("ai_chapter_generation_required", "Ask Dailymotion to generate chapters."),
    FieldSpec("ai_subtitle_languages", Kind.LIST, "Languages to generate subtitles in.",
              item_kind=ItemKind.LANGUAGE, clear_wire="", example="en, fr"),
)

_REFUSED: tuple[FieldSpec, ...] = (
    FieldSpec("url", Kind.URL, "Source file of the video.", access=Access.REFUSED,
              refusal="writing url replaces the video file itself (re-encoding, offline for "
                      "minutes, rate-limited); bulkedit only edits metadata. To name videos by "
                      "their page URL, put the URLs in the video_id column"),
    FieldSpec("mode", Kind.ENUM, "Stream mode.", access=Access.REFUSED, allowed=("vod", "live"),
              refusal="the stream mode is set when a video is created; the API does not "
                      "document changing it"),
    FieldSpec("ai_metadata_generation", Kind.BOOL, "Let AI rewrite the metadata.",
              access=Access.REFUSED,
              refusal="it makes Dailymotion overwrite title, description and tags "
                      "asynchronously, which a bulk edit could neither check nor undo"),
)

_LIVE = dict(access=Access.LIVE_ONLY,
             refusal="it applies to live streams only; pass --allow-live-fields to edit it")
_LIVE_ONLY: tuple[FieldSpec, ...] = (
    FieldSpec("start_time", Kind.DATE, "Start of the live stream.", **_LIVE),  # type: ignore[arg-type]
    FieldSpec("end_time", Kind.DATE, "End of the live stream.", **_LIVE),  # type: ignore[arg-type]
    _bool("live_auto_record", "Record the live stream automatically.", **_LIVE),
    FieldSpec("live_backup_video", Kind.VIDEO_ID, "Backup video of the live stream.",
              clear_wire="", **_LIVE),  # type: ignore[arg-type]
    FieldSpec("live_ad_break_launch", Kind.NUMBER, "Ad breaks to launch now.", minimum=0,
              integer=True, **_LIVE),  # type: ignore[arg-type]
    FieldSpec("record_status", Kind.ENUM, "State of the recording.",
              allowed=("starting", "started", "stopping", "stopped"), **_LIVE),  # type: ignore[arg-type]
    FieldSpec("recurrence", Kind.ENUM, "Recurrence of the live stream.",
              allowed=("once", "daily", "weekly"), **_LIVE),  # type: ignore[arg-type]
)

# Readable but server-managed (dailymotion-api.md §2.1). `*` patterns are families.
READ_ONLY_FIELDS: tuple[str, ...] = (
    "id", "private_id", "created_time", "updated_time", "uploaded_time", "status",
    "encoding_progress", "publishing_progress", "duration", "owner", "item_type",
    "media_type", "password_protected", "partner", "verified", "onair", "studio",
    "views_total", "likes_total", "embed_url", "embed_html", "tiny_url", "sprite_url",
    "filmstrip_60_url", "available_formats", "aspect_ratio", "height", "width", "checksum",
    "claim_rule_blocked_countries", "claim_rule_monetized_countries",
    "claim_rule_tracked_countries",
)
_READ_ONLY_PATTERNS = re.compile(
    r"^(views_last_\w+|thumbnail_\d+_url|first_frame_\d+_url|preview_\d+p_url|stream_\w+_url)$")


def _with_codes(spec: FieldSpec) -> FieldSpec:
    if spec.name == "language":
        return FieldSpec(**{**spec.__dict__, "allowed": language_codes()})
    if spec.name == "country":
        return FieldSpec(**{**spec.__dict__, "allowed": country_codes()})
    return spec


FIELDS: dict[str, FieldSpec] = {
    s.name: _with_codes(s) for s in (*_WRITABLE, *_REFUSED, *_LIVE_ONLY)
}

ID_COLUMN = "video_id"
ID_ALIASES = ("video_id", "id", "xid", "video", "url")
# Alternative spellings seen in Dailymotion's own pages.
FIELD_ALIASES = {"allow_embedded": "allow_embed", "category": "channel"}

# What `bulkedit template` puts in a sheet when no --fields are given.
DEFAULT_TEMPLATE_FIELDS = ("title", "description", "tags", "channel", "language", "private",
                           "is_created_for_kids", "publish_date", "geoblocking")


def header_key(header: str) -> str:
    """Headers match case-insensitively, ignoring spaces, underscores and hyphens."""
    return re.sub(r"[\s_\-]+", "", header).lower()


@cache
def _keys() -> dict[str, str]:
    keys = {header_key(name): name for name in FIELDS}
    keys.update({header_key(alias): target for alias, target in FIELD_ALIASES.items()})
    for name in READ_ONLY_FIELDS:
        keys.setdefault(header_key(name), name)
    return keys


def is_read_only(name: str) -> bool:
    return name in READ_ONLY_FIELDS or bool(_READ_ONLY_PATTERNS.match(name))


def resolve_header(header: str) -> str | None:
    """The canonical field name a header means, or None for an unknown header.

    Id aliases are resolved by the loader, which knows the other headers
    (`url` is the id column only when the sheet has no other one).
    """
    key = header_key(header)
    if key in _keys():
        return _keys()[key]
    name = header.strip().lower().replace(" ", "_")
    return name if is_read_only(name) else None


def is_id_alias(header: str) -> bool:
    return header_key(header) in {header_key(a) for a in ID_ALIASES}


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to `word`, for "did you mean" hints."""
    pool = list(choices)
    match = difflib.get_close_matches(word.lower(), pool, n=1, cutoff=0.6)
    if match:
        return match[0]
    keyed = {header_key(c): c for c in pool}
    match = difflib.get_close_matches(header_key(word), list(keyed), n=1, cutoff=0.6)
    return keyed[match[0]] if match else None


def writable_fields() -> list[FieldSpec]:
    return [s for s in FIELDS.values() if s.access is Access.WRITABLE]
