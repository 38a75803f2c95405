"""The sandbox's videos: seeded deterministically, in memory, optionally kept in SQLite."""

from __future__ import annotations

import copy
import json
import random
import sqlite3
import string
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bulkedit.core.schema import CHANNELS

Video = dict[str, Any]

_WORDS = ("sunrise", "market", "harbour", "recipe", "derby", "concert", "interview", "review",
          "trailer", "tutorial", "behind the scenes", "highlights", "live session", "street food",
          "mountain", "election", "startup", "festival", "wildlife", "museum")
_PLACES = ("Lisbon", "Kyoto", "Marseille", "Québec", "Oaxaca", "Tromsø", "Zanzibar", "Porto",
           "Seville", "Hội An", "Reykjavík", "Valparaíso", "Nairobi", "Busan", "Tbilisi")
_LANGUAGES = ("en", "fr", "es", "pt", "ja", "de", "it", "ko", "ar")
_COUNTRIES = ("fr", "us", "gb", "es", "pt", "jp", "ca", "de", "br", "in")
_FIRST_CREATED = 1546300800  # 2019-01-01T00:00:00Z


def base36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def video_id(index: int) -> str:
    """The id of seeded video `index`: x8 + index in base 36 on five characters."""
    return "x8" + base36(index).rjust(5, "0")


def owner_id(index: int) -> str:
    return "x1ch" + base36(index).rjust(3, "0")


def _seed_video(rng: random.Random, index: int, owner: str, created: int) -> Video:
    place = rng.choice(_PLACES)
    topic = rng.choice(_WORDS)
    private = rng.random() < 0.1
    explicit = rng.random() < 0.03
    return {
        "id": video_id(index),
        "owner": owner,
        "title": f"{place}: {topic} #{index}",
        "description": "" if rng.random() < 0.1 else f"{topic.capitalize()} filmed in {place}.",
        "channel": rng.choice([c for c in CHANNELS if c not in ("kids", "shortfilms")]),
        "tags": sorted(set(rng.sample(_WORDS, rng.randint(0, 4)))),
        "hashtags": [],
        "custom_classification": [],
        "language": rng.choice(_LANGUAGES),
        "country": rng.choice(_COUNTRIES).upper() if rng.random() < 0.5 else None,
        "geoblocking": ["allow"] if rng.random() < 0.8 else ["deny", rng.choice(_COUNTRIES)],
        "is_created_for_kids": rng.random() < 0.05,
        "explicit": explicit,
        "private": private,
        "published": True,
        "password": None,
        "allow_embed": True,
        "allowed_in_playlists": True,
        "publish_date": None,
        "expiry_date": None,
        "expiry_date_availability": True,
        "expiry_date_deletion": True,
        "publish_date_keep_private": False,
        "content_provider": None,
        "content_provider_id": None,
        "advertising_custom_target": None,
        "advertising_instream_blocked": False,
        "player_next_video": None,
        "player_next_videos": [],
        "thumbnail_url": f"https://s1.dmcdn.example/{video_id(index)}/x1080",
        "geoloc": None,
        "soundtrack_isrc": None,
        "soundtrack_popularity": None,
        "stream_altered_with_ai": False,
        "ai_chapter_generation_required": False,
        "ai_subtitle_languages": [],
        "mode": "vod",
        "url": f"https://www.dailymotion.com/video/{video_id(index)}",
        "status": "published",
        "item_type": "video",
        "media_type": "video",
        "duration": rng.randint(15, 3600),
        "created_time": created,
        "uploaded_time": created,
        "updated_time": created,
        "private_id": "k" + "".join(rng.choices(string.ascii_letters + string.digits, k=18)),
        "views_total": rng.randint(0, 250_000),
        "likes_total": rng.randint(0, 5_000),
    }


def seed_videos(count: int, owners: int, seed: int) -> list[Video]:
    """`count` videos spread over `owners` channels; about 2 % share a creation second."""
    rng = random.Random(seed)
    owner_ids = [owner_id(i) for i in range(max(owners, 1))]
    created = _FIRST_CREATED
    videos = []
    for index in range(count):
        if index and rng.random() >= 0.02:
            created += rng.randint(1, 20_000)
        videos.append(_seed_video(rng, index, owner_ids[index % len(owner_ids)], created))
    return videos


class VideoStore:
    """Videos by id, and each owner's videos in creation order for list queries."""

    def __init__(self, videos: Iterable[Video], state_file: str | None = None):
        self._videos: dict[str, Video] = {}
        self._db: sqlite3.Connection | None = None
        if state_file is not None:
            self._db = sqlite3.connect(state_file, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS videos (id TEXT PRIMARY KEY, "
                             "data TEXT NOT NULL)")
            stored = self._db.execute("SELECT data FROM videos").fetchall()
            if stored:  # a restart keeps every edit: the file wins over the seed
                videos = [json.loads(row[0]) for row in stored]
                self._videos = {v["id"]: v for v in videos}
            else:
                self._videos = {v["id"]: v for v in videos}
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.executemany("INSERT INTO videos VALUES (?, ?)",
                                         [(i, json.dumps(v)) for i, v in self._videos.items()])
        else:
            self._videos = {v["id"]: v for v in videos}
        self._by_owner: dict[str, list[tuple[int, str]]] = {}
        for video in self._videos.values():
            self._by_owner.setdefault(video["owner"], []).append(
                (video["created_time"], video["id"]))
        for entries in self._by_owner.values():
            entries.sort()

    def __len__(self) -> int:
        return len(self._videos)

    def __contains__(self, video_id: str) -> bool:
        return video_id in self._videos

    def get(self, video_id: str) -> Video | None:
        return self._videos.get(video_id)

    def snapshot(self, video_id: str) -> Video | None:
        """A deep copy, safe to keep and compare."""
        video = self._videos.get(video_id)
        return copy.deepcopy(video) if video is not None else None

    def owners(self) -> list[str]:
        return sorted(self._by_owner)

    def update(self, video_id: str, changes: dict[str, Any]) -> Video:
        video = self._videos[video_id]
        video.update(changes)
        video["updated_time"] = int(time.time())
        if self._db is not None:
            self._db.execute("UPDATE videos SET data = ? WHERE id = ?",
                             (json.dumps(video), video_id))
        return video

    def owner_videos(self, owner: str, created_after: int | None, created_before: int | None,
                     newest_first: bool) -> list[str]:
        """Ids of `owner`'s videos created strictly inside the window."""
        entries = self._by_owner.get(owner, [])
        low = 0 if created_after is None else bisect_right(entries, (created_after, "\uffff"))
        high = (len(entries) if created_before is None
                else bisect_left(entries, (created_before, "")))
        ids = [video_id for _, video_id in entries[low:high]]
        return ids[::-1] if newest_first else ids

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def open_store(videos: int, owners: int, seed: int, state_file: str | None) -> VideoStore:
    if state_file is not None:
        Path(state_file).parent.mkdir(parents=True, exist_ok=True)
    return VideoStore(seed_videos(videos, owners, seed), state_file)
