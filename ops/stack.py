"""``make stack``: the docker-compose services as local processes, with the compose commands.

deploy/docker-compose.yml is the one source of truth for each service's command: this module
reads it, interpolates ``${VAR:-default}`` with local values (127.0.0.1, free ports, paths
under PP_HOME/stack) and maps container paths to local ones. PostgreSQL (an image without a
command) becomes a local cluster; Prometheus runs Debian's binary with a config generated from
deploy/prometheus/prometheus.yml.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops import postgres, redis
from ops.procs import wait_http
from prices_predictor.core.errors import UserError

BIN = Path(sys.executable).parent
_VAR = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose-style: ${VAR}, ${VAR:-default}, ${VAR:?error}; $$ is a literal $."""

    def repl(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        value = env.get(name, "")
        if value:
            return value
        if op == "-":
            return arg
        if op == "?":
            raise UserError(f"compose variable {name} is required: {arg}")
        return ""

    return _VAR.sub(repl, text.replace("$$", "\x00")).replace("\x00", "$")


def compose_file(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / "deploy" / "docker-compose.yml"


def compose_commands(path: Path) -> dict[str, list[str]]:
    """Each service's command as written in the compose file (uninterpolated)."""
    services = yaml.safe_load(path.read_text())["services"]
    return {name: list(svc["command"]) for name, svc in services.items() if "command" in svc}


def local_argv(argv: list[str], env: dict[str, str], paths: dict[str, str]) -> list[str]:
    """Interpolate, point /opt/venv/bin at this venv, and map container paths to local ones."""
    out = []
    for arg in argv:
        arg = interpolate(arg, env).replace("/opt/venv/bin/", f"{BIN}/")
        for container, local in paths.items():
            arg = arg.replace(container, local)
        out.append(arg)
    return out


@dataclass
class Ports:
    postgres: int = 55432
    mlflow: int = 5000
    api: int = 8000
    prometheus: int = 9090
    redis: int = 6379


@dataclass
class Stack:
    home: Path
    ports: Ports = field(default_factory=Ports)
    root: Path = field(default_factory=Path.cwd)
    scrape_interval: str = "5s"
    reload_interval_s: float = 5.0
    admin_token: str = ""
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def dir(self) -> Path:
        return self.home / "stack"

    @property
    def state_file(self) -> Path:
        return self.dir / "stack.json"

    @property
    def pg_dir(self) -> Path:
        """As root the server runs as 'postgres', which cannot enter private dirs (pytest's,
        a user's home): its cluster then lives in a world-traversable place of its own."""
        if os.geteuid() != 0:
            return self.dir / "postgres"
        import hashlib

        tag = hashlib.sha1(str(self.dir).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"prices-predictor-pg-{tag}"

    @property
    def db_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.ports.postgres}/pp"

    @property
    def mlflow_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.mlflow}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.redis}/0"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.prometheus}"

    def env(self) -> dict[str, str]:
        """The compose variables, with local values."""
        return {
            "MLFLOW_HOST": "127.0.0.1",
            "MLFLOW_PORT": str(self.ports.mlflow),
            "MLFLOW_BACKEND_URI": self.db_url,
            "MLFLOW_ARTIFACTS": str(self.dir / "mlartifacts"),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.ports.api),
            "PROMETHEUS_LISTEN": f"127.0.0.1:{self.ports.prometheus}",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.ports.redis),
        }

    def paths(self) -> dict[str, str]:
        return {
            "/etc/prometheus/": f"{self.dir / 'prometheus'}/",
            "--storage.tsdb.path=/prometheus": f"--storage.tsdb.path={self.dir / 'promdata'}",
        }

    def _local_path(self, name: str, arg: str) -> str:
        return str(self.dir / "redis") if name == "redis" and arg == "/data" else arg

    def service_env(self, name: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PP_")}
        base.update(
            MLFLOW_DISABLE_TELEMETRY="true",
            ZENML_ANALYTICS_OPT_IN="false",
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
        )
        if name == "mlflow":
            base["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        if name in ("trainer", "api", "worker"):
            base.update(PP_MLFLOW_TRACKING_URI=self.mlflow_url, PP_HOME=str(self.dir / name))
            for k in (
                "PP_PARAMS_FILE",
                "PP_DATA",
                "PP_MODEL",
                "PP_CV_FOLDS",
                "PP_GATE_MAX_RMSE",
                "PP_GATE_MIN_R2",
            ):
                if k in os.environ:
                    base[k] = os.environ[k]
        if name in ("trainer", "api"):  # the feature store's online side: Redis db 1
            base.update(
                PP_FEATURE_REPO=str(self.dir / "features"),
                PP_FEATURE_ONLINE_STORE=json.dumps(
                    {"type": "redis", "connection_string": f"127.0.0.1:{self.ports.redis},db=1"}
                ),
                PP_FEATURE_STORE=os.environ.get("PP_FEATURE_STORE", "none"),
            )
        if name in ("api", "worker"):
            base.update(
                PP_REDIS_URL=self.redis_url,
                PP_JOBS_DIR=str(self.dir / "jobs"),
                PP_MODEL_URI="",
            )
        if name == "api":
            base.update(
                PP_PREDICTION_DB_URL=self.db_url,
                PP_MODEL_URI="",
                PP_RELOAD_INTERVAL_S=str(self.reload_interval_s),
            )
            if self.admin_token:
                base["PP_ADMIN_TOKEN"] = self.admin_token
        return base

    def argv(self, name: str) -> list[str]:
        argv = local_argv(compose_commands(compose_file(self.root))[name], self.env(), self.paths())
        argv = [self._local_path(name, a) for a in argv]
        if name == "prometheus":
            return ["prometheus", *argv]
        if name == "worker":  # compose's restart: always
            return [sys.executable, str(Path(__file__).with_name("supervise.py")), *argv]
        return argv

    # ---- lifecycle -----------------------------------------------------------------------
    def up(self) -> None:
        if self.state_file.exists():
            raise UserError(f"a stack is already running under {self.dir} (make stack-down)")
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            postgres.start(self.pg_dir, self.ports.postgres)
            self._save()
            (self.dir / "redis").mkdir(exist_ok=True)
            self._spawn("redis")
            redis.wait(self.redis_url, 30)
            self._spawn("mlflow")
            _wait(f"{self.mlflow_url}/health", 120, "mlflow")
            self._run("trainer")
            self._spawn("api")
            _wait(f"{self.api_url}/ready", 120, "api")
            self._spawn("worker")
            self._write_prometheus_config()
            self._spawn("prometheus")
            _wait(f"{self.prometheus_url}/-/ready", 60, "prometheus")
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        state = self._load()
        for name in ("prometheus", "worker", "api", "mlflow", "redis"):
            pid = state.get("pids", {}).get(name)
            if pid:
                stop_pid(pid)
        postgres.stop(self.pg_dir)
        if os.geteuid() == 0:
            shutil.rmtree(self.pg_dir, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    def stop_service(self, name: str) -> None:
        stop_pid(self.pids[name])
        self.pids.pop(name)
        self._save()

    def _spawn(self, name: str) -> None:
        log = (self.dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            self.argv(name),
            env=self.service_env(name),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.dir,
        )
        self.pids[name] = proc.pid
        self._save()

    def _run(self, name: str) -> None:
        with (self.dir / f"{name}.log").open("ab") as log:
            rc = subprocess.run(
                self.argv(name),
                env=self.service_env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                timeout=1800,
            ).returncode
        if rc != 0:
            raise UserError(f"{name} failed (exit {rc}); see {self.dir / f'{name}.log'}")

    def _write_prometheus_config(self) -> None:
        src = self.root / "deploy" / "prometheus"
        dst = self.dir / "prometheus"
        dst.mkdir(parents=True, exist_ok=True)
        cfg = yaml.safe_load((src / "prometheus.yml").read_text())
        cfg["global"]["scrape_interval"] = self.scrape_interval
        cfg["global"]["evaluation_interval"] = self.scrape_interval
        for job in cfg["scrape_configs"]:
            for sc in job.get("static_configs", []):
                sc["targets"] = [
                    f"127.0.0.1:{self.ports.api}" if t.startswith("api:") else t
                    for t in sc["targets"]
                ]
        (dst / "prometheus.yml").write_text(yaml.safe_dump(cfg))
        shutil.copy(src / "alerts.yml", dst / "alerts.yml")

    def _save(self) -> None:
        state = {"home": str(self.home), "ports": asdict(self.ports), "pids": self.pids}
        self.state_file.write_text(json.dumps(state, indent=2))

    def _load(self) -> dict[str, Any]:
        if not self.state_file.exists():
            return {"pids": self.pids}
        state: dict[str, Any] = json.loads(self.state_file.read_text())
        return state


def stop_pid(pid: int, timeout: float = 30) -> None:
    """SIGTERM the process group (graceful), SIGKILL after ``timeout``."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):  # reap our own child, if it is one
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)


def _wait(url: str, timeout: float, name: str) -> None:
    try:
        wait_http(url, timeout, poll_s=0.3)
    except TimeoutError:
        raise UserError(f"{name} did not become ready at {url} within {timeout:.0f}s") from None


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="python -m ops.stack")
    p.add_argument("action", choices=["up", "down"])
    a = p.parse_args(argv)
    home = Path(os.environ.get("PP_HOME", ".pp")).resolve()
    stack = Stack(home, admin_token=os.environ.get("PP_ADMIN_TOKEN", ""))
    try:
        if a.action == "up":
            stack.up()
            print(
                f"stack up: api {stack.api_url}  mlflow {stack.mlflow_url}  "
                f"prometheus {stack.prometheus_url}  (make stack-down stops it)"
            )
        else:
            stack.down()
            print("stack down")
    except UserError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
