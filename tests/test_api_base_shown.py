"""A refused API base is shown as aiohttp would read it (issue 26, point 9): only a real
user name or password is masked, so the host a message shows is the host the request
would have gone to."""

from __future__ import annotations

import pytest

from bulkedit.core.errors import UsageError
from bulkedit.core.protocol import checked_api_base


@pytest.mark.parametrize(("base", "shown", "hidden"), [
    ("https://evil.example#@api.dailymotion.com", "'https://evil.example#@api.dailymotion.com'",
     None),
    ("https://evil.example?next=@api.dailymotion.com",
     "'https://evil.example?next=@api.dailymotion.com'", None),
    ("https://me:hunter2@api.dailymotion.com", "'https://***@api.dailymotion.com'", "hunter2"),
    ("https://me:hunter2@evil.example#x", "'https://***@evil.example#x'", "hunter2"),
])
def test_a_refused_base_shows_its_real_host(base, shown, hidden):
    with pytest.raises(UsageError) as refused:
        checked_api_base(base)
    said = str(refused.value)
    assert f"API base {shown}" in said
    if hidden is not None:
        assert hidden not in said
