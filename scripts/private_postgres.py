"""A private, throw-away PostgreSQL server for tests and local runs, from Debian's packages.

    python scripts/private_postgres.py -- pytest tests/writes    # run a command against it
    python scripts/private_postgres.py                           # print its DATABASE_URL, wait

`initdb` makes a cluster in a new temporary folder, `pg_ctl` starts it on 127.0.0.1 on a free
port (its unix socket stays in that folder), the command runs with DATABASE_URL pointing at it,
and the server is stopped and the folder removed afterwards, also when the command fails or is
interrupted (Ctrl-C, SIGTERM, SIGHUP). The exit status is the command's.

PostgreSQL refuses to run as root: run as root, the server runs as the `postgres` user that
Debian's package creates, and the folder belongs to it. No Docker, no system cluster, and no
Django here: only the standard library and PostgreSQL's own programs.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

DATABASE = "crmconsole"
SUPERUSER = "postgres"
# Debian's package makes this user; it owns the server's folder when we are root.
SERVICE_USER = "postgres"
START_ATTEMPTS = 3
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30

# A test server holds nothing worth a crash-safe write; these make it much faster.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
}


class PostgresError(Exception):
    """The private server could not be found, made or started; the message says why."""


def find_bindir(environ: dict[str, str] | None = None) -> Path:
    """The folder holding initdb, pg_ctl and postgres: PG_BINDIR if set, else the newest
    /usr/lib/postgresql/<version>/bin (Debian keeps them off PATH), else PATH."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("PG_BINDIR"):
        bindir = Path(environ["PG_BINDIR"])
        if not (bindir / "initdb").exists():
            raise PostgresError(f"PG_BINDIR={bindir} holds no initdb.")
        return bindir
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(found, key=lambda path: _version_key(Path(path).parent.parent.name))
        return Path(newest).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise PostgresError(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
        "apt-get install postgresql (or set PG_BINDIR)."
    )


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    """One server: `start()` it, use `url`, `stop()` it (which also removes its folder)."""

    bindir: Path
    workdir: Path | None = None
    port: int = 0
    password: str = ""
    _user: pwd.struct_passwd | None = None

    @property
    def url(self) -> str:
        return f"postgres://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def datadir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    @property
    def logfile(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "server.log"

    def start(self) -> None:
        """Make the cluster and start the server; on any failure nothing is left running."""
        try:
            self._make_cluster()
            self._start_server()
            self._run("createdb", "-h", str(self.workdir), "-p", str(self.port), DATABASE)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then by signal) and remove its folder."""
        if self.workdir is None:
            return
        try:
            if (self.datadir / "postmaster.pid").exists():
                self._stop_server()
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # -- the parts ----------------------------------------------------------------------------

    def _make_cluster(self) -> None:
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise PostgresError(
                    f"Running as root, but there is no {SERVICE_USER!r} user to run PostgreSQL "
                    "as (apt-get install postgresql makes it)."
                ) from None
        # Root's TMPDIR may be closed to the postgres user, and a long TMPDIR makes too long a
        # path for the unix socket (about 100 bytes at most); /tmp suits both.
        parent = None
        if self._user is not None or len(tempfile.gettempdir()) > 60:
            parent = "/tmp"  # noqa: S108
        self.workdir = Path(tempfile.mkdtemp(prefix="crmconsole-pg-", dir=parent))
        if self._user is not None:
            os.chown(self.workdir, self._user.pw_uid, self._user.pw_gid)
        self.password = secrets.token_hex(16)
        pwfile = self.workdir / "password"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._user is not None:
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            # The socket is in a folder only the server's user can enter; TCP needs the password.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        pwfile.unlink()
        settings = {**SERVER_SETTINGS, "unix_socket_directories": _quote(str(self.workdir))}
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# crmconsole's private test server\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def _start_server(self) -> None:
        for attempt in range(START_ATTEMPTS):
            self.port = free_port()
            result = self._run(
                "pg_ctl",
                "start",
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                f"-p {self.port}",
                check=False,
            )
            if result.returncode == 0:
                return
            log = self._log_tail()
            # Someone took the port between free_port() and the server's bind: try another.
            if "could not bind" not in log or attempt == START_ATTEMPTS - 1:
                raise PostgresError(f"PostgreSQL did not start:\n{result.stdout}\n{log}")

    def _stop_server(self) -> None:
        for mode in ("fast", "immediate"):
            result = self._run(
                "pg_ctl",
                "stop",
                "-D",
                str(self.datadir),
                "-m",
                mode,
                "-w",
                "-t",
                str(STOP_TIMEOUT_SECONDS),
                check=False,
            )
            if result.returncode == 0:
                return
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.datadir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGKILL)

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run one of PostgreSQL's programs as the server's user, in its own session (so a
        Ctrl-C meant for the tests does not reach the server before we stop it)."""
        options: dict[str, Any] = {}
        if self._user is not None:
            options.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        result = subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.workdir,
            env={**os.environ, "LC_ALL": "C", "PGUSER": SUPERUSER},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            check=False,
            **options,
        )
        if check and result.returncode != 0:
            raise PostgresError(f"{program} failed ({result.returncode}):\n{result.stdout}")
        return result

    def _log_tail(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@contextlib.contextmanager
def private_postgres(bindir: Path | None = None) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(bindir or find_bindir())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Signals:
    """While a command runs: SIGTERM and SIGHUP are passed on to it; Ctrl-C (which the
    terminal already sent to the whole foreground group) is not, and a second one kills it.
    Either way we go on waiting, so the server is stopped once the command has ended."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[bytes] | None = None
        self.interrupts = 0
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.child is None:
            # Still starting the server: stop starting (the caller's finally stops it).
            raise KeyboardInterrupt
        if signum == signal.SIGINT:
            self.interrupts += 1
            if self.interrupts > 1:
                self.child.kill()
        else:
            self.child.send_signal(signum)


def run(command: Sequence[str]) -> int:
    """Start a server, run `command` with DATABASE_URL pointing at it, stop the server."""
    with _Signals() as signals:
        try:
            with private_postgres() as server:
                if not command:
                    print(f"DATABASE_URL={server.url}", flush=True)
                    print("PostgreSQL is running; Ctrl-C stops it.", file=sys.stderr, flush=True)
                    with contextlib.suppress(KeyboardInterrupt):
                        signal.pause()
                    return 0
                env = {**os.environ, "DATABASE_URL": server.url}
                signals.child = subprocess.Popen(list(command), env=env)
                returncode = signals.child.wait()
                return 128 - returncode if returncode < 0 else returncode
        except KeyboardInterrupt:
            return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a command against a private, throw-away PostgreSQL server.",
        usage="%(prog)s [-- command ...]",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="what to run (after --)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        return run(command)
    except PostgresError as error:
        print(f"private PostgreSQL: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
