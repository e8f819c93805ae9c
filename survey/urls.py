from django.urls import path

from survey.views import journey

app_name = "survey"

wizard = journey.SurveyWizard.as_view(url_name="survey:step", done_step_name=journey.DONE_STEP)

urlpatterns = [
    path("<slug:campaign>/", journey.start, name="start"),
    path("<slug:campaign>/q/", wizard, name="wizard"),
    path("<slug:campaign>/q/<slug:step>/", wizard, name="step"),
    path("<slug:campaign>/later/", journey.continue_later, name="later"),
    path("<slug:campaign>/resume/", journey.resume, name="resume"),
    path("<slug:campaign>/thanks/", journey.thanks, name="thanks"),
    path("<slug:campaign>/stopped/", journey.stopped, name="stopped"),
]
