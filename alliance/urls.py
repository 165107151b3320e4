from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from public.api import api

from . import views

admin.site.site_header = _("Alliance des territoires — administration")
admin.site.site_title = _("Alliance des territoires")
admin.site.index_title = _("Modération et contenus")

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("declarations.urls")),
    path("", include("signatures.urls")),
    path("", include("public.urls")),
    path("", include("territories.urls")),
]
