"""Run Django in a child process with its own environment.

Settings are read once per process, so checking what production, a replica or
Redis does to them needs a fresh interpreter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Variables of the parent run that would leak into what the child should decide alone.
CLEARED = (
    "DJANGO_ENV",
    "PRODUCTION",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "STATIC_MANIFEST",
    "WHITENOISE_USE_FINDERS",
    "REDIS_URL",
    "DATABASE_REPLICA_URL",
    "LOG_FORMAT",
    "PYTEST_ADDOPTS",
)

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x7Rq-2kLm9Vt_4sBw8Zp1Yc6Nd3Hf5Jg0Ua7Xe2Wi9Qo4Tr1Ks8Lv3Mb6Pn5Cy",
    "ALLOWED_HOSTS": "iopfinder.example",
}


def child_env(**overrides):
    env = {key: value for key, value in os.environ.items() if key not in CLEARED}
    env["DJANGO_SETTINGS_MODULE"] = "finder.settings"
    env.update(overrides)
    return env


def run(args, timeout=120, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_script(code, timeout=120, **env):
    """Run Python code after django.setup(); it prints one JSON value, which is returned."""
    result = run(["-c", "import django\ndjango.setup()\n" + code], timeout=timeout, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
