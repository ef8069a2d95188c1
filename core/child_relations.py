"""modelcluster's lists of a model's child relations, worked out once per class.

Every ``ClusterableModel`` (every page) built from a database row calls
``get_all_child_relations`` and ``get_all_child_m2m_relations`` in its
``__init__``: a walk over every field of the model — for a page about 60,
the reverse relations of every page type among them — to find the few
``ParentalKey`` and ``ParentalManyToManyField``, though a row never brings child
objects. That walk was 35–40 % of loading the pages of an activity index's 30
cards (django-modelcluster 6.5, its latest, still does it per instance). The
lists depend only on the class and the app registry, which is fixed once the
apps are ready, so ``install`` (``CoreConfig.ready``) keeps them per class in
the module modelcluster's own models read them from; callers get copies, as
before, and may change them.
"""

import functools

from modelcluster import models as cluster

ORIGINAL = {
    "get_all_child_relations": cluster.get_all_child_relations,
    "get_all_child_m2m_relations": cluster.get_all_child_m2m_relations,
}


def _per_class(name: str):
    original = ORIGINAL[name]

    @functools.cache
    def of_class(cls) -> tuple:
        return tuple(original(cls))

    @functools.wraps(original)
    def lookup(model) -> list:
        return list(of_class(model if isinstance(model, type) else type(model)))

    lookup.of_class = of_class
    return lookup


def install() -> None:
    """Put the per-class versions in ``modelcluster.models`` (once)."""
    for name, original in ORIGINAL.items():
        if getattr(cluster, name) is original:
            setattr(cluster, name, _per_class(name))
