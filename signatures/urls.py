from django.urls import path

from proconnect import views as proconnect

from .proof import views as proof_views
from .views import confirm, contest, links, manage, sign

app_name = "signatures"

urlpatterns = [
    path("declarations/<slug:slug>/signer/", sign.sign, name="sign"),
    path("declarations/<slug:slug>/signer/merci/", sign.check_inbox, name="check_inbox"),
    path("signatures/confirmer/<str:token>/", confirm.confirm, name="confirm"),
    path("signatures/confirmee/", confirm.confirmed, name="confirmed"),
    path("signatures/renvoyer/", links.resend, name="resend"),
    path("signatures/contester/<str:public_id>/", contest.contest, name="contest"),
    path("signatures/gerer/", links.manage_request, name="manage_request"),
    path("signatures/gerer/<str:token>/", manage.manage, name="manage"),
    path(
        "signatures/deliberation/<str:public_id>/",
        proof_views.moderator_deliberation,
        name="deliberation",
    ),
    path("proconnect/login/", proconnect.login, name="proconnect_login"),
    path("proconnect/callback/", proconnect.callback, name="proconnect_callback"),
    path("proconnect/logout/", proconnect.logout, name="proconnect_logout"),
]
