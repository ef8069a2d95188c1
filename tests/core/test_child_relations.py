"""modelcluster's child relations kept per class (core/child_relations.py,
issue 19): the same lists as modelcluster works out, and a page loaded from the
database no longer walks its fields."""

import pytest
from django.apps import apps
from django.db.models.options import Options
from modelcluster import models as cluster
from modelcluster.models import ClusterableModel
from wagtail.models import Page

from core.child_relations import ORIGINAL

pytestmark = pytest.mark.django_db


def test_the_lists_are_modelclusters_own_for_every_model():
    models = [m for m in apps.get_models() if issubclass(m, ClusterableModel)]
    assert len(models) > 10
    for name, original in ORIGINAL.items():
        kept = getattr(cluster, name)
        assert kept is not original, "installed by CoreConfig.ready"
        for model in models:
            assert kept(model) == original(model), (name, model)
            assert kept(model(pk=1)) == original(model), (name, model)
        kept(Page).append("a caller's change")  # a copy: the kept list stays
        assert kept(Page) == original(Page)


def test_a_page_loaded_from_the_database_does_not_walk_its_fields(monkeypatch):
    assert Page.objects.count() > 20, "the demo's pages"
    walks = []
    get_fields = Options.get_fields

    def counted(self, *args, **kwargs):
        walks.append(self.model)
        return get_fields(self, *args, **kwargs)

    list(Page.objects.all()[:1])  # the per-class lists exist
    monkeypatch.setattr(Options, "get_fields", counted)
    pages = list(Page.objects.all())
    assert len(pages) > 20 and walks == []
