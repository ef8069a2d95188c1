"""``{% fragment "home-events" page.pk depends="seats" %}…{% endfragment %}``: a part
of a page kept in the shared cache under the current content generation (and the
generations named in ``depends``), see ``portal.pagecache.fragment``.

The positional values after the name are part of the key (the page, a filter, a
page number). Put the listing's query inside the tag and hand the template lazy
values (a queryset, or ``SimpleLazyObject``): on a hit nothing inside runs.
"""

from django import template

from portal import pagecache

register = template.Library()


class FragmentNode(template.Node):
    def __init__(self, nodelist, name, vary, depends):
        self.nodelist = nodelist
        self.name = name
        self.vary = vary
        self.depends = depends

    def render(self, context):
        depends = self.depends.resolve(context) if self.depends else ""
        return pagecache.fragment(
            context.get("request"),
            self.name.resolve(context),
            lambda: self.nodelist.render(context),
            depends=tuple(depends.split()),
            vary=[value.resolve(context) for value in self.vary],
        )


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError(
            '{% fragment %} needs a name: {% fragment "name" [values…] '
            '[depends="seats"] %}'
        )
    depends = None
    if bits[-1].startswith("depends="):
        depends = parser.compile_filter(bits.pop().split("=", 1)[1])
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    return FragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(bit) for bit in bits[2:]],
        depends,
    )
