"""`covidgis db backup check` fails clearly — exit 2, one line saying what is broken — whenever a restore would fail:
WAL not reaching the repository (archiving off, pointed elsewhere, at another stanza; the repository gone or
unreadable) or the HMAC secret's copy missing, stale or readable by others. With DATABASE_URL the commands do what
can be done here (the secret and settings) and say what to configure on the server.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from datetime import datetime
from pathlib import Path

import psycopg2
import pytest
from backup_support import assert_one_line_error, covidgis, local_env
from conftest import free_port

from gis.db.cluster import Cluster


@pytest.fixture(scope="module")
def bare():
    """A project-local cluster with one full backup (so the secret has a copy and the stanza exists)."""
    top = Path(tempfile.mkdtemp(prefix="covidgis-test-check-"))
    top.chmod(0o755)
    port = free_port()
    env = local_env(top / "var", port)
    covidgis(env, "db", "backup", "--type", "full", cwd=top)
    cluster = Cluster(data_dir=top / "var" / "pgdata", socket_dir=top / "var" / "pgsock", port=port)
    yield top, env, cluster
    cluster.stop()
    shutil.rmtree(top, ignore_errors=True)


def _alter_system(cluster: Cluster, setting: str, value: str | None, restart: bool = False) -> None:
    conn = psycopg2.connect(host="127.0.0.1", port=cluster.port, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:  # no parameters: psycopg2 leaves the %p of an archive_command alone
        quoted = value.replace("'", "''") if value is not None else None
        cur.execute(f"ALTER SYSTEM RESET {setting}" if value is None else f"ALTER SYSTEM SET {setting} = '{quoted}'")
        cur.execute("SELECT pg_reload_conf()")
    conn.close()
    if restart:
        cluster.stop()
        cluster.start()


def _latest_copy(top: Path) -> Path:
    return sorted((top / "var" / "backup" / "secrets").iterdir())[-1]


# Each breakage: (break it, repair it, extra environment of the check, words the one line must hold)
def _archive_mode_off(top, cluster):
    _alter_system(cluster, "archive_mode", "off", restart=True)
    return lambda: _alter_system(cluster, "archive_mode", None, restart=True)


def _archive_command_elsewhere(top, cluster):
    _alter_system(cluster, "archive_command", "cp %p /tmp/%f.not-a-backup")
    return lambda: _alter_system(cluster, "archive_command", None)


def _archive_to_another_stanza(top, cluster):
    config = top / "var" / "backup" / "pgbackrest.conf"
    _alter_system(cluster, "archive_command", f"pgbackrest --config={config} --stanza=elsewhere archive-push %p")
    return lambda: _alter_system(cluster, "archive_command", None)


def _repository_gone(top, cluster):
    repo = top / "var" / "backup" / "repo"
    repo.rename(top / "repo-moved")
    return lambda: (top / "repo-moved").rename(repo)


def _repository_unreadable(top, cluster):
    if os.geteuid() != 0:
        pytest.skip("needs root: the repository belongs to the user running the check otherwise")
    archive = top / "var" / "backup" / "repo" / "archive"
    archive.chmod(0)
    return lambda: archive.chmod(0o750)


def _secret_changed(top, cluster):
    return lambda: None


def _copy_readable_by_others(top, cluster):
    key = _latest_copy(top) / "hmac.key"
    key.chmod(0o644)
    return lambda: key.chmod(0o600)


def _no_copy(top, cluster):
    (top / "empty-secrets").mkdir(exist_ok=True)
    return lambda: None


BREAKAGES = {
    "archive_mode off (ALTER SYSTEM)": (_archive_mode_off, {}, ["archive_mode", "restart"]),
    "archive_command not pgBackRest": (_archive_command_elsewhere, {}, ["archive_command", "pgbackrest"]),
    "archiving into another stanza": (
        _archive_to_another_stanza,
        {"COVIDGIS_BACKUP_CHECK_TIMEOUT_S": "3"},
        ["not archived", "PostgreSQL log"],
    ),
    "repository deleted": (_repository_gone, {}, ["stanza", "covidgis db backup"]),
    "repository unreadable by postgres": (_repository_unreadable, {}, ["cannot read the repository"]),
    "secret changed since the backup": (
        _secret_changed,
        {"COVIDGIS_HMAC_SECRET": "another-secret-0123456789"},
        ["differs", "covidgis db backup"],
    ),
    "secret's copy readable by others": (_copy_readable_by_others, {}, ["read by others", "chmod"]),
    "no copy of the secret": (_no_copy, {"COVIDGIS_BACKUP_SECRETS": "{top}/empty-secrets"}, ["no copy"]),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_backup_check_names_what_is_broken(bare, breakage):
    top, env, cluster = bare
    breaks, extra, words = BREAKAGES[breakage]
    repair = breaks(top, cluster)
    try:
        extra = {k: v.format(top=top) for k, v in extra.items()}
        proc = covidgis({**env, **extra}, "db", "backup", "check", cwd=top, check=False)
        line = assert_one_line_error(proc, *words)
        assert len(line) < 600
    finally:
        repair()
    assert covidgis(env, "db", "backup", "check", cwd=top).returncode == 0  # repaired: the breakage was the cause


def test_a_new_cluster_never_writes_into_another_clusters_repository(bare):
    """A cluster created anew (its data wiped) meets the old cluster's repository: refused, the old backups kept."""
    top, env, _ = bare
    other = top / "other-cluster"  # under top: the postgres OS user must reach it
    other.mkdir()
    port = free_port()
    other_env = local_env(other / "var", port, COVIDGIS_BACKUP_REPO=str(top / "var" / "backup" / "repo"))
    try:
        proc = covidgis(other_env, "db", "start", cwd=other, check=False)
        assert_one_line_error(proc, "another cluster", "COVIDGIS_BACKUP_REPO")
    finally:
        Cluster(data_dir=other / "var" / "pgdata", socket_dir=other / "var" / "pgsock", port=port).stop()
    assert covidgis(env, "db", "backup", "check", cwd=top).returncode == 0  # the original's backups are intact


# --- DATABASE_URL: a server covid-gis does not run ---------------------------------------------------------------


@pytest.fixture(scope="module")
def remote(pg_cluster, tmp_path_factory):
    """The session's cluster stands for an operator's server (it does not archive)."""
    var = tmp_path_factory.mktemp("remote-var")
    env = {**local_env(var, 1), "DATABASE_URL": pg_cluster.url().replace("+psycopg2", "")}
    return var, env


def test_backup_with_database_url_copies_the_secret_and_says_what_to_configure(remote):
    var, env = remote
    proc = covidgis(env, "db", "backup", cwd=var)
    assert "archive_mode = on" in proc.stdout
    assert "archive_command = 'pgbackrest --stanza=covidgis archive-push %p'" in proc.stdout
    assert "docs/operations.md" in proc.stdout
    copies = list((var / "backup" / "secrets").glob("*/hmac.key"))
    assert len(copies) == 1 and copies[0].read_bytes() == (var / "hmac.key").read_bytes()
    assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600
    assert "on its server" in covidgis(env, "db", "backup", "list", cwd=var).stdout


def test_backup_check_with_database_url_says_the_server_does_not_archive(remote):
    var, env = remote
    covidgis(env, "db", "backup", cwd=var)
    proc = covidgis(env, "db", "backup", "check", cwd=var, check=False)
    assert_one_line_error(proc, "archive_mode is off", "database server")


def test_restore_with_database_url_puts_the_secret_beside_and_prints_the_server_command(remote, tmp_path):
    var, env = remote
    covidgis(env, "db", "backup", cwd=var)
    into = tmp_path / "restored"
    proc = covidgis(env, "db", "restore", "--to", datetime.now().astimezone().isoformat(), "--into", str(into), cwd=var)
    assert (into / "hmac.key").read_bytes() == (var / "hmac.key").read_bytes()
    assert "pgbackrest --stanza=covidgis restore" in proc.stdout and "--type=time" in proc.stdout
