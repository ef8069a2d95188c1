"""Shared fixtures. The demo site is loaded once per test session into the test
database; each test runs in a transaction that is rolled back, so tests may change
demo content freely."""

from io import StringIO

import pytest
from django.core.management import call_command
from wagtail.models import Site

from home.models import HomePage


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_demo", stdout=StringIO())


@pytest.fixture
def home(db) -> HomePage:
    return HomePage.objects.get(slug="home")


@pytest.fixture
def site(db) -> Site:
    return Site.objects.get(is_default_site=True)


@pytest.fixture(autouse=True)
def fresh_renditions_cache():
    """Rolled-back tests reuse image ids; a rendition cached by an earlier test
    would otherwise be found for a new image."""
    from django.core.cache import caches

    caches["renditions"].clear()
