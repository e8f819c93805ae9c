from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.health import healthz
from config.middleware import server_error
from survey.views import accounts

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("s/", include("survey.urls")),
    path("staff/", include("survey.urls_staff")),
    path("analysis/", include("analysis.urls")),
    path("accounts/", accounts.home, name="account_home"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/login/code/", accounts.login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/two-factor/", accounts.two_factor, name="two_factor"),
    path("admin/", admin.site.urls),
]

# An outage (database or Redis away) answers the 503 page instead of the 500 page: config/middleware.py.
handler500 = server_error
