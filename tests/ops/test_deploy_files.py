"""Deployment files are valid, reference files that exist, and share commands with `make stack`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ops.stack import Ports, Stack, compose_commands, interpolate
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_yaml_files_parse() -> None:
    for path in [
        DEPLOY / "docker-compose.yml",
        *DEPLOY.glob("prometheus/*.yml"),
        *DEPLOY.glob("k8s/*.yaml"),
    ]:
        assert yaml.safe_load(path.read_text()), path


def test_compose_topology() -> None:
    services = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]
    assert set(services) == {
        "postgres",
        "mlflow",
        "trainer",
        "api",
        "prometheus",
        "redis",
        "worker",
    }
    assert "--appendonly" in services["redis"]["command"]  # queued jobs survive a restart
    assert services["worker"]["restart"] == "always"
    for name in ("api", "worker"):  # one queue, one place for uploads and results
        assert services[name]["environment"]["PP_REDIS_URL"].startswith("redis://redis:")
        assert services[name]["environment"]["PP_JOBS_DIR"] == "/jobs"
        assert "jobs:/jobs" in services[name]["volumes"]
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["mlflow"]
    api_deps = services["api"]["depends_on"]
    assert api_deps["postgres"]["condition"] == "service_healthy"
    assert api_deps["trainer"]["condition"] == "service_completed_successfully"
    assert services["mlflow"]["environment"]["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    text = (DEPLOY / "docker-compose.yml").read_text()
    assert not re.search(r"PASSWORD:\s+[^$\s]", text)  # no committed secret
    assert (DEPLOY / ".env.example").exists()


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Stage name -> its (instruction, arguments), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        if op.upper() == "FROM":
            current = stages.setdefault(args.split()[-1], [])
        current.append((op.upper(), args.strip()))
    return stages


def test_dockerfile_stages_copy_real_files_and_run_unprivileged() -> None:
    stages = dockerfile_stages()
    assert {"builder", "trainer", "runtime"} <= set(stages)
    for steps in stages.values():
        for op, args in steps:
            if op == "COPY" and "--from" not in args:
                for src in args.split()[:-1]:
                    assert (ROOT / src).exists(), src
    runtime = stages["runtime"]
    users = [a for op, a in runtime if op == "USER"]
    assert users and users[-1] not in ("root", "0")  # the server never runs as root
    health = [a for op, a in runtime if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/ready" in health[0]
    cmd = [a for op, a in runtime if op == "CMD"][-1]
    assert "prices-predictor serve" in cmd and "${PORT}" in cmd
    trainer_args = {a.split("=")[0] for op, a in stages["trainer"] if op == "ARG"}
    assert {"TRAIN_AT_BUILD", "MODEL_VERSION"} <= trainer_args
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".pp"} <= set(ignored)


def test_k8s_probes_and_autoscaling() -> None:
    dep = yaml.safe_load((DEPLOY / "k8s" / "deployment.yaml").read_text())
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["livenessProbe"]["httpGet"]["path"] == "/health"
    assert c["resources"]["limits"] and c["resources"]["requests"]
    hpa = yaml.safe_load((DEPLOY / "k8s" / "hpa.yaml").read_text())
    assert hpa["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"]


def test_prometheus_config_and_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: .ci/run installs Debian's prometheus")
    shutil.copytree(DEPLOY / "prometheus", tmp_path / "p")
    out = subprocess.run(
        [promtool, "check", "config", str(tmp_path / "p" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert names == {"PricesDriftAlert", "PricesHigh5xxRate", "PricesHighP99Latency"}


def test_stack_runs_the_compose_commands(tmp_path: Path) -> None:
    stack = Stack(tmp_path, Ports(1, 2, 3, 4, 5), root=ROOT)
    compose = compose_commands(DEPLOY / "docker-compose.yml")
    for name in ("mlflow", "trainer", "api", "prometheus", "redis", "worker"):
        argv = stack.argv(name)
        tail = argv[1:] if name == "prometheus" else argv[2:] if name == "worker" else argv
        assert len(tail) == len(compose[name])
        for local, raw in zip(tail, compose[name], strict=True):
            if (
                "$" not in raw
                and "/opt/venv" not in raw
                and raw not in ("/data",)
                and "/prometheus" not in raw
            ):
                assert local == raw  # literal arguments are taken verbatim
    assert stack.argv("api")[1:] == ["serve", "--host", "127.0.0.1", "--port", "3"]
    assert stack.argv("redis")[:5] == ["redis-server", "--port", "5", "--bind", "127.0.0.1"]
    assert str(tmp_path / "stack" / "redis") in stack.argv("redis")
    assert stack.argv("worker")[1].endswith("ops/supervise.py")
    assert stack.argv("worker")[3:] == ["worker"]
    assert stack.argv("trainer")[-1].endswith("prices-predictor train || [ $? -eq 3 ]")


def test_interpolation_rules() -> None:
    env = {"A": "1"}
    assert interpolate("${A}-${B:-x}-$$", env) == "1-x-$"
    with pytest.raises(Exception, match="required"):
        interpolate("${C:?set C}", env)


def test_k8s_job_queue_redis_and_workers() -> None:
    k8s = DEPLOY / "k8s"
    redis = yaml.safe_load((k8s / "redis.yaml").read_text())
    assert "--appendonly" in redis["spec"]["template"]["spec"]["containers"][0]["command"]
    assert redis["spec"]["volumeClaimTemplates"]  # the append-only file outlives the pod
    service = yaml.safe_load((k8s / "redis-service.yaml").read_text())
    config = yaml.safe_load((k8s / "configmap.yaml").read_text())["data"]
    assert config["PP_REDIS_URL"] == f"redis://{service['metadata']['name']}:6379/0"
    claim = yaml.safe_load((k8s / "jobs-volume.yaml").read_text())
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # API and workers on any node
    for name in ("deployment.yaml", "worker.yaml"):
        spec = yaml.safe_load((k8s / name).read_text())["spec"]["template"]["spec"]
        mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        claims = {v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]}
        assert config["PP_JOBS_DIR"] in mounts and claim["metadata"]["name"] in claims
    worker = yaml.safe_load((k8s / "worker.yaml").read_text())
    assert worker["spec"]["template"]["spec"]["containers"][0]["command"][-1] == "worker"


def test_k8s_feature_repository_is_mounted_and_online_store_is_redis_db_1() -> None:
    k8s = DEPLOY / "k8s"
    config = yaml.safe_load((k8s / "configmap.yaml").read_text())["data"]
    claim = yaml.safe_load((k8s / "features-volume.yaml").read_text())
    spec = yaml.safe_load((k8s / "deployment.yaml").read_text())["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]}
    assert volumes[mounts[config["PP_FEATURE_REPO"]]] == claim["metadata"]["name"]
    online = json.loads(config["PP_FEATURE_ONLINE_STORE"])
    assert online == {"type": "redis", "connection_string": "redis:6379,db=1"}
    assert config["PP_FEATURE_STORE"] == "none"  # on by choice: PP_FEATURE_STORE=feast
