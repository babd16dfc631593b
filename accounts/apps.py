from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def remember_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """At every login (the site's, Django admin's): the language the person chose before, in
    this browser too from now on (common.i18n.LocaleMiddleware writes the cookie). Someone
    who has not chosen one yet but did choose in this browser before logging in (the header's
    switcher) keeps that choice on their account."""
    from django.conf import settings

    from accounts import services
    from common import i18n

    if request is None:
        return
    if getattr(user, "language", ""):
        i18n.remember(request, user.language)
        return
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen and i18n.supported(chosen):
        services.set_language(user=user, language=chosen)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts import services
        from accounts.models import UserManager

        UserManager.make_admin = services.create_admin

        # Permissions only exist once migrate has created them, app by app; the admins' group
        # is brought up to date after each.
        post_migrate.connect(services.sync_admin_group_from_migrate)
        user_logged_in.connect(remember_language, dispatch_uid="accounts.remember_language")
