"""Server-side reading of an edit's form fields, as the Dailymotion docs describe it.

This is deliberately independent of bulkedit's own sheet grammar (cells.py):
it reads what the API documents on the wire (dailymotion-api.md §1.1, §2):
comma-separated arrays, booleans 0/1/true/false/yes/no, unix timestamps, an
empty value to clear where the docs allow it. Field facts (kinds, limits,
allowed values) come from the shared schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulkedit.core.schema import (
    FIELDS,
    FieldSpec,
    ItemKind,
    Kind,
    Tier,
    country_codes,
    is_read_only,
    language_codes,
)
from bulkedit.sandbox.config import AccountTier, ApiKey

_XID = re.compile(r"^x[0-9a-z]+$")
_INTEGER = re.compile(r"^-?\d+$")
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}
PUBLISH_RESET_BEFORE = 631152000  # 1990-01-01: earlier dates reset publish_date
EXPIRY_RESET_AFTER = 2147483647  # 2038-01-19T03:14:07Z: later dates reset expiry_date
# Form keys that are request options, not fields.
_GLOBAL_PARAMS = {"fields", "localization", "family_filter", "context", "device_filter",
                  "ams_country", "thumbnail_ratio"}


@dataclass
class ApiError(Exception):
    """An error the API answers with the documented body (dailymotion-api.md §4.1)."""

    status: int
    type: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": {"more_info": "https://developer.dailymotion.com/api#error-codes",
                          "code": self.status, "message": self.message, "type": self.type,
                          "error_data": self.data}}


def invalid(param: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message,
                    {"reason": "invalid_parameter", "param": param})


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _value(spec: FieldSpec, raw: str, current: Any) -> Any:
    """The stored value for one form field, or ApiError."""
    name = spec.name
    if raw == "" and spec.kind is not Kind.BOOL:
        if spec.clear_wire is None and spec.kind is not Kind.LIST:
            raise invalid(name, f"`{name}' cannot be empty")
        if spec.kind is Kind.COUNTRY_LIST:
            return ["allow"]
        if spec.kind is Kind.LIST:
            return []
        return "" if name == "description" else None
    if spec.kind is Kind.TEXT:
        if spec.max_length is not None and len(raw) > spec.max_length:
            raise invalid(name, f"`{name}' must be at most {spec.max_length} characters long")
        if name == "title" and not raw.strip():
            raise invalid(name, "`title' cannot be blank")
        return raw
    if spec.kind is Kind.BOOL:
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise invalid(name, f"`{name}' must be a boolean")
    if spec.kind is Kind.ENUM:
        word = raw.strip().lower()
        if word not in spec.allowed:
            raise invalid(name, f"`{name}' must be one of the allowed values")
        return word.upper() if name == "country" else word
    if spec.kind is Kind.DATE:
        if not _INTEGER.match(raw.strip()):
            raise invalid(name, f"`{name}' must be a UNIX timestamp")
        seconds = int(raw)
        if name == "publish_date" and seconds < PUBLISH_RESET_BEFORE:
            return None
        if name == "expiry_date" and seconds > EXPIRY_RESET_AFTER:
            return None
        return seconds
    if spec.kind is Kind.LIST:
        items = _items(raw)
        if spec.max_items is not None and len(items) > spec.max_items:
            raise invalid(name, f"`{name}' accepts at most {spec.max_items} values")
        for item in items:
            if spec.max_length is not None and len(item) > spec.max_length:
                raise invalid(name, f"values of `{name}' must be at most {spec.max_length} "
                                    "characters long")
            if spec.item_kind is ItemKind.LANGUAGE and item.lower() not in language_codes():
                raise invalid(name, f"`{item}' is not a valid language code")
            if spec.item_kind is ItemKind.VIDEO_ID and not _XID.match(item):
                raise invalid(name, f"`{item}' is not a valid video id")
        return items
    if spec.kind is Kind.COUNTRY_LIST:
        items = [i.lower() for i in _items(raw)]
        mode = items.pop(0) if items and items[0] in ("allow", "deny") else "allow"
        for code in items:
            if code not in country_codes():
                raise invalid(name, f"`{code}' is not a valid country code")
        return [mode, *items]
    if spec.kind is Kind.URL:
        if not re.match(r"^https?://\S+$", raw.strip()):
            raise invalid(name, f"`{name}' must be an http or https URL")
        return raw.strip()
    if spec.kind is Kind.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            raise invalid(name, f"`{name}' must be a number") from None
        if not math.isfinite(number) or (spec.integer and not number.is_integer()):
            raise invalid(name, f"`{name}' must be an integer")
        if spec.minimum is not None and number < spec.minimum:
            raise invalid(name, f"`{name}' must be at least {spec.minimum:g}")
        return int(number) if spec.integer else number
    if spec.kind is Kind.GEO_POINT:
        try:
            lon, lat = (float(p) for p in raw.split(","))
        except ValueError:
            raise invalid(name, "`geoloc' must be longitude,latitude") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise invalid(name, "`geoloc' is out of range")
        return [lon, lat]
    if spec.kind is Kind.VIDEO_ID:
        if not _XID.match(raw.strip()):
            raise invalid(name, f"`{name}' must be a video id")
        return raw.strip()
    raise invalid(name, f"`{name}' cannot be written")  # pragma: no cover - every kind above


def read_edit(form: Mapping[str, str], video: dict[str, Any], key: ApiKey,
              accept_doubtful_channels: bool) -> dict[str, Any]:
    """All the changes a form asks for, checked as a whole before any is applied."""
    changes: dict[str, Any] = {}
    for name, raw in form.items():
        if name in _GLOBAL_PARAMS:
            continue
        if is_read_only(name) and name not in FIELDS:
            raise invalid(name, f"`{name}' is a read-only field")
        spec = FIELDS.get(name)
        if spec is None:
            raise invalid(name, f"Unrecognized parameter `{name}'")
        if spec.tier is Tier.PRO and key.tier is not AccountTier.PRO:
            raise ApiError(403, "access_forbidden",
                           f"You must be a Dailymotion Pro to set `{name}'",
                           {"reason": "insufficient_privileges", "param": name})
        value = _value(spec, raw, video.get(name))
        if name == "channel" and not accept_doubtful_channels and value in spec.doubtful:
            raise invalid(name, "`channel' must be one of the allowed values")
        if name == "explicit" and video.get("explicit") and value is False:
            raise invalid(name, "It's not possible to remove the explicit flag once set")
        if name == "thumbnail_url" and not key.can_set_thumbnail:
            continue  # documented: without the permission the thumbnail is not updated
        if name == "url":
            changes["source_url"] = value  # replaces the video file; never the page URL
            continue
        changes[name] = value
    if "password" in changes:
        changes["password_protected"] = bool(changes["password"])
    return changes
