from django.urls import path

from . import views

app_name = "declarations"

urlpatterns = [
    path("", views.home, name="home"),
    path("declarations/<slug:slug>/", views.detail, name="detail"),
    path("declarations/<slug:slug>/engagement/", views.engagement, name="engagement"),
]
