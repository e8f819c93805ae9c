"""Members of organisations, for tests of who may see and do what."""

from django.contrib.auth import get_user_model

from survey.models import Membership, Organisation

PASSWORD = "correct-horse-battery-42"


def member(organisation: Organisation, username: str, role: str, *, password: str = PASSWORD):
    """A user with ``role`` in ``organisation``."""
    user = get_user_model().objects.create_user(username=username, password=password)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user
