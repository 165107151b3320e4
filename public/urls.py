from django.urls import path

from . import latest, pages, social, verify, views

app_name = "public"

urlpatterns = [
    path("declarations/<slug:slug>/signataires/", views.signatory_list, name="list"),
    path(
        "declarations/<slug:slug>/signataires/nouvelles/",
        views.signatory_updates,
        name="list_updates",
    ),
    path("declarations/<slug:slug>/signataires.csv", views.signatory_csv, name="csv"),
    path("declarations/<slug:slug>/signataires.xlsx", views.signatory_xlsx, name="xlsx"),
    path("declarations/<slug:slug>/statistiques/", views.statistics, name="statistics"),
    path("declarations/<slug:slug>/widget/", views.widget, name="widget"),
    path("declarations/<slug:slug>/dernieres/", latest.latest, name="latest"),
    path("declarations/<slug:slug>/image.png", social.social_image, name="social_image"),
    path("partager/mastodon/", social.share_on_mastodon, name="share_mastodon"),
    path("confidentialite/", pages.privacy, name="privacy"),
    path("mentions-legales/", pages.legal, name="legal"),
    path("accessibilite/", pages.accessibility, name="accessibility"),
    path("contact/", pages.contact, name="contact"),
    path("verifier/<str:public_id>/", verify.verify, name="verify"),
    path("verifier/<str:public_id>/attestation.pdf", verify.attestation, name="attestation"),
    path("verifier/<str:public_id>/deliberation.pdf", verify.deliberation, name="deliberation"),
]
