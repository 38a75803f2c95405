"""`bulkedit serve`'s users: named in [serve], each with roles, signed in by a link whose
token the server keeps only as a digest."""

from __future__ import annotations

import pytest

from bulkedit.core.errors import UsageError
from bulkedit.serve.users import APPROVER, EDITOR, Keys, users_from


def test_without_users_the_one_running_it_is_editor_and_approver():
    (only,) = users_from(None)
    assert only.roles == {EDITOR, APPROVER}


@pytest.mark.parametrize(("entries", "said"), [
    ([{"name": "ana", "roles": ["editor"], "token": "x"}], "unknown key(s) token"),
    ([{"name": "ana", "roles": ["boss"]}], "roles is a list of editor and approver"),
    ([{"name": "ana", "roles": []}], "roles is a list"),
    ([{"name": "a b", "roles": ["editor"]}], "name must be"),
    ([{"name": "ana", "roles": ["editor"]}, {"name": "ana", "roles": ["approver"]}],
     "named twice"),
])
def test_a_wrong_user_entry_is_one_line_naming_the_file(entries, said):
    with pytest.raises(UsageError, match=r"bulkedit\.toml: \[serve\] users, entry") as caught:
        users_from(entries, "bulkedit.toml")
    assert said in str(caught.value)


def test_tokens_are_random_and_kept_only_as_digests():
    keys = Keys(users_from([{"name": "ana", "roles": ["editor"]},
                            {"name": "ben", "roles": ["approver"]}]))
    tokens = {link.user.name: link.token for link in keys.links}
    assert len(set(tokens.values())) == 2 and all(len(t) >= 43 for t in tokens.values())
    keys.forget_links()
    assert not any(t in repr(vars(keys)) for t in tokens.values())
    assert keys.user_of_token(tokens["ben"]).name == "ben"
    assert keys.user_of_token(tokens["ben"] + "x") is None
    session = keys.open_session(keys.user_of_token(tokens["ana"]))
    assert session not in repr(vars(keys))
    assert keys.user_of_session(session).name == "ana"
    assert keys.user_of_session(tokens["ana"]) is None  # a token is not a session
