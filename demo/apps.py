"""The demo site, at the top of the app stack: its text (content.py, pure data)
and pictures drawn with Pillow (images.py), the idempotent ``load_demo`` that
builds it (``make run``), and the search benchmark ``bench_search``
(search_bench.py), whose generated pages are made of the demo's sentences. Only
management commands and data: no models, no URLs."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "演示数据"
