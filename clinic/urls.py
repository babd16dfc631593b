from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from clinic import metrics as views_metrics
from clinic import views

admin.site.site_header = f"{settings.CLINIC_NAME} administration"
admin.site.site_title = f"{settings.CLINIC_NAME} admin"
admin.site.index_title = "Accounts, doctors and appointments"
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
