"""The one place that reads the process environment (12-factor).

Every setting that differs between a laptop, CI and a city's production servers comes from here, with a safe
default for development. Production refuses to start without a real ``SECRET_KEY``.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is a convenience for local runs; real deployments set variables in the process environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
