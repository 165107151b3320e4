from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core import twofactor, views
from public.api import api

admin.site.site_header = _("Alliance des territoires — administration")
admin.site.site_title = _("Alliance des territoires")
admin.site.index_title = _("Modération et contenus")
# Before admin.site.urls binds the login view: the admin may require a second factor.
admin.site.__class__ = twofactor.StaffAdminSite

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("langue/", views.switch_language, name="switch_language"),
    path("admin/", admin.site.urls),
    path("compte/", include((twofactor.urls, "two_factor"))),
    path("api/", api.urls),
    path("", include("declarations.urls")),
    path("", include("signatures.urls")),
    path("", include("public.urls")),
    path("", include("territories.urls")),
]
