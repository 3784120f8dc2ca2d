"""Deployment files: the image, the compose stack and nginx, checked without a container engine.

No Docker engine runs on the build machines, so these tests read the files and run the image's
entry point directly, exactly as its CMD would, against a real MongoDB-protocol server.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from config import PROJECT_ROOT
from store.embedded_server import free_port

pytestmark = pytest.mark.integration

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
NGINX = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()


def dockerfile_instruction(name: str) -> list[str]:
    """Return the arguments of every Dockerfile instruction of this name, continuations joined."""
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_image_runs_as_a_non_root_user():
    users = dockerfile_instruction("USER")

    assert users
    assert users[-1] not in {"root", "0"}


def test_image_starts_the_same_command_as_make_run():
    command = json.loads(dockerfile_instruction("CMD")[-1])
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    run_recipe = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)[1]

    assert command[0] == "gunicorn"
    assert shlex.split(run_recipe)[1:] == command[1:]


def test_image_healthcheck_asks_health():
    (healthcheck,) = dockerfile_instruction("HEALTHCHECK")

    assert "/health" in healthcheck


def test_image_copies_every_module_the_app_imports():
    copied = " ".join(dockerfile_instruction("COPY"))

    packages = sorted(
        path.parent.name
        for path in PROJECT_ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    )

    assert "*.py" in copied
    # The API description is built from the code (api_docs/), no file of its own.
    assert "openapi" not in copied
    assert packages, "the application's packages"
    for package in packages:
        assert f"{package} ./{package}" in dockerfile_instruction("COPY")


def test_compose_runs_a_three_member_replica_set():
    mongods = [name for name in ("mongo1", "mongo2", "mongo3") if name in COMPOSE["services"]]
    initiate = " ".join(COMPOSE["services"]["mongo-init"]["command"])

    assert len(mongods) == 3
    for name in mongods:
        assert "--replSet" in COMPOSE["services"][name]["command"]
        assert f'host: "{name}:27017"' in initiate


def test_compose_api_replicas_share_key_database_and_covers():
    replicas = [s for n, s in COMPOSE["services"].items() if n.startswith("api")]

    assert len(replicas) == 2
    environments = [replica["environment"] for replica in replicas]
    assert environments[0] == environments[1]
    assert "SECRET_KEY" in environments[0]
    assert "replicaSet=rs0" in environments[0]["DATABASE_URL"]
    assert environments[0]["COVER_STORAGE"] == "gridfs"


def test_compose_proxy_is_the_only_trusted_proxy_and_reaches_both_replicas():
    trusted = COMPOSE["services"]["api1"]["environment"]["TRUSTED_PROXIES"]
    proxy_address = COMPOSE["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    upstreams = re.findall(r"server (api\d):5000", NGINX)

    assert proxy_address.startswith(trusted.split("/")[0].rsplit(".", 1)[0])
    assert upstreams == ["api1", "api2"]
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in NGINX


def test_proxy_lets_the_api_answer_413_itself():
    limit = re.search(r"client_max_body_size (\d+)m;", NGINX)[1]

    assert int(limit) * 1024 * 1024 > 5 * 1024 * 1024


def test_image_entry_point_serves_with_the_compose_settings(nx_server_url, tmp_path):
    port = free_port()
    command = json.loads(dockerfile_instruction("CMD")[-1])
    environment = {
        **os.environ,
        "SECRET_KEY": "a-deployment-secret-key-of-32-bytes-or-more",
        "DATABASE_URL": f"{nx_server_url}/deploy_{uuid.uuid4().hex[:8]}",
        "COVER_STORAGE": "gridfs",
        # gunicorn trusts the same proxies as the app (its forwarded_allow_ips).
        "TRUSTED_PROXIES": COMPOSE["services"]["api1"]["environment"]["TRUSTED_PROXIES"],
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "INSTANCE_PATH": str(tmp_path),
        "WEB_CONCURRENCY": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert ready.status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        assert not Path(
            tmp_path, "database"
        ).exists()  # the configured database, not the embedded one
    finally:
        process.terminate()
        process.wait(timeout=60)
