"""The forms of signatures: the signing form (sign.py), assembled from one form per
part of the page, and the forms after signing (followup.py). All are imported here,
where the views and other apps look for them (`signatures.forms.SignatureForm`)."""

from .consent import PUBLICATION_CONSENT, consent_version
from .fields import FreeTextField, IdChoiceField, IdMultipleChoiceField, NameField, PersonNameField
from .followup import ContestForm, CorrectionForm, DeliberationForm, ResendForm
from .messages import already_signed_message
from .on_behalf import ON_BEHALF, SELF
from .robots import STARTED_SALT, HoneypotForm, started_stamp
from .sign import SignatureForm

__all__ = [
    "ON_BEHALF",
    "PUBLICATION_CONSENT",
    "SELF",
    "STARTED_SALT",
    "ContestForm",
    "CorrectionForm",
    "DeliberationForm",
    "FreeTextField",
    "HoneypotForm",
    "IdChoiceField",
    "IdMultipleChoiceField",
    "NameField",
    "PersonNameField",
    "ResendForm",
    "SignatureForm",
    "already_signed_message",
    "consent_version",
    "started_stamp",
]
