"""Where the RDF IRIs point when ``BASE_URL`` is not set: at the server ``HOST`` and ``PORT``
start (``PORT=8100 make run`` used to leave every IRI on port 8000), and the same for the web
server and the job worker that ``make run`` starts side by side."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from honcho.environ import expand_processes, parse_procfile

from core.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8100"}, "http://127.0.0.1:8100"),
        ({"HOST": "catalogue.local", "PORT": "8100"}, "http://catalogue.local:8100"),
        ({"HOST": "0.0.0.0", "PORT": "80"}, "http://127.0.0.1:80"),  # noqa: S104 - every interface
        ({"HOST": "::", "PORT": "8100"}, "http://127.0.0.1:8100"),
        ({"HOST": "::1", "PORT": "8100"}, "http://[::1]:8100"),
        ({"HOST": "", "PORT": ""}, "http://127.0.0.1:8000"),
    ],
)
def test_the_default_base_follows_host_and_port(tmp_path, env, expected):
    config = load_config(tmp_path, {"HARMONY_ENV": "testing", **env})
    assert config["BASE_URL"] == expected


def test_a_set_base_url_wins_over_host_and_port(tmp_path):
    env = {"HARMONY_ENV": "testing", "PORT": "8100", "BASE_URL": "https://c.example/"}
    assert load_config(tmp_path, env)["BASE_URL"] == "https://c.example"
    # a bad PORT only matters where it would make the address
    assert load_config(tmp_path, env | {"PORT": "http"})["BASE_URL"] == "https://c.example"


@pytest.mark.parametrize("port", ["eighty", "0", "70000"])
def test_a_port_that_is_no_port_is_named(tmp_path, port):
    with pytest.raises(ConfigError, match="PORT"):
        load_config(tmp_path, {"HARMONY_ENV": "testing", "PORT": port})


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_gives_the_web_server_and_the_worker_one_base(tmp_path):
    """honcho gives each process of the Procfile its own PORT (the worker's is the web
    server's + 100): ``make run`` fixes BASE_URL for both, so that an export the worker writes
    names the IRIs the web server answers."""
    python = Path(sys.executable)
    make = str(shutil.which("make"))
    dry_run = subprocess.run(  # noqa: S603 - our own Makefile, fixed arguments
        [make, "-n", "run", "PORT=8100", "HOST=0.0.0.0", f"BIN={python.parent}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": str(python.parent) + ":/usr/bin:/bin"},
    ).stdout
    line = next(x for x in dry_run.splitlines() if "honcho start" in x)
    passed = dict(re.findall(r"(\w+)='?([^' ]*)'? ", line.split("honcho")[0]))
    assert passed["BASE_URL"] == "http://127.0.0.1:8100"
    processes = parse_procfile((ROOT / "Procfile").read_text()).processes
    started = expand_processes(processes, env=passed, port=int(passed["PORT"]))
    assert {p.name for p in started} == {"web.1", "worker.1"}
    assert len({p.env["PORT"] for p in started}) == 2  # why BASE_URL must be passed
    bases = {
        load_config(tmp_path, {**p.env, "HARMONY_ENV": "testing"})["BASE_URL"] for p in started
    }
    assert bases == {"http://127.0.0.1:8100"}
