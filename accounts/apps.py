from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import services
        from accounts.models import UserManager

        UserManager.make_admin = services.create_admin

        # Permissions only exist once migrate has created them, app by app; the admins' group
        # is brought up to date after each.
        post_migrate.connect(services.sync_admin_group_from_migrate)
