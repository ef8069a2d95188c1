"""Admin of the search app: 搜索同义词 (editors' synonym groups) under 设置."""

from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import SynonymGroup


class SynonymGroupViewSet(SnippetViewSet):
    model = SynonymGroup
    icon = "search"
    menu_label = "搜索同义词"
    add_to_settings_menu = True
    list_display = ["__str__", "updated_at"]


register_snippet(SynonymGroupViewSet)
