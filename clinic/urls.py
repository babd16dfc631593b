from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from clinic import metrics as views_metrics
from clinic import views

admin.site.site_header = format_lazy(_("{clinic} administration"), clinic=settings.CLINIC_NAME)
admin.site.site_title = format_lazy(_("{clinic} admin"), clinic=settings.CLINIC_NAME)
admin.site.index_title = _("Accounts, doctors and appointments")
admin.site.site_url = "/"

handler500 = "clinic.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("contact/", views.contact, name="contact"),
    path("health/", views.health, name="health"),
    path("i18n/setlang/", views.set_language, name="set-language"),
    path("accounts/", include("accounts.urls")),
    path("doctors/", include("directory.urls")),
    path("", include("scheduling.urls")),
    path("front-desk/", include("scheduling.front_desk_urls")),
    path("", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("", include("api.urls")),
    path("metrics", views_metrics.metrics, name="metrics"),
]
