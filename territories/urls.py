from django.urls import path

from . import views

app_name = "territories"

urlpatterns = [
    path("territoires/recherche/", views.search, name="search"),
]
