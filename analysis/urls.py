"""Researchers' pages under ``/analysis/``: published aggregates, and the exports page with its downloads."""

from django.urls import path

from analysis import views

app_name = "analysis"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:campaign>/", views.overview, name="overview"),
    path("<slug:campaign>/questions/<slug:question>/", views.question, name="question"),
    path("<slug:campaign>/crosstab/", views.crosstab, name="crosstab"),
    path("<slug:campaign>/themes/", views.themes, name="themes"),
    path("<slug:campaign>/themes/<slug:theme>/", views.theme, name="theme"),
    path("<slug:campaign>/compare/", views.compare, name="compare"),
    path("<slug:campaign>/aggregate/", views.aggregate, name="aggregate"),
    path("<slug:campaign>/exports/", views.exports, name="exports"),
    path("<slug:campaign>/exports/new/", views.export_create, name="export_create"),
    path("<slug:campaign>/exports/<int:job>/download/", views.export_download, name="export_download"),
]
