"""Text normalisation shared by the stored search keys and the queries."""

import re
import unicodedata

from .validators import ascii_digits

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Abbreviations people type for the names' usual first words.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalize(text: str) -> str:
    """'Saint-Étienne Métropole' -> 'saint etienne metropole'; 'St Étienne' -> 'saint etienne'.

    Digits of every script count as ASCII ('٤٢٠٠٠' -> '42000'): a postal code or SIREN typed
    on an Arabic or Devanagari keyboard finds the same territory.
    """
    text = unicodedata.normalize("NFKD", ascii_digits(text).translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    words = _NON_ALNUM.sub(" ", text).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)
