"""Researchers' pages under ``/analysis/``: aggregates only."""

app_name = "analysis"

urlpatterns: list = []
