"""The layering of the apps, checked on the source: imports point one way, without cycles.

    public, moderation → signatures → proconnect, territories, declarations → core

`core` imports no app; `alliance` (the project: settings, URLs, WSGI, Celery) may
import any. The layering counts every import, the few inside functions included
(each marked for ruff's PLC0415, which refuses the others): an import deferred
to save memory still goes one way. The cycle check counts top-level imports, the
ones that run when a module is loaded.
"""

import ast
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "alliance",
    "core",
    "declarations",
    "territories",
    "proconnect",
    "signatures",
    "moderation",
    "public",
)
# Which apps each app may import, besides itself.
ALLOWED = {
    "alliance": set(APPS),
    "core": set(),
    "declarations": {"core"},
    "territories": {"core"},
    "proconnect": {"core"},
    "signatures": {"core", "declarations", "territories", "proconnect"},
    "moderation": {"core", "declarations", "territories", "signatures"},
    "public": {"core", "declarations", "territories", "signatures"},
}


def _modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name.removesuffix(".__init__"), path


def _imports(name: str, path: Path, *, top_level_only: bool = True) -> set[str]:
    """Project modules imported by a module: at its top level, or anywhere in it."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    for node in tree.body if top_level_only else ast.walk(tree):
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


def _graph(*, top_level_only: bool = True) -> dict[str, set[str]]:
    modules = dict(_modules())
    return {
        name: {
            target
            for target in _imports(name, path, top_level_only=top_level_only)
            if target.split(".")[0] in APPS and target != name
        }
        for name, path in modules.items()
    }


def test_every_app_is_checked():
    """A new app must be placed in the layers before it can land."""
    ours = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "benchmarks", "static", "templates", "locale"}
    }
    assert ours == set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_each_app_says_what_it_holds(app):
    """One sentence or two in its __init__.py: the first thing a newcomer reads."""
    docstring = ast.get_docstring(ast.parse((ROOT / app / "__init__.py").read_text()))
    assert docstring
    assert len(docstring) < 400


def test_apps_import_only_the_layers_below_them():
    wrong = [
        f"{source} imports {target}"
        for source, targets in _graph(top_level_only=False).items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[source.split(".")[0]] | {source.split(".")[0]}
    ]
    assert wrong == []


def test_core_imports_no_app():
    wrong = [
        f"{source} imports {target}"
        for source, targets in _graph(top_level_only=False).items()
        if source.split(".")[0] == "core"
        for target in targets
        if target.split(".")[0] != "core"
    ]
    assert wrong == []


def test_application_modules_import_each_other_without_cycles():
    modules = dict(_modules())
    graph = {name: targets & set(modules) for name, targets in _graph().items()}
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


def _import_in_order(modules) -> subprocess.CompletedProcess:
    """A fresh interpreter imports these modules in this order, before anything else does."""
    script = "\n".join(
        [
            "import importlib, os",
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'alliance.settings')",
            "from django.apps import apps",
            "from django.conf import settings",
            # Models only: the admin's autodiscovery would import the modules first.
            "apps.populate([a.replace('core.admin_app.AdminConfig', "
            "'django.contrib.admin.apps.SimpleAdminConfig') for a in settings.INSTALLED_APPS])",
            *(f"importlib.import_module({name!r})" for name in modules),
        ]
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "order", list(itertools.permutations(["services", "tasks", "delivery"])), ids="-".join
)
def test_signature_modules_import_in_any_order(order):
    result = _import_in_order(f"signatures.{name}" for name in order)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("direction", ["top-down", "bottom-up"])
def test_every_module_imports_first(direction):
    """Every application module, each imported before the ones it would come after."""
    names = sorted(
        name
        for name, _path in _modules()
        if name.split(".")[0] != "alliance" and not name.endswith(".apps")
    )
    ranked = sorted(names, key=lambda name: APPS.index(name.split(".")[0]))
    result = _import_in_order(ranked if direction == "bottom-up" else ranked[::-1])
    assert result.returncode == 0, result.stderr
