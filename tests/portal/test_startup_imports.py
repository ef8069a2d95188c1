"""Every process the site starts (each server and worker, each ``manage.py`` call,
the tests' ``server.python``) imports the apps and their admin hooks. The large
libraries only some requests need are imported where they are used, not at
start-up: pypinyin's dictionaries alone take 0.4 s of CPU, openpyxl 0.13 s,
jieba's 0.2 s.

Runs ``manage.py shell`` in a fresh interpreter (this test process has imported
everything already) and lists which of them were loaded."""

import json
import subprocess
import sys

from tests.server import ROOT

HEAVY = ["pypinyin", "jieba", "lunar_python", "openpyxl", "pygal", "segno"]

CODE = f"""
import json, sys
from wagtail import hooks
hooks.get_hooks("register_admin_urls")  # what loads every app's wagtail_hooks
print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))
"""


def test_heavy_libraries_are_not_imported_at_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "portal.settings.test", "PATH": "/usr/bin"},
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []
