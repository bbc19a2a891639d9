"""scripts/run.py, the `make run` supervisor: its decisions and its handling of real processes."""

import io
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from scripts import run

SANDBOX_URL = "http://127.0.0.1:8001"
REAL = {
    "MINICRM_BASE_URL": "https://r3-test.minicrm.hu/",
    "MINICRM_SYSTEM_ID": "4242",
    "MINICRM_API_KEY": "real-key",
}


def test_all_three_minicrm_variables_select_the_real_minicrm():
    backend, missing = run.backend_from_env(REAL, sandbox_url=SANDBOX_URL)

    assert backend == run.Backend(
        base_url="https://r3-test.minicrm.hu", system_id="4242", api_key="real-key", sandbox=False
    )
    assert missing == []


def test_no_minicrm_variables_select_the_sandbox_quietly():
    backend, missing = run.backend_from_env({}, sandbox_url=SANDBOX_URL)

    assert backend.sandbox
    assert (backend.base_url, backend.system_id, backend.api_key) == (
        SANDBOX_URL,
        "12345",
        "sandbox-api-key",
    )
    assert missing == []


def test_partly_configured_minicrm_falls_back_to_the_sandbox_and_says_what_is_missing():
    env = {**REAL, "MINICRM_API_KEY": "  "}

    backend, missing = run.backend_from_env(env, sandbox_url=SANDBOX_URL)

    assert backend.sandbox
    assert missing == ["MINICRM_API_KEY"]


def test_children_get_the_backend_and_redis():
    backend, _ = run.backend_from_env({}, sandbox_url=SANDBOX_URL)

    env = run.children_env(
        {"PATH": "/usr/bin", "MINICRM_API_KEY": "stale"},
        backend=backend,
        redis_url="redis://127.0.0.1:6380/0",
    )

    assert env["PATH"] == "/usr/bin"
    assert env["MINICRM_BASE_URL"] == SANDBOX_URL
    assert env["MINICRM_SYSTEM_ID"] == "12345"
    assert env["MINICRM_API_KEY"] == "sandbox-api-key"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6380/0"
    assert env["PYTHONUNBUFFERED"] == "1"


@pytest.mark.parametrize(
    ("is_root", "has_sudo", "has_apt", "expected_prefix"),
    [
        (True, False, True, []),
        (False, True, True, ["sudo"]),
        (False, False, True, None),
        (True, True, False, None),
    ],
)
def test_redis_is_installed_with_apt_as_root_or_with_sudo(
    is_root, has_sudo, has_apt, expected_prefix
):
    commands = run.redis_install_commands(is_root=is_root, has_sudo=has_sudo, has_apt=has_apt)

    if expected_prefix is None:
        assert commands is None
    else:
        assert commands == [
            [*expected_prefix, "apt-get", "update"],
            [*expected_prefix, "apt-get", "install", "-y", "redis-server"],
        ]


def test_private_redis_is_durable_loopback_only_and_never_evicts(tmp_path):
    command = run.private_redis_command("/usr/bin/redis-server", port=6380, data_dir=tmp_path)

    options = dict(zip(command[1::2], command[2::2], strict=True))
    assert options == {
        "--port": "6380",
        "--bind": "127.0.0.1",
        "--dir": str(tmp_path),
        "--appendonly": "yes",
        "--maxmemory-policy": "noeviction",
        "--save": "",
    }


def test_passwords_are_hidden_in_printed_urls():
    assert run.url_without_password("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert run.url_without_password("redis://127.0.0.1:6380/0") == "redis://127.0.0.1:6380/0"


def test_ports_from_the_environment_are_checked():
    assert run.port_from_env({}, "WEB_PORT", 8000) == 8000
    assert run.port_from_env({"WEB_PORT": "9000"}, "WEB_PORT", 8000) == 9000
    with pytest.raises(run.SupervisorError, match="WEB_PORT"):
        run.port_from_env({"WEB_PORT": "http"}, "WEB_PORT", 8000)


def test_banner_never_prints_a_real_api_key():
    backend, _ = run.backend_from_env(REAL, sandbox_url=SANDBOX_URL)

    lines = run.banner(
        web_url="http://127.0.0.1:8000/",
        password=None,
        backend=backend,
        redis_url="redis://:pw-123456@cache:6379/0",
        private_redis=False,
    )

    text = "\n".join(lines)
    assert "https://r3-test.minicrm.hu" in text
    assert "real-key" not in text
    assert "pw-123456" not in text
    assert "changepassword admin" in text


def test_the_banner_points_to_the_sync_page():
    backend, _ = run.backend_from_env({}, sandbox_url=SANDBOX_URL)

    lines = run.banner(
        web_url="http://127.0.0.1:8000/",
        password=None,
        backend=backend,
        redis_url="redis://127.0.0.1:6380/0",
        private_redis=True,
    )

    assert any("http://127.0.0.1:8000/sync/" in line for line in lines)


def test_the_worker_has_a_slot_for_the_mirror_s_sync_and_two_for_the_rest():
    command = run.worker_command("/venv/bin/python")

    assert command[:6] == ["/venv/bin/python", "-m", "celery", "-A", "crmconsole", "worker"]
    assert command[command.index("--concurrency") + 1] == "3"


def test_the_mirror_s_subscription_is_relayed():
    out = io.StringIO()
    supervisor = run.Supervisor(out)
    script = "print('Mirror: cards: created'); print('Mirror: contacts: created')"

    subscribed = run.mirror_subscribe(
        supervisor, [sys.executable, "-c", script], env=dict(os.environ)
    )

    assert subscribed
    output = out.getvalue()
    assert "run     | mirror: Mirror: cards: created" in output
    assert "run     | mirror: Mirror: contacts: created" in output


def test_a_failed_subscription_is_reported_and_the_run_goes_on():
    out = io.StringIO()
    supervisor = run.Supervisor(out)
    script = "import sys; print('Mirror: cards: created'); sys.exit('CommandError: no sandbox')"

    subscribed = run.mirror_subscribe(
        supervisor, [sys.executable, "-c", script], env=dict(os.environ)
    )

    assert not subscribed
    output = out.getvalue()
    assert "mirror: Mirror: cards: created" in output
    assert (
        "could not subscribe the mirror to the sandbox's webhooks (CommandError: no sandbox)"
        in (output)
    )
    assert "the mirror's poll still finds every change" in output
    assert not run.mirror_subscribe(supervisor, ["/nonexistent/python"], env=dict(os.environ))


# --- The supervisor with real child processes --------------------------------------------

SLEEPER = "import time; print('up', flush=True); time.sleep(60)"
# Leaves a grandchild in its process group, like runserver's reloader or Celery's pool.
PARENT_OF_SLEEPER = (
    "import subprocess, sys, time; "
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print('up', flush=True); time.sleep(60)"
)
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); time.sleep(60)"
)


@pytest.fixture
def supervisor():
    supervisor = run.Supervisor(io.StringIO())
    yield supervisor
    supervisor.stop_all(grace=1)


def _start(supervisor: run.Supervisor, name: str, code: str) -> run.Child:
    return supervisor.start(
        name, [sys.executable, "-c", code], env=dict(os.environ), cwd=Path.cwd(), ready_marker="up"
    )


def test_child_output_is_prefixed_with_its_name(supervisor):
    child = _start(supervisor, "sleeper", SLEEPER)

    supervisor.wait_ready("sleeper", child.ready.is_set, timeout=20)

    assert "sleeper | up" in supervisor.out.getvalue()


def test_a_dying_child_is_reported_by_name(supervisor):
    _start(supervisor, "sleeper", SLEEPER)
    _start(supervisor, "crasher", "import sys; sys.exit(3)")

    dead = supervisor.watch()

    assert dead is not None
    assert dead.name == "crasher"
    assert dead.process.returncode == 3


def test_a_child_dying_before_it_is_ready_fails_the_wait(supervisor):
    _start(supervisor, "crasher", "import sys; sys.exit(2)")

    with pytest.raises(run.ChildDied, match="crasher exited with code 2"):
        supervisor.wait_ready("crasher", lambda: False, timeout=20)


def test_a_stop_request_ends_watching(supervisor):
    _start(supervisor, "sleeper", SLEEPER)

    supervisor.request_stop()

    assert supervisor.watch() is None
    with pytest.raises(run.StopRequested):
        supervisor.wait_ready("sleeper", lambda: False)


def test_stopping_ends_whole_process_groups(supervisor):
    parent = _start(supervisor, "parent", PARENT_OF_SLEEPER)
    supervisor.wait_ready("parent", parent.ready.is_set, timeout=20)
    assert run._group_alive(parent.process.pid)

    supervisor.stop_all(grace=5)

    assert parent.process.returncode == -signal.SIGTERM
    assert not run._group_alive(parent.process.pid)


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(supervisor):
    stubborn = _start(supervisor, "stubborn", IGNORES_SIGTERM)
    supervisor.wait_ready("stubborn", stubborn.ready.is_set, timeout=20)

    supervisor.stop_all(grace=0.5)

    assert stubborn.process.returncode == -signal.SIGKILL
    assert "stubborn did not stop in time" in supervisor.out.getvalue()


class _GoneTerminal(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError("terminal closed")


def test_children_are_drained_when_the_terminal_is_gone():
    supervisor = run.Supervisor(_GoneTerminal())
    chatty = "import sys\nfor _ in range(20000): sys.stdout.write('x' * 100 + '\\n')"
    supervisor.start("chatty", [sys.executable, "-c", chatty], env=dict(os.environ))
    # 2 MB is far more than a pipe holds: undrained, the child would block for ever.
    timer = threading.Timer(30, supervisor.request_stop)
    timer.start()
    try:
        dead = supervisor.watch()
    finally:
        timer.cancel()
        supervisor.stop_all(grace=1)

    assert dead is not None
    assert dead.process.returncode == 0
    assert supervisor.output_broken
