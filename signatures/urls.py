from django.urls import path

from . import public_views, statistics_views, views

app_name = "signatures"

urlpatterns = [
    path("declarations/<slug:slug>/signer/", views.sign, name="sign"),
    path("declarations/<slug:slug>/signer/merci/", views.check_inbox, name="check_inbox"),
    path("declarations/<slug:slug>/signataires/", public_views.signatory_list, name="list"),
    path(
        "declarations/<slug:slug>/signataires/nouvelles/",
        public_views.signatory_updates,
        name="list_updates",
    ),
    path("declarations/<slug:slug>/signataires.csv", public_views.signatory_csv, name="csv"),
    path(
        "declarations/<slug:slug>/statistiques/",
        statistics_views.statistics,
        name="statistics",
    ),
    path("declarations/<slug:slug>/widget/", statistics_views.widget, name="widget"),
    path("signatures/confirmer/<str:token>/", views.confirm, name="confirm"),
    path("signatures/renvoyer/", views.resend, name="resend"),
]
