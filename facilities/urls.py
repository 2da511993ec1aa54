"""The public pages' addresses (views.py)."""

from django.urls import path

from . import views

app_name = "facilities"

urlpatterns = [
    path("", views.home, name="home"),
    path("facilities/", views.facility_list, name="list"),
    path("facilities/export.csv", views.facility_export, name="export"),
    path("facilities/<slug:slug>/", views.facility_detail, name="detail"),
    path("facilities/<slug:slug>/report/", views.report_problem, name="report"),
    path("facilities/<slug:slug>/report/thanks/", views.report_thanks, name="report_thanks"),
    path("shortlist/", views.shortlist_page, name="shortlist"),
    path("shortlist/add/<int:pk>/", views.shortlist_add, name="shortlist_add"),
    path("states/", views.state_list, name="states"),
    path("states/<slug:state>/", views.state_detail, name="state"),
    path("states/<slug:state>/<slug:city>/", views.city_detail, name="city"),
]
