"""What erasing a signature's personal data means, in one place.

A moderator's « Anonymiser » (services.anonymise_signature) and the retention
periods (retention.py, through anonymise_signature) erase the same things: a
field added to Signature that may name someone is added here, once.
"""

from django.utils import timezone

from .models import Signature, new_manage_secret
from .proof import storage

# What names the signatory on the row, and the value it is erased to. The territory,
# function, networks, status, dates and verification level stay: the counts and the
# public list (« Signataire anonymisé·e ») need them. So does `ip_hash`, for the
# moderators' view of trending sources.
ERASED_VALUES = {
    "first_name": "",
    "last_name": "",
    "signatory_search": "",
    "function_other": "",
    "email": "",
    "phone": "",
    "comment": "",
    "submitted_ip": None,
    "user_agent": "",
    "confirmation_error": "",  # an SMTP refusal quotes the address
    # Who filled the form on the executive's behalf is a person too.
    "filler_first_name": "",
    "filler_last_name": "",
    "filler_function": "",
    "deliberation": "",
    "deliberation_is_public": False,
    "deliberation_refusal_note": "",  # a moderator's words about the file may name someone
}


def erase_personal_data(signature: Signature) -> None:
    """Erase what identifies the signatory, on the row and around it.

    The caller holds the row locked (select_for_update) inside a transaction,
    and records the audit event. Side effects: the fields of ERASED_VALUES are
    erased, the email domain with the address (save() derives it); the
    deliberation file is deleted after commit; a new manage secret makes the
    "manage" link stop working; `anonymised_at` is set; the flags (they quote
    personal data) and corrections are deleted; the email errors recorded on
    the signature's audit events are blanked.
    """
    if signature.deliberation:
        # After commit: rolled back, the row still names the file.
        storage.delete_after_commit(signature.deliberation.name)
    for name, value in ERASED_VALUES.items():
        setattr(signature, name, value)
    signature.manage_secret = new_manage_secret()
    signature.anonymised_at = timezone.now()
    signature.save(
        update_fields=[*ERASED_VALUES, "email_domain", "manage_secret", "anonymised_at"]
    )
    signature.flags.all().delete()
    signature.corrections.all().delete()
    # An SMTP refusal quotes the address; what was decided, by whom and when stays.
    signature.events.exclude(notification_error="").update(notification_error="")
