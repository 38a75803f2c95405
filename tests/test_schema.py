"""The field schema: every documented field, and deliberate handling of dangerous ones."""

from __future__ import annotations

from bulkedit.core.schema import (
    FIELDS,
    Access,
    Kind,
    Tier,
    country_codes,
    header_key,
    language_codes,
    resolve_header,
)

# dailymotion-api.md §2: the writable fields.
DOCUMENTED_WRITABLE = {
    "title", "description", "channel", "tags", "hashtags", "language", "country",
    "is_created_for_kids", "explicit", "private", "published", "password", "allow_embed",
    "allowed_in_playlists", "geoblocking", "publish_date", "expiry_date",
    "expiry_date_availability", "expiry_date_deletion", "publish_date_keep_private",
    "custom_classification", "content_provider", "content_provider_id",
    "advertising_custom_target", "advertising_instream_blocked", "player_next_video",
    "player_next_videos", "thumbnail_url", "url", "geoloc", "mode", "soundtrack_isrc",
    "soundtrack_popularity", "ai_chapter_generation_required", "ai_metadata_generation",
    "ai_subtitle_languages", "stream_altered_with_ai", "start_time", "end_time",
    "live_auto_record", "live_backup_video", "live_ad_break_launch", "record_status",
    "recurrence",
}


def test_every_documented_field_is_known():
    assert set(FIELDS) == DOCUMENTED_WRITABLE


def test_every_kind_is_used():
    assert {s.kind for s in FIELDS.values()} == set(Kind)


def test_dangerous_fields_are_handled_deliberately():
    assert FIELDS["url"].access is Access.REFUSED and "video file" in FIELDS["url"].refusal
    assert FIELDS["ai_metadata_generation"].access is Access.REFUSED
    assert FIELDS["explicit"].irreversible_true
    live = {n for n, s in FIELDS.items() if s.access is Access.LIVE_ONLY}
    assert live == {"start_time", "end_time", "live_auto_record", "live_backup_video",
                    "live_ad_break_launch", "record_status", "recurrence"}


def test_pro_only_fields():
    pro = {n for n, s in FIELDS.items() if s.tier is Tier.PRO}
    assert {"geoblocking", "publish_date", "expiry_date", "expiry_date_deletion"} <= pro
    assert "title" not in pro


def test_limits_from_the_docs():
    assert FIELDS["title"].max_length == 255
    assert FIELDS["description"].max_length == 3000
    assert FIELDS["custom_classification"].max_items == 3
    assert not FIELDS["title"].clearable and FIELDS["description"].clearable


def test_codes_come_from_the_iso_library():
    assert len(country_codes()) >= 249 and "fr" in country_codes() and "uk" not in country_codes()
    assert {"en", "eng", "fra", "yue"} <= set(language_codes())


def test_headers_match_loosely_and_read_only_fields_are_known():
    assert header_key(" Is Created For Kids ") == "iscreatedforkids"
    assert resolve_header("Is Created For Kids") == "is_created_for_kids"
    assert resolve_header("ALLOW-EMBEDDED") == "allow_embed"
    assert resolve_header("duration") == "duration"
    assert resolve_header("views_last_week") == "views_last_week"
    assert resolve_header("thumbnail_720_url") == "thumbnail_720_url"
    assert resolve_header("colour") is None


def test_the_limits_in_words_that_templates_and_messages_show():
    from bulkedit.core.schema import FIELDS

    words = {name: FIELDS[name].limits() for name in (
        "title", "tags", "player_next_videos", "ai_subtitle_languages", "channel",
        "language", "soundtrack_popularity", "password", "private")}
    assert words == {
        "title": "1-255 characters",
        "tags": "at most 150 items; each at most 150 characters",
        "player_next_videos": "at most 150 items; each a video id",
        "ai_subtitle_languages": "each a language",
        "channel": "one of " + ", ".join(FIELDS["channel"].allowed),
        "language": f"one of {len(FIELDS['language'].allowed)} codes",
        "soundtrack_popularity": "at least 0; whole number",
        "password": "at most 255 characters",
        "private": ""}
    assert len(FIELDS["channel"].allowed) <= 20 < len(FIELDS["language"].allowed)


def test_a_number_between_two_bounds_says_both():
    from bulkedit.core.schema import FieldSpec, Kind

    spec = FieldSpec("ratio", Kind.NUMBER, "A share.", minimum=0, maximum=1)
    assert spec.limits() == "0 to 1"
    assert FieldSpec("n", Kind.NUMBER, "A count.", minimum=1, integer=True).limits() == (
        "at least 1; whole number")


def test_secrets_are_masked_and_an_empty_cell_stays_empty():
    from bulkedit.core.schema import FIELDS, MASK

    assert FIELDS["password"].sensitive and FIELDS["password"].shown("hunter2") == MASK
    assert FIELDS["password"].shown("") == ""
    assert not FIELDS["title"].sensitive and FIELDS["title"].shown("Hello") == "Hello"


def test_only_writable_fields_are_offered_and_near_misses_get_a_hint():
    from bulkedit.core.schema import FIELDS, suggest, writable_fields

    offered = {spec.name for spec in writable_fields()}
    assert "title" in offered and "url" not in offered  # url re-encodes: not a bulk edit
    assert all(FIELDS[name].writable for name in offered)
    assert not any(spec.writable for spec in FIELDS.values() if spec.name not in offered)
    assert suggest("titel", ["title", "tags"]) == "title"
    assert suggest("Publish-Date", ["publish_date", "title"]) == "publish_date"
    assert suggest("zzzz", ["title", "tags"]) is None


def test_geoblocking_is_cleared_by_allow_not_by_an_empty_value():
    from bulkedit.core.protocol import edit_form
    from bulkedit.core.schema import FIELDS
    from bulkedit.core.types import CLEAR

    # "allow" with no country is documented to mean everywhere (dailymotion-api.md §2)
    assert edit_form({"geoblocking": CLEAR}) == {"geoblocking": "allow"}
    assert FIELDS["hashtags"].patchable and FIELDS["geoblocking"].patchable
    assert not FIELDS["player_next_videos"].patchable


def test_read_only_headers_are_recognised_as_such_not_as_unknown():
    from bulkedit.core.schema import is_read_only, resolve_header

    assert resolve_header("Created Time") == "created_time"  # known, so it can be refused
    assert is_read_only(resolve_header("Created Time"))  # as read-only, not as a typo
    assert resolve_header("Titel") is None
    # Spelled as headers are (hyphens, no separator, any case): still the read-only field.
    assert resolve_header("Views-Total") == "views_total"
    assert resolve_header("CreatedTime") == "created_time"


def test_a_suggestion_is_found_through_the_header_spelling_too():
    from bulkedit.core.schema import suggest

    assert suggest("video id", ["VIDEO_ID", "TITLE"]) == "VIDEO_ID"  # _ and case differ


def test_the_enum_words_list_up_to_twenty_values():
    from bulkedit.core.schema import FieldSpec, Kind

    twenty = tuple(f"v{i:02d}" for i in range(20))
    assert FieldSpec("e", Kind.ENUM, "E.", allowed=twenty).limits() == (
        "one of " + ", ".join(twenty))
    assert FieldSpec("e", Kind.ENUM, "E.", allowed=(*twenty, "v20")).limits() == (
        "one of 21 codes")


def test_a_read_only_header_is_known_whatever_its_spaces_and_case():
    from bulkedit.core.schema import resolve_header

    for header in (" Views Last Week ", "views_last_week", "  thumbnail_720_url", "Duration "):
        assert resolve_header(header) in ("views_last_week", "thumbnail_720_url", "duration")
    assert resolve_header(" Views Last Week ") == "views_last_week"
    assert resolve_header("  thumbnail_720_url") == "thumbnail_720_url"
