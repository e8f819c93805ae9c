"""Researchers' pages under ``/analysis/``: aggregates only."""

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
]
