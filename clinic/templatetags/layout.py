"""Template tags of the site's layout (templates/base.html)."""

from __future__ import annotations

from django import template
from django.template.context import Context
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def include_reused(context: Context, template_name: str) -> SafeString:
    """`{% include %}` that renders the template once per page and gives the same HTML where
    the page shows it again: the layout shows the site's lists twice (the wide navigation
    and the phone menu), and through the template language the second copy cost a sixth
    of a doctor page (README, Performance). With the page's whole context, as an include."""
    key = f"include_reused:{template_name}"
    html: SafeString | None = context.render_context.get(key)
    if html is None:
        assert context.template is not None  # a tag renders inside a template
        html = context.template.engine.get_template(template_name).render(context)
        context.render_context[key] = html
    return html
