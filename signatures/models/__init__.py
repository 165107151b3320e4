"""A signature's rows: the signature itself and its queries, what moderation records about it, the
emails sent, and the counts snapshot. All are imported here, where Django and the
rest of the code look for them (`signatures.models.Signature`)."""

from .counts import SignatureStats, SocialImage
from .keys import (
    CONFIRMATION_LINK_AGE,
    CONFIRMATION_MAX_AGE,
    CONFIRMATION_SALT,
    CONFIRMATION_VALID_DAYS,
    EMAIL_LOST_AFTER,
    EMAIL_RESWEEP_AFTER,
    MANAGE_SALT,
    RESEND_COOLDOWN,
    deliberation_path,
    new_manage_secret,
    new_public_id,
    private_storage,
    source_hash,
)
from .moderation import (
    Contest,
    Correction,
    Flag,
    ModerationEvent,
    ModerationEventQuerySet,
    ModerationQueue,
)
from .outbox import OutgoingEmail, OutgoingEmailQuerySet
from .queries import SignatureQuerySet
from .signature import (
    FORMAL_TITLES,
    FUNCTIONS_BY_KIND,
    GENDERED_FUNCTIONS,
    Signature,
    function_fits,
)

__all__ = [
    "CONFIRMATION_LINK_AGE",
    "CONFIRMATION_MAX_AGE",
    "CONFIRMATION_SALT",
    "CONFIRMATION_VALID_DAYS",
    "EMAIL_LOST_AFTER",
    "EMAIL_RESWEEP_AFTER",
    "FORMAL_TITLES",
    "FUNCTIONS_BY_KIND",
    "GENDERED_FUNCTIONS",
    "MANAGE_SALT",
    "RESEND_COOLDOWN",
    "Contest",
    "Correction",
    "Flag",
    "ModerationEvent",
    "ModerationEventQuerySet",
    "ModerationQueue",
    "OutgoingEmail",
    "OutgoingEmailQuerySet",
    "Signature",
    "SignatureQuerySet",
    "SignatureStats",
    "SocialImage",
    "deliberation_path",
    "function_fits",
    "new_manage_secret",
    "new_public_id",
    "private_storage",
    "source_hash",
]
