from django.urls import path

from proconnect import views as proconnect

from . import views
from .proof import views as proof_views

app_name = "signatures"

urlpatterns = [
    path("declarations/<slug:slug>/signer/", views.sign, name="sign"),
    path("declarations/<slug:slug>/signer/merci/", views.check_inbox, name="check_inbox"),
    path("signatures/confirmer/<str:token>/", views.confirm, name="confirm"),
    path("signatures/confirmee/", views.confirmed, name="confirmed"),
    path("signatures/renvoyer/", views.resend, name="resend"),
    path("signatures/contester/<str:public_id>/", views.contest, name="contest"),
    path("signatures/gerer/", views.manage_request, name="manage_request"),
    path("signatures/gerer/<str:token>/", views.manage, name="manage"),
    path(
        "signatures/deliberation/<str:public_id>/",
        proof_views.moderator_deliberation,
        name="deliberation",
    ),
    path("proconnect/login/", proconnect.login, name="proconnect_login"),
    path("proconnect/callback/", proconnect.callback, name="proconnect_callback"),
    path("proconnect/logout/", proconnect.logout, name="proconnect_logout"),
]
