"""A project-local PostgreSQL + PostGIS cluster, started root-safely (as the `postgres` OS user when we are root)."""

from __future__ import annotations

import logging
import os
import pwd
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gis.errors import CovidGisError

log = logging.getLogger(__name__)

DEBIAN_PACKAGES = "postgresql-15-postgis-3 gdal-bin"
ARCHIVE_CONF = "covidgis-archive.conf"


class ClusterError(CovidGisError):
    """The local PostgreSQL cluster could not be created, started or stopped."""


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL data directory we own, listening on 127.0.0.1:port with trust auth for `postgres`."""

    data_dir: Path
    socket_dir: Path
    port: int
    bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    server_options: str = ""  # extra `postgres` flags, e.g. "-c fsync=off" for throwaway test clusters
    # WAL archiving: the shell command PostgreSQL runs for each finished WAL segment (%p: its path), written into the
    # data directory at start so every later start archives too. None leaves the data directory's setting alone.
    archive_command: str | None = None
    archive_timeout_s: int = 60  # a segment is archived at least this often, even when it is not full

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgresql.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{dbname}"

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        return self._pg_ctl("status", check=False).returncode == 0

    def init(self) -> None:
        """Create the data directory (initdb) unless it exists."""
        if self.initialised():
            return
        self._require_binaries()
        for d in (self.data_dir, self.socket_dir):
            d.mkdir(parents=True, exist_ok=True)
            own(d)
        log.info("initdb %s", self.data_dir)
        self._run(
            [
                self.bin_dir / "initdb",
                "-D",
                self.data_dir,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--locale=C.UTF-8",
                "-E",
                "UTF8",
            ]
        )

    def start(self) -> None:
        """initdb if needed, then start the server and wait until it accepts connections."""
        self.init()
        changed = self.archive_command is not None and self.configure_archiving(self.archive_command)
        if self.running():
            if changed:
                self._pg_ctl("reload")  # archive_command applies now; a changed archive_mode needs a restart
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        own(self.socket_dir)
        if not self.log_file.exists():  # a restored data directory comes without its log
            self.log_file.touch()
            own(self.log_file)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} {self.server_options}".strip()
        log.info("starting PostgreSQL on 127.0.0.1:%s", self.port)
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file), "-o", opts)

    def stop(self) -> None:
        if self.running():
            self._pg_ctl("stop", "-m", "fast", "-w")

    def configure_archiving(self, command: str | None) -> bool:
        """Archive WAL with command (None: archiving off) from the next start, in a file postgresql.conf includes.

        A file of our own rather than ALTER SYSTEM: it can be written while the server is stopped, and a restored copy
        of the data directory can be switched off before it first starts (so it never pushes into the original's
        repository). Returns whether the file changed.
        """
        conf = self.data_dir / "postgresql.conf"
        include = f"include_if_exists = '{ARCHIVE_CONF}'"
        if include not in conf.read_text().splitlines():
            with open(conf, "a") as f:
                f.write(f"\n# WAL archiving, written by covidgis at each start (gis/db/cluster.py)\n{include}\n")
        if command is None:
            lines = ["archive_mode = off"]
        else:
            quoted = command.replace("'", "''")
            lines = [
                "archive_mode = on",
                f"archive_command = '{quoted}'",
                f"archive_timeout = {self.archive_timeout_s}s",
            ]
        path = self.data_dir / ARCHIVE_CONF
        text = (
            "# Written by covidgis (gis/db/cluster.py); edits are overwritten at the next start.\n"
            + "\n".join(lines)
            + "\n"
        )
        if path.exists() and path.read_text() == text:
            return False
        path.write_text(text)
        own(path)
        return True

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([self.bin_dir / "pg_ctl", "-D", self.data_dir, *args], check=check)

    def _require_binaries(self) -> None:
        missing = [b for b in ("initdb", "pg_ctl") if not (self.bin_dir / b).exists()]
        if missing:
            raise ClusterError(
                f"PostgreSQL binaries not found in {self.bin_dir} ({', '.join(missing)}); "
                f"install them with: apt-get install -y {DEBIAN_PACKAGES}"
            )

    def _run(self, cmd: list, check: bool = True) -> subprocess.CompletedProcess:
        proc = run_as_cluster_user(cmd)
        if check and proc.returncode != 0:
            logged = tail(self.log_file)
            raise ClusterError(
                f"{' '.join(map(str, cmd))} failed ({proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
                + (f"\nserver log ({self.log_file}):\n{logged}" if logged else "")
            )
        return proc


def run_as_cluster_user(cmd: list, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool (pg_ctl, pgBackRest) as the user the cluster runs as: `postgres` when we are root.

    env: the tool's whole environment (None: ours), e.g. with PGPASSWORD so that no password is on a command line."""
    cmd = [str(c) for c in cmd]
    if _is_root():  # PostgreSQL refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def own(path: Path) -> None:
    """As root, hand the path to `postgres` and check that user can reach it."""
    if not _is_root():
        return
    pw = pwd.getpwnam("postgres")
    os.chown(path, pw.pw_uid, pw.pw_gid)
    probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(path)])
    if probe.returncode != 0:
        raise ClusterError(
            f"the postgres OS user cannot write {path}: a parent directory is not "
            "traversable by it. Move the project, or set DATABASE_URL to an existing server."
        )


def _is_root() -> bool:
    return os.geteuid() == 0


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def free_port(first: int) -> int:
    """The first port from `first` on that nothing listens on (a replica or a restored cluster runs beside the
    local one)."""
    for port in range(first, first + 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise ClusterError(f"no free port in {first}…{first + 99}: give one with --port")
