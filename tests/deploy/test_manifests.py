"""The Kubernetes manifests (deploy/k8s/) and compose.yaml: they parse, and what
they name exists: the image's port and command, the probe paths, the environment
the app reads, the Services the others reach, the nginx settings of DEPLOY.md.

Not checked here: ``kubectl apply --dry-run`` and ``docker compose config`` need a
cluster and Docker's compose plugin, neither of which this machine has.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.main import app
from app.rooms.service import REDIS_URL_ENV

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} found"
    return matches[0]


def container(deployment: str) -> dict[str, Any]:
    spec = find("Deployment", deployment)["spec"]["template"]["spec"]
    assert len(spec["containers"]) == 1
    return spec["containers"][0]


def env(c: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", [])}


def answers_ok(path: str) -> bool:
    with TestClient(app) as client:
        return client.get(path).status_code == 200


def test_every_file_kustomize_lists_exists_and_every_manifest_is_listed() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    for generator in kustomization["configMapGenerator"]:
        for f in generator["files"]:
            assert (K8S / f).is_file()


def test_each_workload_is_selected_by_its_service_and_has_probes_and_limits() -> None:
    for name in ("convviz", "convviz-redis", "convviz-nginx"):
        deployment = find("Deployment", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        service = find("Service", name)
        assert service["spec"]["selector"].items() <= labels.items()
        c = container(name)
        ports = {p["containerPort"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
        assert c["readinessProbe"] and c["livenessProbe"]
        assert {"cpu", "memory"} <= c["resources"]["limits"].keys()
        assert c["securityContext"]["allowPrivilegeEscalation"] is False


def test_the_app_matches_the_image_and_the_code() -> None:
    c = container("convviz")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^EXPOSE 8000$", dockerfile, re.M) and "--port 8000" in dockerfile
    assert [p["containerPort"] for p in c["ports"]] == [8000]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert c["image"].endswith(f"/convviz:{version}")
    for probe in ("readinessProbe", "livenessProbe"):
        assert answers_ok(c[probe]["httpGet"]["path"])
        assert c[probe]["httpGet"]["port"] == 8000
    variables = env(c)
    assert "WEB_CONCURRENCY" in dockerfile
    assert variables["WEB_CONCURRENCY"] == str(c["resources"]["limits"]["cpu"])
    # The Redis URL names the Redis Service and its port, under the name the app reads.
    redis_port = find("Service", "convviz-redis")["spec"]["ports"][0]["port"]
    assert variables[REDIS_URL_ENV] == f"redis://convviz-redis:{redis_port}/0"
    hpa = find("HorizontalPodAutoscaler", "convviz")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "convviz",
    }


def nginx_conf() -> str:
    return (K8S / "nginx.conf").read_text()


def location(conf: str, name: str) -> str:
    m = re.search(r"location " + re.escape(name) + r" \{(.*?)\n    \}", conf, re.S)
    assert m, f"no location {name}"
    return m[1]


def test_nginx_reaches_the_app_service_and_keeps_docs_deploy_settings() -> None:
    conf = nginx_conf()
    service = find("Service", "convviz")["spec"]["ports"][0]["port"]
    assert re.search(rf"server convviz:{service};", conf)
    # Every directive the DEPLOY.md server block sets (TLS and the static alias aside).
    deploy = (ROOT / "docs" / "DEPLOY.md").read_text()
    block = deploy[deploy.index("listen 443 ssl;") : deploy.index("location = /api/images")]
    for line in block.splitlines():
        directive = line.split("#")[0].strip()
        if not directive or directive.split()[0] in {"listen", "http2", "server_name"}:
            continue
        if directive.startswith("ssl_"):
            continue
        assert directive in conf, f"nginx.conf lacks {directive!r} (docs/DEPLOY.md)"
    # The room streams: unbuffered, and not cut off while quiet between keep-alives.
    rooms = location(conf, "/api/rooms/")
    assert "proxy_buffering off;" in rooms
    timeout = re.search(r"proxy_read_timeout (\d+)(h|s);", rooms)
    assert timeout and int(timeout[1]) * (3600 if timeout[2] == "h" else 1) > 15
    # The probe path nginx answers itself.
    probe = container("convviz-nginx")["readinessProbe"]["httpGet"]
    assert f"location = {probe['path']}" in conf
    assert f"listen {probe['port']};" in conf


def test_compose_runs_replicas_redis_and_nginx_from_these_files() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    app_service = services["convviz"]
    assert (ROOT / app_service["build"] / "Dockerfile").is_file()
    assert app_service["deploy"]["replicas"] >= 2
    assert app_service["environment"][REDIS_URL_ENV] == "redis://redis:6379/0"
    assert "redis" in services and "redis-cli" in services["redis"]["healthcheck"]["test"]
    mounts = services["nginx"]["volumes"]
    assert len(mounts) == 1
    source, target, _ = mounts[0].split(":")
    assert (ROOT / source).resolve() == (K8S / "nginx.conf").resolve()
    assert target == "/etc/nginx/conf.d/default.conf"
    listen = re.search(r"listen (\d+);", nginx_conf())
    assert listen and services["nginx"]["ports"][0].endswith(f":{listen[1]}")
    # The image compose builds is the one the manifests run.
    assert app_service["image"].split(":")[1] == container("convviz")["image"].split(":")[1]


@pytest.mark.parametrize("name", ["app.yaml", "redis.yaml", "nginx.yaml"])
def test_manifests_have_api_versions_and_names(name: str) -> None:
    for doc in yaml.safe_load_all((K8S / name).read_text()):
        assert {"apiVersion", "kind", "metadata", "spec"} <= doc.keys()
        assert doc["metadata"]["name"].startswith("convviz")
