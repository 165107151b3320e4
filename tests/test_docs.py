"""What the docs say about where code lives is true: every repository path they name
exists, and every dotted name of our code they cite can be imported (or is a Celery task)."""

import importlib
import re
from pathlib import Path

import pytest
from celery import current_app

ROOT = Path(__file__).resolve().parent.parent
TOP = (
    "alliance|core|declarations|territories|signatures|moderation|proconnect|public|"
    "tests|benchmarks|templates|static|docs|locale|schema|tools|\\.ci"
)
# A path inside backticks, up to a space, a colon (pytest's "::test") or the backtick.
PATH = re.compile(rf"`((?:{TOP})/[\w./<>*-]*)")
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
APPS = "alliance|core|declarations|territories|signatures|moderation|proconnect|public"
DOTTED = re.compile(rf"`((?:{APPS})\.[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)`")
# Dotted names that are not Python: permissions, signing salts, file names in a sentence.
NOT_CODE = re.compile(
    r"\.py$|^signatures\.(?:export_signature|moderate_signature)$|\.confirmation$"
)


def _named_paths(text: str) -> set[str]:
    return {
        match.rstrip(".")
        for match in PATH.findall(text)
        if "<" not in match and "*" not in match  # a pattern, not a path
    }


def _resolves(name: str, tasks: set[str]) -> bool:
    """A Celery task's name, or a module and attributes inside it."""
    if name in tasks:
        return True
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                found = getattr(found, attribute)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_dotted_name_a_doc_cites_exists(doc):
    current_app.loader.import_default_modules()  # every app's tasks, by name
    tasks = set(current_app.tasks)
    cited = {name for name in DOTTED.findall(doc.read_text()) if not NOT_CODE.search(name)}
    assert sorted(name for name in cited if not _resolves(name, tasks)) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_path_a_doc_names_exists(doc):
    missing = sorted(path for path in _named_paths(doc.read_text()) if not (ROOT / path).exists())
    assert missing == []
