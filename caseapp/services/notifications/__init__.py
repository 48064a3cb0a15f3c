"""Notifications: in the application (a counter in the header, a list, `GET /api/v1/notifications`) and, optionally,
an e-mail that says only that there is news.

Written in the transaction of the change that causes them (a referral sent, answered, withdrawn or ended by a
withdrawn consent: `notify`), or by the cron command for due dates (`scan_due`). Read with the reader's access
checked at that moment (`reading`).
"""
from caseapp.services.notifications.addresses import set_email
from caseapp.services.notifications.due import scan_due
from caseapp.services.notifications.mail import deliver as deliver_mail
from caseapp.services.notifications.reading import (
    NotificationView,
    mark_all_read,
    mark_read,
    notifications,
    open_notification,
    unread_column,
    unread_count,
)
from caseapp.services.notifications.recipients import recipients_for_case, recipients_for_cases
from caseapp.services.notifications.triggers import notify

__all__ = [
    "NotificationView", "deliver_mail", "mark_all_read", "mark_read", "notifications", "notify",
    "open_notification", "recipients_for_case", "recipients_for_cases", "scan_due", "set_email", "unread_column",
    "unread_count",
]
