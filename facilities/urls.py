from django.urls import path

from . import views

app_name = "facilities"

urlpatterns = [
    path("", views.home, name="home"),
    path("facilities/", views.facility_list, name="list"),
    path("facilities/<slug:slug>/", views.facility_detail, name="detail"),
]
