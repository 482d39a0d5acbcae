"""Notifications: stored per user, listed and marked read over the API, sent by e-mail; and the
reminders of deadlines that Celery beat sends 7 days and 1 day ahead.

**E-mail.** Each notification is e-mailed by a task (``mrv.send_notification_email``) once its
transaction commits, through Django's e-mail backend (SMTP from ``EMAIL_HOST``..., the console without
it: config/settings.py). The send holds the notification's row lock and marks it ``emailed_at``, so a
second delivery of the task sends nothing; an SMTP failure is recorded (``email_error``) and retried by
the task. A user without an address gets the notification over the API only.

**Reminders.** :func:`deadline_reminders_send` looks at every facility's deadlines due within the next
7 days and, for each not yet met, reminds the operator's users (and the verification body's, for a
verification deadline): the 7-day reminder while 2 to 7 days are left, the 1-day reminder on the last
day and on the due date. One :class:`~mrv.models.DeadlineReminder` row per (deadline, days before,
user), under a unique constraint: a second run, or two runs at once, send nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from mrv.errors import Conflict
from mrv.i18n import translate
from mrv.models import DeadlineReminder, Notification
from mrv.selectors import deposits
from mrv.selectors.deadlines import VERIFICATION, Deadline, deadlines_due_between
from mrv.selectors.scoping import body_users_of, operator_users_of
from mrv.services import events
from mrv.services.background import SEND_NOTIFICATION_EMAIL, enqueue_on_commit

logger = logging.getLogger(__name__)

#: Days before a deadline that a reminder is sent, the earliest first.
REMINDER_DAYS = (7, 1)
#: The English texts of a deadline's name in reminders (templates in mrv/i18n/messages.py).
DEADLINE_NAMES = {
    "monthly_deposit": "the monthly deposit",
    "annual_report": "the annual emission report",
    "verification": "the verification of the annual report",
    "surrender": "the surrender of allowances",
}


def notify(
    *, users: Iterable[AbstractBaseUser], kind: str, subject: str, body: str, data: dict[str, Any]
) -> list[Notification]:
    """Store a notification for each of ``users`` and e-mail each once the transaction commits."""
    created = Notification.objects.bulk_create(
        Notification(user_id=user.pk, kind=kind, subject=subject[:200], body=body, data=data)
        for user in users
    )
    for notification in created:
        enqueue_on_commit(SEND_NOTIFICATION_EMAIL, notification.pk)
    return created


def notification_mark_read(*, notification: Notification, by: AbstractBaseUser) -> Notification:
    """Mark the user's own notification read (again: no change)."""
    if notification.user_id != by.pk:  # pragma: no cover - the view finds the user's own only
        raise Conflict("a notification is marked read by its user only")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def _bilingual(text: str) -> tuple[str, str]:
    with translation.override("zh-hans"):
        chinese = translate(text)
    return text, chinese if chinese != text else ""


def email_message(notification: Notification, address: str) -> EmailMessage:
    """The e-mail of a notification: English, then its zh-Hans reading."""
    subject, subject_zh = _bilingual(notification.subject)
    body, body_zh = _bilingual(notification.body)
    text = body + (f"\n\n{body_zh}" if body_zh else "")
    # one line: a subject carries names given by users (a facility's name may hold a line break), and
    # Django refuses a header with one (BadHeaderError), which no retry would ever get past
    line = " ".join((f"{subject} / {subject_zh}" if subject_zh else subject).split())
    return EmailMessage(
        subject=line,
        body=text + "\n\n-- \nOpen MRV",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )


def notification_email_send(*, notification_id: int) -> str:
    """E-mail one notification unless it was sent already; returns what happened (for logs).

    An error of the e-mail backend (SMTP refused, server down) is recorded on the notification and
    raised again, for the task to retry."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "skipped: no such notification"
        if notification.emailed_at is not None:
            return "skipped: sent already"
        address = notification.user.email
        if not address:
            return "skipped: the user has no e-mail address"
        try:
            email_message(notification, address).send(fail_silently=False)
        except Exception as error:
            failure = f"{type(error).__name__}: {error}"[:500]
            failed = True
        else:
            failed = False
            notification.emailed_at, notification.email_error = timezone.now(), ""
            notification.save(update_fields=["emailed_at", "email_error"])
    if failed:
        Notification.objects.filter(pk=notification_id).update(email_error=failure)
        raise NotificationEmailFailed(failure)
    return f"sent to user {notification.user_id}"


def notification_emails_resend(
    *, older_than: timedelta = timedelta(hours=1), within: timedelta = timedelta(days=7)
) -> int:
    """Publish again the e-mail of every notification not e-mailed yet, made more than ``older_than`` and less
    than ``within`` ago, to a user with an address (its task gave up after an SMTP outage, or its message
    was lost with the broker); how many. Safe to run twice: the task sends a notification at most once."""
    now = timezone.now()
    pending = list(
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__lte=now - older_than, created_at__gte=now - within
        )
        .exclude(user__email="")
        .values_list("pk", flat=True)
    )
    for pk in pending:
        enqueue_on_commit(SEND_NOTIFICATION_EMAIL, pk)
    return len(pending)


class NotificationEmailFailed(Exception):
    """The e-mail backend refused or could not be reached (the task retries)."""


# -- deadline reminders ----------------------------------------------------------------------------------------
def reminder_days(*, due: date, on: date) -> int | None:
    """Which reminder is due on ``on`` for a deadline due on ``due``: 7 while 2 to 7 days are left, 1 on
    the last day and the due date itself, None otherwise."""
    left = (due - on).days
    if 1 < left <= REMINDER_DAYS[0]:
        return REMINDER_DAYS[0]
    if 0 <= left <= REMINDER_DAYS[1]:
        return REMINDER_DAYS[1]
    return None


def reminder_recipients(deadline: Deadline) -> list[AbstractBaseUser]:
    users = list(operator_users_of(deadline.facility))
    if deadline.kind == VERIFICATION:
        users += list(body_users_of(deadline.facility.verification_body_id))
    return users


def deadline_reminders_send(*, on: date | None = None) -> int:
    """Remind of every deadline due within 7 days and not met; how many reminders this run sent."""
    on = on or deposits.today()
    due = deadlines_due_between(start=on, end=on + timedelta(days=REMINDER_DAYS[0]), on=on)
    sent_before = set(
        DeadlineReminder.objects.filter(due_date__gte=on).values_list(
            "kind", "facility_id", "period", "days_before", "user_id"
        )
    )
    sent = 0
    for deadline in due:
        days = reminder_days(due=deadline.due_date, on=on)
        if days is None or deadline.status != "open":  # met already (a missed one is past its date)
            continue
        reminded = []
        # One transaction per deadline: its reminders and its deadline.approaching event are stored together
        # (a crash between them can neither lose the event nor leave it without its reminders).
        with transaction.atomic():
            for user in reminder_recipients(deadline):
                key = (deadline.kind, deadline.facility.pk, deadline.period, days, user.pk)
                if key not in sent_before and _remind(deadline, days, user):
                    reminded.append(user)
            if reminded:
                deadline_approaching(deadline=deadline, days_before=days, users=reminded)
        sent += len(reminded)
    return sent


def _remind(deadline: Deadline, days: int, user: AbstractBaseUser) -> bool:
    """Store and e-mail one reminder; False when another run sent it (the unique constraint)."""
    name = DEADLINE_NAMES[deadline.kind]
    try:
        with transaction.atomic():
            [notification] = notify(
                users=[user],
                kind=Notification.Kind.DEADLINE_REMINDER,
                subject=f"{deadline.facility.name}: {name} of {deadline.period} is due on {deadline.due_date}",
                body=(
                    f"{name} of {deadline.period} for {deadline.facility.name} is due on "
                    f"{deadline.due_date} and has not been made. See GET /api/v1/deadlines/?year={deadline.year}"
                ),
                data={
                    "deadline": deadline.kind,
                    "facility": deadline.facility.pk,
                    "period": deadline.period,
                    "due_date": deadline.due_date.isoformat(),
                    "days_before": days,
                },
            )
            DeadlineReminder.objects.create(
                kind=deadline.kind,
                facility=deadline.facility,
                period=deadline.period,
                due_date=deadline.due_date,
                days_before=days,
                user=user,
                notification=notification,
            )
    except IntegrityError:  # sent by a run at the same time: its notification stands, this one rolled back
        return False
    return True


def deadline_approaching(*, deadline: Deadline, days_before: int, users: list[AbstractBaseUser]) -> None:
    """The moment a deadline's reminder went out (``deadline.approaching``): reminders stored above;
    the events publisher is wired here."""
    events.publish(
        "deadline.approaching",
        organisation_ids=events.facility_parties(deadline.facility),
        data={
            "facility": deadline.facility.pk,
            "kind": deadline.kind,
            "year": deadline.year,
            "month": deadline.month,
            "due_date": deadline.due_date.isoformat(),
            "days_before": days_before,
        },
    )
    logger.info(
        "deadline %s %s of facility %s due %s: reminded %d user(s) %d day(s) ahead",
        deadline.kind,
        deadline.period,
        deadline.facility.pk,
        deadline.due_date,
        len(users),
        days_before,
    )
