from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("declarations/<slug:slug>/signataires/", views.signatory_list, name="list"),
    path(
        "declarations/<slug:slug>/signataires/nouvelles/",
        views.signatory_updates,
        name="list_updates",
    ),
    path("declarations/<slug:slug>/signataires.csv", views.signatory_csv, name="csv"),
    path("declarations/<slug:slug>/statistiques/", views.statistics, name="statistics"),
    path("declarations/<slug:slug>/widget/", views.widget, name="widget"),
]
