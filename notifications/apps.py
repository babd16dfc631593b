from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The arrows point one way: scheduling and accounts expose hooks and import nothing of
        # ours; we hang the outbox on them here.
        from accounts import services as accounts_services
        from notifications import services
        from scheduling import events

        events.subscribe(services.on_appointment_event)
        events.subscribe_offers(services.on_waitlist_offers)
        if services.on_account_activated not in accounts_services.on_activated:
            accounts_services.on_activated.append(services.on_account_activated)
        if services.on_account_registered not in accounts_services.on_registered:
            accounts_services.on_registered.append(services.on_account_registered)
