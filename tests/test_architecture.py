"""The layering of the apps, checked on the source: imports point one way, without cycles.

public → signatures → territories, declarations; alliance (the project) may
import any app. Only top-level imports count: ruff's PLC0415 refuses imports
inside functions, which are how cycles used to hide.
"""

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("declarations", "territories", "signatures", "public")
# Which apps each app may import (besides itself and the project's `alliance`).
ALLOWED = {
    "declarations": set(),
    "territories": set(),
    "signatures": {"declarations", "territories"},
    "public": {"declarations", "territories", "signatures"},
}


def _modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name.removesuffix(".__init__"), path


def _imports(name: str, path: Path) -> set[str]:
    """Project modules imported at the top level of a module."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] in APPS}


def _graph() -> dict[str, set[str]]:
    modules = dict(_modules())
    return {
        name: {target for target in _imports(name, path) if target in modules and target != name}
        for name, path in modules.items()
    }


def test_apps_import_only_the_layers_below_them():
    wrong = [
        f"{source} imports {target}"
        for source, targets in _graph().items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[source.split(".")[0]] | {source.split(".")[0]}
    ]
    assert wrong == []


def test_application_modules_import_each_other_without_cycles():
    graph = _graph()
    visiting, done, cycles = set(), set(), []

    def visit(module, trail):
        visiting.add(module)
        for target in sorted(graph[module]):
            if target in visiting:
                cycles.append(" → ".join([*trail, target]))
            elif target not in done:
                visit(target, [*trail, target])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["services", "tasks", "delivery"])), ids="-".join
)
def test_signature_modules_import_in_any_order(order):
    """A fresh interpreter imports them in this order, before anything else does."""
    script = "\n".join(
        [
            "import importlib, os",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'alliance.settings')",
            "from django.apps import apps",
            "from django.conf import settings",
            # Models only: the admin's autodiscovery would import the modules first.
            "apps.populate([a.replace('django.contrib.admin', "
            "'django.contrib.admin.apps.SimpleAdminConfig') if a == 'django.contrib.admin' "
            "else a for a in settings.INSTALLED_APPS])",
            *(f"importlib.import_module('signatures.{name}')" for name in order),
        ]
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
