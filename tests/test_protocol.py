"""Building requests and reading responses, with recorded bodies and plain values."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from bulkedit.core import protocol
from bulkedit.core.errors import (
    CredentialsRejected,
    PermanentError,
    RateLimited,
    ServerError,
    TokenRejected,
    TransientError,
    UsageError,
)
from bulkedit.core.types import CLEAR

NOT_FOUND = json.dumps({"error": {
    "more_info": "https://developer.dailymotion.com/api#error-codes", "code": 404,
    "message": "Can't find object video for `id' parameter", "type": "not_found",
    "error_data": {"reason": "object_not_found", "object_type": "video",
                   "object_id": "xnotfound", "param": "id"}}}).encode()
INVALID_CHANNEL = json.dumps({"error": {
    "code": 400, "message": "`channel' must be one of the allowed values",
    "type": "invalid_parameter", "error_data": {"param": "channel"}}}).encode()
NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def form(request: protocol.HttpRequest) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode(), keep_blank_values=True))


def test_token_request_is_form_encoded_client_credentials():
    request = protocol.token_request("key", "s3cret&=", ["manage_videos"])
    assert (request.method, request.path, request.authenticated) == (
        "POST", "/oauth/v1/token", False)
    assert request.content_type == "application/x-www-form-urlencoded"
    assert form(request) == {"grant_type": "client_credentials", "client_id": "key",
                             "client_secret": "s3cret&=", "scope": "manage_videos"}


def test_edit_request_encodes_every_kind():
    values = {"title": "Été à Lisbon & co", "tags": ("summer", "lisbon"), "private": True,
              "publish_date": 1796144400, "geoblocking": ("deny", "us", "ca"),
              "geoloc": (-9.14, 38.71), "soundtrack_popularity": 7, "description": CLEAR,
              "expiry_date": CLEAR}
    request = protocol.edit_request("x8abc12", protocol.edit_form(values), ["title"])
    assert (request.method, request.path) == ("POST", "/rest/video/x8abc12")
    assert request.query == (("fields", "id,title"),)
    assert form(request) == {
        "title": "Été à Lisbon & co", "tags": "summer,lisbon", "private": "true",
        "publish_date": "1796144400", "geoblocking": "deny,us,ca", "geoloc": "-9.14,38.71",
        "soundtrack_popularity": "7", "description": "", "expiry_date": "2147558400"}


def test_clear_of_an_uncleareable_field_is_refused():
    with pytest.raises(ValueError, match="title cannot be cleared"):
        protocol.edit_form({"title": CLEAR})


def test_read_videos_request():
    request = protocol.read_videos_request(["x1a", "x2b"], ["title", "tags"])
    assert dict(request.query) == {"ids": "x1a,x2b", "fields": "id,title,tags", "limit": "2",
                                   "family_filter": "false"}


def test_success_is_decoded():
    assert protocol.parse_response(200, {}, b'{"id": "x1"}') == {"id": "x1"}


def test_not_found_and_invalid_parameter_are_permanent():
    with pytest.raises(PermanentError) as caught:
        protocol.parse_response(404, {}, NOT_FOUND)
    assert (caught.value.status, caught.value.type, caught.value.param) == (404, "not_found",
                                                                           "id")
    assert str(caught.value) == "Can't find object video for `id' parameter"
    with pytest.raises(PermanentError) as caught:
        protocol.parse_response(400, {}, INVALID_CHANNEL)
    assert caught.value.param == "channel" and caught.value.error_class == "permanent"


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "Sat, 28 Nov 2026 12:00:30 GMT"}, 30.0),
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_rate_limited_with_retry_after(headers, expected):
    with pytest.raises(RateLimited) as caught:
        protocol.parse_response(429, headers, b'{"error": {"type": "rate_limit_exceeded"}}', NOW)
    assert caught.value.retry_after == expected
    assert isinstance(caught.value, TransientError)


def test_a_403_about_spam_is_a_rate_limit():
    body = json.dumps({"error": {"code": 403, "type": "access_forbidden",
                                 "message": "Request denied due to spam activity"}}).encode()
    with pytest.raises(RateLimited):
        protocol.parse_response(403, {"Retry-After": "2"}, body, NOW)
    body = json.dumps({"error": {"code": 403, "type": "access_forbidden",
                                 "message": "You must be a Dailymotion Pro"}}).encode()
    with pytest.raises(PermanentError):
        protocol.parse_response(403, {}, body, NOW)


@pytest.mark.parametrize("status,body", [
    (500, b'{"error": {"code": 500, "type": "server_error", "message": "oops"}}'),
    (502, b"<html><body>502 Bad Gateway</body></html>"),
    (503, b""),
    (200, b"<html>maintenance</html>"),
])
def test_server_trouble_is_transient(status, body):
    with pytest.raises(ServerError):
        protocol.parse_response(status, {}, body)


def test_expired_and_invalid_tokens():
    with pytest.raises(TokenRejected) as caught:
        protocol.parse_response(401, {"WWW-Authenticate": 'Bearer error="expired_token"'}, b"")
    assert caught.value.type == "expired_token" and caught.value.error_class == "auth"
    with pytest.raises(TokenRejected) as caught:
        protocol.parse_response(401, {}, b'{"error": {"type": "invalid_token"}}')
    assert caught.value.type == "invalid_token"


def test_token_response():
    token = protocol.parse_token_response(
        200, {}, b'{"access_token": "abc", "token_type": "Bearer", "expires_in": 36000}')
    assert (token.value, token.expires_in) == ("abc", 36000.0)
    assert "abc" not in repr(token)
    with pytest.raises(CredentialsRejected, match="DAILYMOTION_API_KEY"):
        protocol.parse_token_response(401, {}, b'{"error": "invalid_client"}')
    with pytest.raises(ServerError):
        protocol.parse_token_response(503, {}, b"")
    with pytest.raises(ServerError):
        protocol.parse_token_response(200, {}, b'{"token_type": "Bearer"}')


# ----------------------------------------------------------------------------- issue 17
# What the protocol's one-line slips would change, each as a user would meet it.


@pytest.mark.parametrize(("base", "allowed", "expected"), [
    ("http://127.0.0.1:8642/", (), "http://127.0.0.1:8642"),
    (" https://partner.api.dailymotion.com ", (), "https://partner.api.dailymotion.com"),
    ("https://API.example.com/", ("api.example.com",), "https://API.example.com"),
    ("http://[::1]:8000", (), "http://[::1]:8000"),
    ("https://api.dailymotion.com/", (), "https://api.dailymotion.com"),  # both API hosts
    ("https://partner.example.com", (" Partner.Example.com ",), "https://partner.example.com"),
])
def test_api_bases_that_are_accepted(base, allowed, expected):
    assert protocol.checked_api_base(base, allowed) == expected


@pytest.mark.parametrize(("base", "allowed", "words"), [
    ("ftp://127.0.0.1", (), "is not a URL like"),
    ("http://", (), "is not a URL like"),
    ("http://127.0.0.1 :80", (), "is not a URL like"),
    ("http://[::1]evil", (), "is not a URL like"),
    ("http://127.0.0.1/re st", (), "is not a URL like"),  # a space past the host
    ("http://127.0.0.1/a\x07", (), "is not a URL like"),
    ("http://user@127.0.0.1", (), "user name or password"),
    ("http://:pw@127.0.0.1", (), "user name or password"),
    ("http://127.0.0.1/?a=1", (), "has a query or fragment; give the bare URL"),
    ("http://127.0.0.1/#x", (), "query or fragment"),
    ("http://localhost:8642", (), "write 127.0.0.1"),
    ("http://api.example.com", ("api.example.com",), "plain http to another machine"),
    ("https://api.example.com", (), "--allow-api-host api.example.com"),
    ("https://api.example.com", ("other.example.com",), "is not a Dailymotion API host"),
])
def test_api_bases_that_are_refused_and_why(base, allowed, words):
    with pytest.raises(UsageError, match=re.escape(words)):
        protocol.checked_api_base(base, allowed)


def test_a_refused_api_base_is_shown_short_and_without_its_password():
    with pytest.raises(UsageError) as caught:
        protocol.checked_api_base("http://me:hunter2@" + "a" * 300 + ".example.com")
    text = str(caught.value)
    assert "hunter2" not in text and "***@" in text and "…" in text
    assert len(text) < 400
    with pytest.raises(UsageError, match=re.escape("http://plain.example.com'")) as plain:
        protocol.checked_api_base("http://plain.example.com")
    assert "127.0.0.1" not in str(plain.value)  # the localhost hint is for localhost only


def test_the_owner_listing_asks_for_exactly_what_it_is_told():
    request = protocol.owner_videos_request("me", ["title"], page=3, limit=50,
                                            created_after=10, created_before=20, private=True)
    assert request.path == "/rest/me/videos"
    assert dict(request.query) == {"fields": "id,title", "limit": "50", "page": "3",
                                   "sort": "recent", "family_filter": "false",
                                   "created_after": "10", "created_before": "20",
                                   "private": "true"}
    public = protocol.owner_videos_request("x2owner", ["title"], private=False)
    assert public.path == "/rest/user/x2owner/videos"
    assert dict(public.query)["private"] == "false"
    assert dict(public.query)["page"] == "1" and dict(public.query)["limit"] == "100"
    assert "private" not in dict(protocol.owner_videos_request("me", []).query)
    assert "created_after" not in dict(protocol.owner_videos_request("me", []).query)
    assert public.target == ("/rest/user/x2owner/videos?fields=id%2Ctitle&limit=100&page=1"
                             "&sort=recent&family_filter=false&private=false")
    bare = protocol.HttpRequest("GET", "/rest/video/x1")
    assert bare.target == "/rest/video/x1" and bare.authenticated


def test_a_403_whose_type_says_rate_is_a_rate_limit_even_if_its_message_does_not():
    body = json.dumps({"error": {"code": 403, "type": "rate_limit_exceeded",
                                 "message": "Forbidden"}}).encode()
    with pytest.raises(RateLimited) as caught:
        protocol.parse_response(403, {"Retry-After": "4"}, body)
    assert caught.value.status == 403 and caught.value.retry_after == 4
    plain = json.dumps({"error": {"code": 403, "type": "access_forbidden",
                                  "message": "Forbidden"}}).encode()
    with pytest.raises(PermanentError):
        protocol.parse_response(403, {}, plain)


def test_a_4xx_that_is_not_json_is_a_server_fault_not_the_row_s():
    with pytest.raises(ServerError, match="HTTP 404"):
        protocol.parse_response(404, {}, b"<html>Not Found</html>")
    with pytest.raises(PermanentError, match=r"refused the request \(HTTP 404\)"):
        protocol.parse_response(404, {}, b'{"error": {"type": "not_found"}}')
    with pytest.raises(ServerError):
        protocol.parse_response(200, {}, b"<html>ok?</html>")  # 2xx but not JSON
    assert protocol.parse_response(204, {}, b"") is None
    with pytest.raises(ServerError):  # 3xx is no success
        protocol.parse_response(302, {}, b"")


def test_oauth_style_errors_and_401_reasons():
    with pytest.raises(TokenRejected) as caught:
        protocol.parse_response(401, {}, b'{"error": "invalid_token"}')
    assert caught.value.type == "invalid_token" and str(caught.value) == "invalid_token"
    with pytest.raises(TokenRejected) as bare:
        protocol.parse_response(401, {}, b"")
    assert bare.value.type == "invalid_token" and "invalid_token" in str(bare.value)
    with pytest.raises(RateLimited, match=r"rate limited \(429\)"):
        protocol.parse_response(429, {}, b"")


def test_a_token_without_a_lifetime_lives_an_hour_not_zero_seconds():
    for body in (b'{"access_token": "abc"}', b'{"access_token": "abc", "expires_in": null}',
                 b'{"access_token": "abc", "expires_in": "soon"}'):
        assert protocol.parse_token_response(200, {}, body).expires_in == 3600.0
    assert protocol.parse_token_response(
        200, {}, b'{"access_token": "abc", "expires_in": 0.5}').expires_in == 0.5


def test_a_refused_key_names_the_refusal():
    with pytest.raises(CredentialsRejected, match=r"\(invalid_client\)"):
        protocol.parse_token_response(400, {}, b'{"error": "invalid_client"}')
    with pytest.raises(CredentialsRejected, match=r"\(400\)"):
        protocol.parse_token_response(400, {}, b'{}')


def test_a_read_refused_for_one_field_names_that_field():
    unreadable = PermanentError("Access to field `soundtrack_isrc' is not allowed",
                                status=400)
    assert protocol.refused_read_field(unreadable, ["title", "soundtrack_isrc"]) == (
        "soundtrack_isrc")
    assert protocol.refused_read_field(unreadable, ["title"]) is None  # not one we asked
    forbidden = PermanentError("Access to field `soundtrack_isrc' is not allowed",
                               status=403)
    assert protocol.refused_read_field(forbidden, ["soundtrack_isrc"]) is None


def test_an_edit_refused_for_an_unknown_name_names_the_field():
    by_param = PermanentError("Unrecognized parameter", status=400, param="allow_embed")
    assert protocol.refused_write_field(by_param, ["title", "allow_embed"]) == "allow_embed"
    by_message = PermanentError("Unknown field `allow_embed'", status=400)
    assert protocol.refused_write_field(by_message, ["allow_embed"]) == "allow_embed"
    assert protocol.refused_write_field(by_message, ["title"]) is None
    invalid_value = PermanentError("Invalid value for `title'", status=400, param="title")
    assert protocol.refused_write_field(invalid_value, ["title"]) is None  # the row's value
    not_400 = PermanentError("Unknown field `allow_embed'", status=403)
    assert protocol.refused_write_field(not_400, ["allow_embed"]) is None


def test_reads_of_one_video_and_of_a_batch():
    one = protocol.read_video_request("x7zq1a", ["title"])
    assert (one.method, one.path, one.query) == ("GET", "/rest/video/x7zq1a",
                                                 (("fields", "id,title"),))
    assert protocol.read_video_request("x/../y", []).path == "/rest/video/x%2F..%2Fy"
    batch = protocol.read_videos_request(["x1", "x2", "x3"], ["title"])
    assert dict(batch.query)["limit"] == "3" and dict(batch.query)["ids"] == "x1,x2,x3"
    assert dict(protocol.read_videos_request([], []).query)["limit"] == "1"


def test_retry_after_as_a_date_and_the_status_range_of_success():
    from bulkedit.core.protocol import parse_retry_after

    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 29 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 29 Nov 2026 11:59:00 GMT", now) == 0.0  # in the past
    assert protocol.parse_response(299, {}, b'{"ok": 1}') == {"ok": 1}
    with pytest.raises(PermanentError):  # 300 is no success
        protocol.parse_response(300, {}, b'{"ok": 1}')


# ------------------------------------------------ edges a mutation run showed unpinned (#17)

def test_a_refused_api_base_of_200_characters_is_shown_whole_and_a_longer_one_cut():
    exact = "ftp://" + "a" * 194
    with pytest.raises(UsageError) as caught:
        protocol.checked_api_base(exact)
    assert f"'{exact}'" in str(caught.value) and "…" not in str(caught.value)
    with pytest.raises(UsageError) as caught:
        protocol.checked_api_base(exact + "b")
    assert f"'{exact}…'" in str(caught.value)


def test_a_retry_after_date_without_a_zone_is_utc():
    from bulkedit.core.protocol import parse_retry_after

    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 29 Nov 2026 12:00:30 -0000", now) == 30.0


def test_a_refused_token_is_a_401():
    with pytest.raises(TokenRejected) as caught:
        protocol.parse_response(401, {}, b"")
    assert caught.value.status == 401 and caught.value.type == "invalid_token"
