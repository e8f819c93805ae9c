"""Project staff pages under ``/staff/``."""

from django.urls import path

from survey.views import admin_pages, staff

app_name = "staff"

urlpatterns: list = [
    # --- Staff tools: surveys, previews, campaigns, invite codes, live monitor, jobs (survey/views/staff.py) ---
    path("<slug:org>/", staff.home, name="home"),
    path("<slug:org>/surveys/", staff.survey_list, name="surveys"),
    path("<slug:org>/surveys/upload/", staff.survey_upload, name="survey_upload"),
    path("<slug:org>/surveys/import-limesurvey/", staff.limesurvey_import, name="limesurvey_import"),
    path("<slug:org>/versions/<int:version_id>/preview/", staff.preview, name="preview"),
    path("<slug:org>/versions/<int:version_id>/new-campaign/", staff.campaign_create, name="campaign_create"),
    path("<slug:org>/campaigns/<int:campaign_id>/", staff.campaign_detail, name="campaign"),
    path("<slug:org>/campaigns/<int:campaign_id>/edit/", staff.campaign_edit, name="campaign_edit"),
    path("<slug:org>/campaigns/<int:campaign_id>/status/", staff.campaign_status_change, name="campaign_status"),
    path("<slug:org>/campaigns/<int:campaign_id>/invites/", staff.invite_codes, name="invites"),
    path("<slug:org>/campaigns/<int:campaign_id>/monitor/", staff.campaign_monitor, name="monitor"),
    path("<slug:org>/campaigns/<int:campaign_id>/monitor.json", staff.campaign_monitor_json, name="monitor_json"),
    path("<slug:org>/campaigns/<int:campaign_id>/jobs/", staff.campaign_jobs, name="jobs"),
    # --- End of staff tools ---
    # --- Organisation admins: members, roles, audit log (survey/views/admin_pages.py) ---
    path("<slug:org>/admin/members/", admin_pages.members, name="members"),
    path("<slug:org>/admin/members/add/", admin_pages.member_add, name="member_add"),
    path("<slug:org>/admin/members/<int:membership_id>/role/", admin_pages.member_role, name="member_role"),
    path("<slug:org>/admin/members/<int:membership_id>/remove/", admin_pages.member_remove, name="member_remove"),
    path("<slug:org>/admin/audit/", admin_pages.audit_log, name="audit"),
    # --- End of organisation admins ---
]
