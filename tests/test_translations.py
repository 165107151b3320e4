"""The English catalogue is complete and its compiled file matches it."""

import gettext
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "locale/en/LC_MESSAGES"


def test_every_french_string_has_an_english_translation():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    live = [e for e in catalogue if not e.obsolete]
    missing = [e.msgid for e in live if not e.translated() or "fuzzy" in e.flags]
    assert missing == []


def test_compiled_catalogue_matches_the_source():
    catalogue = polib.pofile(str(LOCALE / "django.po"))
    with (LOCALE / "django.mo").open("rb") as compiled_file:
        compiled = gettext.GNUTranslations(compiled_file)
    for entry in (e for e in catalogue if not e.obsolete):
        if entry.msgid_plural:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 2) == entry.msgstr_plural[1]
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
