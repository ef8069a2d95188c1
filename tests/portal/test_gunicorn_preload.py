"""The gunicorn master loads jieba's and pypinyin's dictionaries before it forks
the workers (portal/gunicorn.conf.py, ``on_starting``), and nothing of the site's
own code: a reload (HUP) must start workers on a new checkout's code."""

import json
import subprocess
import sys

from tests.server import ROOT

APPS = ("portal", "core", "home", "events", "sharing", "search", "notify", "demo")

CODE = f"""
import json, runpy, sys
conf = runpy.run_path("portal/gunicorn.conf.py")
conf["on_starting"](None)
import jieba
print(json.dumps({{
    "jieba": jieba.dt.initialized and len(jieba.dt.FREQ) > 100000,
    "pypinyin": "pypinyin.pinyin_dict" in sys.modules,
    "site": sorted(m for m in sys.modules if m.split(".")[0] in {APPS!r}),
    "django": "django.conf" in sys.modules,
}}))
"""


def test_master_loads_the_dictionaries_and_no_site_code():
    result = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin"},
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"jieba": True, "pypinyin": True, "site": [], "django": False}


def test_search_uses_the_dictionary_the_master_loaded():
    """search.text takes jieba's default tokenizer, the one ``on_starting``
    initialised, instead of parsing a copy of its own in every worker."""
    import jieba

    from search import text

    assert text._jieba() is jieba.dt
    assert "花园路街道" in jieba.dt.FREQ  # our terms went into it
