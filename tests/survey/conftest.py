import pytest

from survey import services
from survey.models import Campaign
from tests.support.definitions import mini_definition


@pytest.fixture
def mini_campaign(organisation) -> Campaign:
    version, _created = services.survey_version_load(data=mini_definition(), organisation=organisation)
    return services.campaign_open(survey_version=version, slug="mini")
