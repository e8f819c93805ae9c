import pytest


@pytest.fixture(autouse=True)
def english_interface(settings):
    """These tests read the researchers' pages in English, the source language; translations have their own tests."""
    settings.LANGUAGE_CODE = "en"
