"""The vocabulary of a ticket (SPEC §2): kinds, channels, priorities and statuses."""

from __future__ import annotations

KINDS = ("enquiry", "request", "complaint", "compliment")
CHANNELS = (
    "phone",
    "chat",
    "email",
    "letter",
    "social",
    "sms",
    "in-person",
    "portal",
    "web-form",
    "voicemail",
)
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "acknowledged", "in-progress", "waiting", "resolved", "closed")
OPEN_STATUSES = ("new", "acknowledged", "in-progress", "waiting")
