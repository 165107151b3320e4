"""Moderation in the admin: the signatures' list and queue (filters, columns, actions, a
signature's page and its decisions, trending sources and their invalidation), the audit
trail, and the territories' email domains. Importing this package registers them."""

from .audit import ModerationEventAdmin
from .domains import TerritoryDomainAdmin
from .signatures import ModerationQueueAdmin, SignatureAdmin, SignatureAdminBase

__all__ = [
    "ModerationEventAdmin",
    "ModerationQueueAdmin",
    "SignatureAdmin",
    "SignatureAdminBase",
    "TerritoryDomainAdmin",
]
