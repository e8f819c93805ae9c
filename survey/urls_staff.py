"""Project staff pages under ``/staff/``."""

app_name = "staff"

urlpatterns: list = []
