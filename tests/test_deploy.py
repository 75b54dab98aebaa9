"""The deployment path: the database password, migrations on replicas that start together,
.env.example and the README against the code, and the lock files against pyproject.toml."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import distributions
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from kaart import ROOT
from kaart.config import NETHERLANDS_OUTLINE, Settings
from kaart.errors import ConfigError
from kaart.schema import alembic_config, upgrade

URL = "postgresql+psycopg://wijkkaart@db:5432/wijkkaart"
SECRET = {"KAART_SECRET_KEY": "0123456789abcdef" * 4}
# Every character that has a meaning in a URL, a percent sign, a space and non-ASCII.
PASSWORDS = ["p@ss:w/rd#1", "100%25%", " a b+c?d=e&f ", "ü€\\[::1]"]


# -- The database password ----------------------------------------------------------------------


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_database_password_goes_into_the_url_unchanged(password):
    settings = Settings.from_env(
        {"KAART_DATABASE_URL": URL, "KAART_DATABASE_PASSWORD": password, **SECRET}
    )
    assert "database_url" not in repr(settings)  # it holds the password now
    url = settings.database_url
    parsed = make_url(url)
    assert parsed.password == password
    assert (parsed.username, parsed.host, parsed.port, parsed.database) == (
        "wijkkaart",
        "db",
        5432,
        "wijkkaart",
    )
    # What the engine and psycopg are given, and what Alembic's config file syntax gives back.
    engine = create_engine(url)
    assert engine.url.password == password
    assert engine.dialect.create_connect_args(engine.url)[1]["password"] == password
    engine.dispose()
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


def test_the_database_password_comes_from_a_file(tmp_path):
    secret = tmp_path / "db_password"
    secret.write_text("p@ss:w/rd#1\n", encoding="utf-8")  # Docker secrets often end in a newline
    env = {"KAART_DATABASE_URL": URL, "KAART_DATABASE_PASSWORD_FILE": str(secret), **SECRET}
    assert make_url(Settings.from_env(env).database_url).password == "p@ss:w/rd#1"


def test_without_a_password_variable_the_url_is_used_as_given():
    given = "postgresql+psycopg://u:p%40w@h/db?host=/tmp/x"
    assert Settings.from_env({"KAART_DATABASE_URL": given, **SECRET}).database_url == given


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAART_DATABASE_PASSWORD": "a", "KAART_DATABASE_PASSWORD_FILE": "/x"}, "not both"),
        ({"KAART_DATABASE_PASSWORD_FILE": "/nonexistent/pw"}, "cannot read"),
        ({"KAART_DATABASE_PASSWORD_FILE": "EMPTY"}, "is empty"),
        ({"KAART_DATABASE_URL": "postgresql+psycopg://u:other@h/db"}, "leave the password out"),
        ({"KAART_DATABASE_URL": "not a url"}, "not a database URL"),
        ({"KAART_DATABASE_URL": "postgresql+psycopg://u@h:port/db"}, "not a database URL"),
    ],
)
def test_bad_database_passwords_fail_at_start_up(tmp_path, env, message):
    if env.get("KAART_DATABASE_PASSWORD_FILE") == "EMPTY":
        (tmp_path / "empty").write_text("\n")
        env = {"KAART_DATABASE_PASSWORD_FILE": str(tmp_path / "empty")}
    given = {"KAART_DATABASE_URL": URL, "KAART_DATABASE_PASSWORD": "p@ss", **SECRET, **env}
    if "KAART_DATABASE_PASSWORD_FILE" in env and "KAART_DATABASE_PASSWORD" not in env:
        del given["KAART_DATABASE_PASSWORD"]
    with pytest.raises(ConfigError, match=message) as refused:
        Settings.from_env(given)
    assert "p@ss" not in str(refused.value)


def test_a_password_in_the_url_and_the_same_one_in_the_variable_agree():
    url = "postgresql+psycopg://u:p%40ss@h/db"
    env = {"KAART_DATABASE_URL": url, "KAART_DATABASE_PASSWORD": "p@ss", **SECRET}
    assert make_url(Settings.from_env(env).database_url).password == "p@ss"


def test_the_password_reaches_the_database_driver(database_url):
    """A real connection to the test cluster with the password from KAART_DATABASE_PASSWORD.
    The test cluster trusts its Unix socket, so this shows what psycopg was handed, not that the
    server checked it; the next test has a server that does."""
    env = {"KAART_DATABASE_URL": database_url, "KAART_DATABASE_PASSWORD": "p@ss:w/rd#1", **SECRET}
    engine = create_engine(Settings.from_env(env).database_url)
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT current_database()")).scalar_one()
            == make_url(database_url).database
        )
        assert conn.connection.dbapi_connection.info.password == "p@ss:w/rd#1"
    engine.dispose()


NASTY = "p@ss:w/rd#1 %"


def _as_owner(*command: str) -> None:
    # PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` user.
    if os.getuid() == 0:
        command = ("runuser", "-u", "postgres", "--", *command)
    subprocess.run(command, check=True, capture_output=True, cwd="/")


@pytest.fixture(scope="module")
def password_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster that asks for a password (SCRAM) on its Unix socket; its
    superuser `wijkkaart` has the password NASTY. Yields the URL without the password."""
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not pgbin:
        pytest.fail("PostgreSQL server binaries are missing (apt-get install postgresql-15)")
    folder = Path(tempfile.mkdtemp(prefix="kaart-pw-"))  # short: a socket path has 108 bytes
    data, pwfile = folder / "data", folder / "pw"
    pwfile.write_text(NASTY + "\n", encoding="utf-8")
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(pwfile, "postgres")
    initdb, pg_ctl = str(pgbin[-1] / "initdb"), str(pgbin[-1] / "pg_ctl")
    options = f"-c listen_addresses='' -c unix_socket_directories='{folder}'"
    # A log file: the server must not hold on to this process's output pipes.
    log = f"--log={folder / 'server.log'}"
    try:
        _as_owner(initdb, "-D", str(data), "-U", "wijkkaart", "-A", "scram-sha-256",
                  f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8")  # fmt: skip
        _as_owner(pg_ctl, "-D", str(data), log, "-w", "-t", "60", "-o", options, "start")
        yield f"postgresql+psycopg://wijkkaart@/postgres?host={folder}"
    finally:
        if (data / "postmaster.pid").exists():
            _as_owner(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder)


def test_a_server_that_checks_passwords_accepts_it(password_cluster):
    env = {"KAART_DATABASE_URL": password_cluster, "KAART_DATABASE_PASSWORD": NASTY, **SECRET}
    engine = create_engine(Settings.from_env(env).database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == "wijkkaart"
    engine.dispose()
    # The server really checks: one character less is refused.
    wrong = {**env, "KAART_DATABASE_PASSWORD": NASTY[:-1]}
    engine = create_engine(Settings.from_env(wrong).database_url)
    with pytest.raises(OperationalError, match="password authentication failed"):
        engine.connect()
    engine.dispose()


# -- Migrations on replicas that start together -------------------------------------------------


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A new, empty database beside the test database; dropped afterwards."""
    base = make_url(database_url)
    target = base.set(database=f"{base.database}_race")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    yield target.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
    admin.dispose()


class _Migrations(logging.Handler):
    """Counts the migrations that Alembic runs in this process."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.runs = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.runs += record.getMessage().startswith("Running upgrade")


def _replica(url: str, start) -> int:
    """One replica's `kaart db upgrade`, in its own process; how many migrations it ran."""
    counter = _Migrations()
    log = logging.getLogger("alembic.runtime.migration")
    log.setLevel(logging.INFO)
    log.addHandler(counter)
    start.wait()
    upgrade(url)
    return counter.runs


def test_replicas_that_migrate_together_take_turns(empty_database):
    """Two upgrades at the same moment on a new database, in two processes (two replicas
    starting): both succeed, every migration runs once, the schema is at head once."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, ProcessPoolExecutor(2, mp_context=spawn) as pool:
        start = manager.Barrier(2)
        replicas = [pool.submit(_replica, empty_database, start) for _ in range(2)]
        runs = sorted(replica.result() for replica in replicas)
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    assert runs == [0, len(list(script.walk_revisions()))]
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert versions == [script.get_current_head()]


# -- .env.example and the README against the code ----------------------------------------------

VARIABLE = re.compile(r"KAART_[A-Z0-9_]*[A-Z0-9]")


class _Reads(Mapping[str, str]):
    """An environment that notes every variable looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.read = values, set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


@pytest.fixture(scope="module")
def read_by_the_app(tmp_path_factory) -> set[str]:
    """What Settings.from_env looks up (the app and the `kaart` command read nothing else)."""
    env = _Reads({"KAART_DATABASE_URL": URL, "KAART_STATE_DIR": str(tmp_path_factory.mktemp("s"))})
    Settings.from_env(env)
    return env.read


@pytest.fixture(scope="module")
def read_anywhere(read_by_the_app) -> set[str]:
    """...and what docker-compose.yml and the image's start command read."""
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    deployment = re.findall(r"\$\{?(KAART_[A-Z0-9_]+)", compose + dockerfile)
    return read_by_the_app | set(deployment)


def _env_example() -> tuple[dict[str, str], set[str]]:
    """.env.example's settings as compose reads them, and every variable it mentions."""
    text_ = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1) for line in text_.splitlines() if line and not line.startswith("#")
    )
    return values, set(VARIABLE.findall(text_))


def _readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `KAART_")]
    return {name for cell in rows for name in VARIABLE.findall(cell)}


def test_env_example_mentions_every_variable_and_no_other(read_by_the_app, read_anywhere):
    values, mentioned = _env_example()
    assert set(values) <= mentioned
    assert mentioned - read_anywhere == set()
    assert read_by_the_app - mentioned == set()


def test_the_readme_table_documents_every_variable_and_no_other(read_anywhere):
    assert _readme_table() == read_anywhere


def test_env_example_ships_no_secret_and_keeps_the_outline():
    values, _mentioned = _env_example()
    assert values["KAART_SECRET_KEY"] == "" and values["KAART_DB_PASSWORD"] == ""
    assert "KAART_AREA_FILE" not in values  # the default: the Netherlands outline
    env = {**values, "KAART_DATABASE_URL": URL}
    with pytest.raises(ConfigError, match="KAART_SECRET_KEY must be set"):
        Settings.from_env(env)  # production: it refuses to start until a secret is set
    settings = Settings.from_env({**env, **SECRET})
    assert settings.env == "production" and settings.area_file == NETHERLANDS_OUTLINE


# -- The lock files ------------------------------------------------------------------------------


def _pins(name: str) -> dict[str, str]:
    """requirements/<name>.txt: package -> exact version, for this machine's platform."""
    pins = {}
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate():
                (version,) = (spec.version for spec in requirement.specifier)
                pins[canonicalize_name(requirement.name)] = version
    return pins


def test_the_lock_files_pin_what_pyproject_asks_for():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, test = _pins("runtime.txt"), _pins("test.txt")
    wanted = [(runtime, r) for r in project["dependencies"]]
    wanted += [(test, r) for r in project["optional-dependencies"]["test"]]
    for lock, line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is not in the lock file: run `make lock`"
        assert requirement.specifier.contains(lock[name], prereleases=True), f"`make lock`: {line}"
    # The tests run on what the image ships.
    assert {name: test[name] for name in runtime} == runtime


def test_this_virtualenv_is_the_test_lock():
    """`make setup` installed exactly the locked versions (it reruns when the lock changes)."""
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in distributions()}
    locked = _pins("test.txt")
    assert {name: installed.get(name) for name in locked} == locked
