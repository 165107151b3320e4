"""What people type, made safe to store, show and export.

Free text is stored in NFC, with no invisible or control character: a
right-to-left override would make a name read backwards on the public list, a
zero-width space would make two "identical" names differ. Names and functions
are also folded (NFKC: full-width "Ｔｏｕｌｏｕｓｅ" becomes "Toulouse") and may
hold neither a link, nor markup, nor a leading spreadsheet formula character.
Exports neutralise formulas again at the cell, whatever the data's age.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Links, tags and BBCode: a moderation flag in comments, refused in names.
MARKUP = re.compile(r"https?://|www\.|<\s*/?\s*[a-z!]|\[/?url|href\s*=", re.IGNORECASE)
# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = frozenset(FORMULA_PREFIXES)  # one character each
# Categories never typed on purpose: control, format (bidi overrides, zero-width
# characters), private use, surrogates, unassigned.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
_LINE_BREAKS = frozenset("\n\r")
# Characters XML 1.0 refuses: one of them made the whole XLSX export fail.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def invisible_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The invisible or control characters in `value`, as U+XXXX (line breaks allowed
    in multi-line text)."""
    found = []
    for char in value:
        if multiline and char in _LINE_BREAKS:
            continue
        if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
            found.append(f"U+{ord(char):04X}")
    return list(dict.fromkeys(found))


def clean_free_text(value: str, *, multiline: bool = False) -> str:
    """NFC, and no invisible or control character (ValidationError naming them)."""
    value = unicodedata.normalize("NFC", value)
    found = invisible_characters(value, multiline=multiline)
    if found:
        raise ValidationError(
            _(
                "Ce texte contient des caractères invisibles ou de contrôle (%(chars)s) : "
                "retapez-le sans copier-coller depuis un autre document."
            ),
            code="invisible_characters",
            params={"chars": ", ".join(found)},
        )
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def clean_name(value: str) -> str:
    """A person's or body's name, or a function: folded, one line, no link, markup or formula."""
    value = unicodedata.normalize("NFKC", clean_free_text(value))
    value = " ".join(value.split())
    if MARKUP.search(value):
        raise ValidationError(
            _("Un nom ou une fonction ne peut contenir ni lien ni balise."), code="markup"
        )
    if value.startswith(FORMULA_PREFIXES):
        raise ValidationError(
            _("Commencez par une lettre : « %(char)s » n'est pas accepté en premier caractère."),
            code="formula_prefix",
            params={"char": value[0]},
        )
    return value


def spreadsheet_safe(value):
    """A value a spreadsheet shows as written, never evaluates, and can always store.

    A text starting with a formula character is prefixed with an apostrophe
    (OWASP's advice for CSV injection); characters XML cannot hold are dropped,
    so one stray control character cannot break an XLSX export. Other types pass.
    """
    if not isinstance(value, str):
        return value
    if not value.isprintable():  # every character XML cannot hold is unprintable
        value = _XML_ILLEGAL.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return f"'{value}"
    return value


def normalise_email(value: str) -> str:
    """The address as typed, its domain lower-cased (the local part may be case-sensitive)."""
    local, _at, domain = value.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def email_domain(email: str) -> str:
    """The domain of an address, lower-cased; flags and caps compare it."""
    return email.rpartition("@")[2].lower()
