"""Where each sheet version stands in its review, and who may approve or decline it: pure
rules, no I/O (the routes in serve/app.py record and store what they decide).

A version is uploaded, then planned against the live values (a saved plan, by its hash),
then approved or declined once, by an approver, for the exact plan they saw: the form
carries the plan's hash and a plan made since is not the one approved. When [serve]
require_second_person is true, the person who uploaded a version may not decide it. A new
upload of the same sheet (its name) is a new version: it voids an earlier version's
approval, whose saved plan an apply may then no longer use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bulkedit.serve.plan_view import PlanView
from bulkedit.serve.users import APPROVER, User

APPROVE, DECLINE = "approve", "decline"
MAX_COMMENT = 2000  # characters of a decision's comment


@dataclass(frozen=True)
class Planned:
    """A plan made of a version against the live values."""

    by: str
    at: float
    view: PlanView
    sha256: str = ""  # of the saved plan file ("" when it could not be saved: incomplete)
    path: Path | None = None  # the saved plan (`bulkedit plan --save`'s format)
    against: str = ""  # the approved plan's hash, when this plan checks one for drift


@dataclass(frozen=True)
class Decision:
    approved: bool
    by: str
    at: float
    comment: str
    sheet_sha256: str
    plan_sha256: str
    plan: Path | None = None  # approved: the saved plan an apply sends (apply --plan)


@dataclass
class Review:
    plan: Planned | None = None
    check: Planned | None = None  # after approval: the approved plan against live values
    decision: Decision | None = None
    voided_by: int | None = None  # the version whose upload voided the approval
    problem: str = ""  # why the last plan could not be made

    @property
    def stage(self) -> str:
        if self.decision is not None:
            if not self.decision.approved:
                return "declined"
            return "void" if self.voided_by is not None else "approved"
        return "planned" if self.plan is not None else "uploaded"


@dataclass
class Reviews:
    by_version: dict[int, Review] = field(default_factory=dict)

    def of(self, number: int) -> Review:
        return self.by_version.setdefault(number, Review())


def refusal(user: User, uploaded_by: str, review: Review, replaced_by: int | None,
            second_person: bool, plan_sha256: str) -> str | None:
    """Why `user` may not approve or decline this version now (None: they may)."""
    if not user.can(APPROVER):
        return f"{user.name} may not approve or decline: only an approver may ([serve] users)"
    if second_person and user.name == uploaded_by:
        return (f"{user.name} uploaded this version: another approver must decide it "
                "([serve] require_second_person = true)")
    if replaced_by is not None:
        return (f"version {replaced_by} of this sheet was uploaded since: review that one "
                "(a new upload voids this one's approval)")
    if review.decision is not None:
        said = "approved" if review.decision.approved else "declined"
        return f"this version was {said} already, by {review.decision.by}"
    plan = review.plan
    if plan is None or not plan.sha256:
        return "there is no complete plan of this version to decide on: plan it first"
    if plan_sha256 != plan.sha256:
        return ("the plan shown to you is not this version's plan any more (it was made "
                "again since): read the new one and decide on it")
    return None
