"""The apps depend on each other one way: portal ← core ← home ← events ←
sharing / search / notify ← demo. No module imports an app above its own (at
module level or inside a function), except the lines listed in ``ALLOWED``; and no
module but the data ones is over 700 lines. Reads the source only (no database,
no Django).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = {
    "portal": 0,
    "core": 1,
    "home": 2,
    "events": 3,
    "sharing": 4,
    "search": 4,
    "notify": 4,
    "volunteers": 4,
    "demo": 5,
}

# (module, imported app): the exceptions, each with its reason.
ALLOWED = {
    # The root URLconf mounts every app.
    ("portal/urls.py", "home"),
    ("portal/urls.py", "events"),
    ("portal/urls.py", "search"),
    ("portal/urls.py", "notify"),
}

# Pure data, exempt from the length limit.
DATA_MODULES = {"demo/content.py"}
# Over the limit, each with its reason (none today).
KNOWN_LONG: set[str] = set()
MAX_LINES = 700
# The apps this layout added; each says in apps.py what lives there.
NEW_APPS = ("portal", "core", "sharing", "notify", "volunteers", "demo")


def app_modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            yield app, path


def imported_apps(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                yield node.lineno, top


def test_no_app_imports_one_above_it():
    wrong = []
    for app, path in app_modules():
        relative = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for line, other in imported_apps(tree):
            if LAYERS[other] > LAYERS[app] and (relative, other) not in ALLOWED:
                wrong.append(f"{relative}:{line} imports {other}")
    assert wrong == []


def test_sharing_and_search_do_not_import_each_other():
    for app, other in (("sharing", "search"), ("search", "sharing")):
        for path in (ROOT / app).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            assert other not in {top for _line, top in imported_apps(tree)}, path


def test_modules_stay_under_the_length_limit():
    long = []
    for _app, path in app_modules():
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or relative in DATA_MODULES | KNOWN_LONG:
            continue
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > MAX_LINES:
            long.append(f"{relative}: {lines} lines")
    assert long == []


def test_every_new_app_has_a_described_config():
    for app in NEW_APPS:
        source = (ROOT / app / "apps.py").read_text(encoding="utf-8")
        tree = ast.parse(source)
        configs = [node for node in tree.body if isinstance(node, ast.ClassDef)]
        assert configs, app
        assert "verbose_name" in source, app
        assert ast.get_docstring(tree) or ast.get_docstring(configs[0]), app
