"""Notices out: SMTP and webhook senders and the delivery of the outbox."""
