"""A pytest plugin loaded before Django (``-p tests.environment`` in pyproject.toml): the test environment.

Settings refuse to start without a secret when DEBUG is off, and tests run with DEBUG off, as production does.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("STATIC_MANIFEST", "0")
# Test clients walk a survey in milliseconds; the bot check has its own tests that set the minimum.
os.environ.setdefault("STIMMEN_MIN_COMPLETION_SECONDS", "0")
