"""Sandbox settings: accounts, limits and faults. Every fault is off by default."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from bulkedit.sandbox.store import owner_id


class AccountTier(StrEnum):
    PRO = "pro"  # may set Pro / verified-partner fields (geoblocking, publish_date, …)
    STANDARD = "standard"


ALL_SCOPES = ("manage_videos", "manage_players", "manage_playlists", "manage_subtitles",
              "email", "userinfo")


@dataclass(frozen=True)
class ApiKey:
    """A private API key and what it may do."""

    key: str
    secret: str
    tier: AccountTier = AccountTier.PRO
    scopes: tuple[str, ...] = ALL_SCOPES
    # Channels (owners) whose videos the key may edit; empty = every channel.
    owners: tuple[str, ...] = ()
    # Dailymotion silently ignores thumbnail_url without this permission.
    can_set_thumbnail: bool = False
    # This key's own requests per second (over a sliding 1 s window), instead of the
    # sandbox's `rate`: accounts differ in what they are allowed (issue 30).
    rate: float | None = None
    # A name for the account, shown in the banner and used by `accounts(n)`.
    account: str = ""


def accounts(count: int, owners: int) -> tuple[ApiKey, ...]:
    """`count` partner accounts, each with its own key and its own channels: channel i
    belongs to account i % count (the sandbox's owners are x1ch000, x1ch001, …), as
    brands of one media group each hold their own. Keys and secrets are public sandbox
    values (`sandbox-key-1`, `sandbox-secret-1`, …)."""
    return tuple(ApiKey(f"sandbox-key-{n + 1}", f"sandbox-secret-{n + 1}",
                        owners=tuple(owner_id(i) for i in range(owners) if i % count == n),
                        account=f"account{n + 1}")
                 for n in range(count))


DEFAULT_KEY = ApiKey("sandbox-api-key", "sandbox-api-secret")


@dataclass
class SandboxConfig:
    videos: int = 1000
    seed: int = 1
    owners: int = 5
    keys: tuple[ApiKey, ...] = (DEFAULT_KEY,)
    token_lifetime: float = 36000.0  # seconds; the docs' example value
    # Limits of the API that the documentation leaves open (dailymotion-api.md §11).
    max_ids: int = 100  # ids per GET /videos
    max_limit: int = 100  # items per page
    max_page: int = 100
    result_cap: int = 1000  # results per list query
    accept_doubtful_channels: bool = True  # 'kids' and 'shortfilms'
    # Rate limiting, per token. The client is never told the limit (no X-RateLimit-*
    # headers, as far as the docs say): `--rate auto` must find it.
    rate: float | None = None  # requests per second, over a sliding 1 s window
    # The limit changing as the run goes: ((seconds since the first /rest request, rate),
    # ...), e.g. parse_schedule("0:40,60:15,120:40"). It replaces `rate`.
    rate_schedule: tuple[tuple[float, float], ...] = ()
    # An API that slows down instead of refusing: it serves this many requests per second
    # and queues the rest, so latency grows with the load above it (the knee).
    slow_above: float | None = None
    hourly_quota: int | None = None
    # A fixed window quota: `window_quota` requests per `window_seconds`, counted from the
    # first /rest request; spent, every request is refused until the window turns (with
    # Retry-After to its end when `retry_after_header`).
    window_quota: int | None = None
    window_seconds: float = 1.0
    # A token bucket: `bucket_burst` requests at once, refilled at `bucket_refill` a second.
    bucket_burst: int | None = None
    bucket_refill: float = 1.0
    retry_after_header: bool = True
    rate_limit_status: int = 429  # 403 to answer like "denied due to spam activity"
    # What a rate limit counts: each token apart ("token"), or every token of one key
    # together ("key"; a new token does not reset it). The docs say neither.
    limit_scope: str = "token"
    # Faults, drawn from a random generator seeded by `fault_seed`.
    latency: float = 0.0  # seconds added to every /rest request
    jitter: float = 0.0  # up to this many more seconds, uniformly
    fail_rate: float = 0.0  # share of /rest requests answered 500/502/503
    throttle_rate: float = 0.0  # share answered 429 at random, whatever the rate
    timeout_rate: float = 0.0  # share held for `hold_seconds` (past the client's timeout)
    drop_rate: float = 0.0  # share whose connection is closed without an answer
    hold_seconds: float = 30.0
    fault_seed: int = 7
    faults_on_token_endpoint: bool = False
    state_file: str | None = None  # SQLite file that keeps every edit across restarts
    extra_keys: list[ApiKey] = field(default_factory=list)
    # Realism knobs: what the docs leave open, one knob each (issue 15). The defaults are
    # the kind reading; `strict()` turns each to its harshest plausible value, and the
    # client must survive every setting.
    unreadable_fields: tuple[str, ...] = ()  # named in `fields=`: 400 naming the field
    hide_private_in_listings: bool = False  # ids= leaves out private videos (GET reads them)
    truncate_ids: bool = False  # ids= over max_ids silently cut, instead of a 400
    throttle_as_plain_403: bool = False  # over the rate: 403, a plain message, no Retry-After
    embed_wire_name: str = "both"  # "allow_embed", "allow_embedded" or "both" accepted
    refuse_empty_clears: bool = False  # an empty value to clear a text field: 400

    def all_keys(self) -> dict[str, ApiKey]:
        return {k.key: k for k in (*self.keys, *self.extra_keys)}

    @classmethod
    def strict(cls, **overrides: object) -> SandboxConfig:
        """Every doubtful knob at its harshest plausible value (`--profile strict`)."""
        harsh: dict[str, object] = {
            "unreadable_fields": STRICT_UNREADABLE, "hide_private_in_listings": True,
            "truncate_ids": True, "throttle_as_plain_403": True,
            "embed_wire_name": "allow_embedded", "refuse_empty_clears": True,
            "retry_after_header": False}
        return cls(**{**harsh, **overrides})  # type: ignore[arg-type]


def parse_schedule(text: str) -> tuple[tuple[float, float], ...]:
    """"0:40,60:15,120:40" -> ((0, 40), (60, 15), (120, 40)): from each moment (seconds
    since the first /rest request), that many requests per second."""
    points = []
    for part in text.split(","):
        moment, _, rate = part.strip().partition(":")
        try:
            point = (float(moment), float(rate))
        except ValueError:
            raise ValueError(f"rate schedule {text!r}: write SECONDS:RATE pairs separated by "
                             "commas, like 0:40,60:15,120:40") from None
        if not (math.isfinite(point[0]) and math.isfinite(point[1])) or (
                point[0] < 0 or point[1] <= 0):
            raise ValueError(f"rate schedule {text!r}: moments are 0 or more, rates more "
                             "than 0, both finite numbers")
        points.append(point)
    points.sort()
    if len({moment for moment, _ in points}) < len(points):
        raise ValueError(f"rate schedule {text!r}: a moment is given twice")
    if points[0][0] != 0:
        raise ValueError(f"rate schedule {text!r}: the first pair starts at 0")
    return tuple(points)


def scheduled_rate(schedule: tuple[tuple[float, float], ...], elapsed: float) -> float:
    current = schedule[0][1]
    for moment, rate in schedule:
        if elapsed >= moment:
            current = rate
    return current


# Fields the partner API may refuse to read for a key (the docs mark some "Scope:
# private"; nothing says which a partner key reads): the strict profile refuses these.
STRICT_UNREADABLE = ("expiry_date_deletion", "soundtrack_isrc")
PROFILE_KNOBS = ("unreadable_fields", "hide_private_in_listings", "truncate_ids",
                 "throttle_as_plain_403", "embed_wire_name", "refuse_empty_clears")
