"""A throw-away PostgreSQL server for the store tests: the same code on the production backend.

``KEFU_TEST_POSTGRES_URL`` points the tests at an existing server instead (an admin URL whose
user may create databases). Otherwise a cluster is created in a temporary folder with the
installed PostgreSQL binaries, on a free loopback port, and removed afterwards. Without
either, the PostgreSQL tests are skipped with the reason, except under CI where that is an error.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator, List

from kefu.evaluation.harness import free_port


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _as_postgres_user(command: List[str]) -> List[str]:
    # PostgreSQL refuses to run as root; CI runs as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def unavailable_reason() -> str | None:
    if os.environ.get("KEFU_TEST_POSTGRES_URL"):
        return None
    if _pg_bin() is None:
        return "PostgreSQL binaries not found (apt-get install postgresql) and KEFU_TEST_POSTGRES_URL unset"
    return None


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin SQLAlchemy URL of a running server (without a database name)."""
    external = os.environ.get("KEFU_TEST_POSTGRES_URL")
    if external:
        yield external.rsplit("/", 1)[0]
        return
    bin_dir = _pg_bin()
    assert bin_dir is not None, unavailable_reason()
    root = tempfile.mkdtemp(prefix="kefu-pg-")
    os.chmod(root, 0o755)
    data_dir = os.path.join(root, "data")
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    run = lambda *cmd: subprocess.run(  # noqa: E731
        _as_postgres_user(list(cmd)), check=True, capture_output=True, text=True
    )
    try:
        run(f"{bin_dir}/initdb", "-D", data_dir, "-A", "trust", "-U", "kefu", "--no-sync", "-E", "UTF8")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        run(f"{bin_dir}/pg_ctl", "-D", data_dir, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
        yield f"postgresql+psycopg2://kefu@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres_user([f"{bin_dir}/pg_ctl", "-D", data_dir, "-m", "immediate", "stop"]),
            capture_output=True,
        )
        time.sleep(0.2)
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` (optionally copied from ``template``); return its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{admin_url}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    engine.dispose()
    return f"{admin_url}/{name}"
