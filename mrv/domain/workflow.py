"""The report revision workflow, in one table: which action moves a revision from which status to which.

::

    draft ──submit──▶ submitted ──start_checks──▶ checks_running
                          │                             │
                          └──────finish_checks──────────┴──▶ in_verification ──verify──▶ verified
                                                                     └─────────return──▶ returned
                                                        (a monthly deposit: accept ──▶ verified,
                                                         return ──▶ returned, by the regulator)

A monthly report (a deposit) may be settled by the competent authority instead of a verification
body: ``accept`` moves it to ``verified`` (its figures then count as a verified revision's do) and
``return`` to ``returned``, the same moves as a verifier's opinion, so the database trigger needs no
change; the review itself is a ``DepositReview`` row (mrv/services/deposits.py).

A returned or verified revision is corrected by ``revise`` (a new draft revision beside it); only a
draft is edited or deleted. The services ask this module before they change a revision and answer an
illegal move with a 409 problem document saying what the revision allows. The database trigger of
migration 0003 stays as the backstop: its own copy of the moves out of a submitted status (a migration
is frozen) allows every move below, so it never refuses what the services allow
(tests/mrv/test_workflow.py checks both).
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT = "draft"
SUBMITTED = "submitted"
CHECKS_RUNNING = "checks_running"
IN_VERIFICATION = "in_verification"
VERIFIED = "verified"
RETURNED = "returned"
#: Every status of a revision, in workflow order (the model's choices are these).
STATUSES = (DRAFT, SUBMITTED, CHECKS_RUNNING, IN_VERIFICATION, VERIFIED, RETURNED)


@dataclass(frozen=True)
class Move:
    action: str
    source: str
    target: str


#: The status changes of a revision: the only ones the services make.
MOVES: tuple[Move, ...] = (
    Move("submit", DRAFT, SUBMITTED),
    Move("start_checks", SUBMITTED, CHECKS_RUNNING),
    Move("finish_checks", SUBMITTED, IN_VERIFICATION),
    Move("finish_checks", CHECKS_RUNNING, IN_VERIFICATION),
    Move("verify", IN_VERIFICATION, VERIFIED),
    Move("return", IN_VERIFICATION, RETURNED),
    Move("accept", IN_VERIFICATION, VERIFIED),
)
#: Actions on a report that leave its latest revision's status alone, and the statuses they need.
STAYS: dict[str, tuple[str, ...]] = {
    "edit": (DRAFT,),
    "delete": (DRAFT,),
    "revise": (RETURNED, VERIFIED),
}


class IllegalMove(Exception):
    """The revision's status does not allow what was asked; ``detail`` says what it allows."""

    def __init__(self, detail: str, *, status: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.allowed = allowed


def allowed(status: str) -> list[str]:
    """What a revision in ``status`` allows, as ``action`` or ``action → target``, in table order."""
    moves = [f"{m.action} → {m.target}" for m in MOVES if m.source == status]
    return moves + [action for action, sources in STAYS.items() if status in sources]


def _refuse(status: str, what: str) -> IllegalMove:
    options = allowed(status)
    detail = f"a {status} revision cannot {what}; it allows " + (", ".join(options) if options else "nothing")
    return IllegalMove(detail, status=status, allowed=options)


def move(status: str, target: str) -> Move:
    """The move from ``status`` to ``target``; :class:`IllegalMove` when the table has none."""
    for candidate in MOVES:
        if candidate.source == status and candidate.target == target:
            return candidate
    raise _refuse(status, f"become {target}")


def require(action: str, status: str) -> None:
    """Refuse ``action`` (a move's or a :data:`STAYS` action) on a revision in ``status``."""
    sources = STAYS.get(action) or tuple(m.source for m in MOVES if m.action == action)
    assert sources, f"unknown workflow action {action!r}"
    if status not in sources:
        raise _refuse(status, f"{action} (that needs a {' or '.join(sources)} revision)")
