"""Building requests and reading responses, with recorded bodies and plain values."""

from __future__ import annotations

import json
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
