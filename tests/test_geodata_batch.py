"""The loader's batches without pandas: Batch, plain values, Arrow columns, and a
`kaart layers load` process that never imports pandas or geopandas."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import shapely
from sqlalchemy import text

from geodata import files
from geodata.batch import Batch, concat
from geodata.source import OPEN_DATA
from geodata.values import plain_values

ROOT = Path(__file__).resolve().parent.parent
WEESP_BAG = OPEN_DATA / "amsterdam" / "bag_weesp_centrum_2021.gpkg"


def points(n: int) -> np.ndarray:
    return shapely.points(np.arange(n, dtype=float), np.zeros(n))


def test_a_batch_keeps_rows_together_when_taken_sliced_and_joined():
    batch = Batch({"naam": ["a", "b", "c"], "n": [1, None, 3]}, points(3), ids=[10, 11, 12])
    kept = batch.take(np.array([True, False, True]))
    assert (kept["naam"], kept["n"], kept.ids) == (["a", "c"], [1, 3], [10, 12])
    assert shapely.get_x(kept.geometry).tolist() == [0.0, 2.0]
    assert batch.take(np.array([True, True, True])) is batch
    part = batch.rows(1, 3)
    assert (part["naam"], part.ids, len(part)) == (["b", "c"], [11, 12], 2)
    joined = concat([batch.rows(0, 1), part])
    assert joined["naam"] == ["a", "b", "c"] and joined.ids == [10, 11, 12]
    with pytest.raises(ValueError, match="3 rows"):
        batch["naam"] = ["too", "short"]


def test_records_with_different_keys_become_columns_with_gaps():
    batch = Batch.from_records(
        [{"a": 1}, {"b": "x"}, {"a": 2, "b": None}], [None] * 3, [1, 2, 3], None
    )
    assert list(batch) == ["a", "b"]
    assert batch["a"] == [1, None, 2] and batch["b"] == [None, "x", None]


def test_as_a_geodataframe_for_tests_and_scripts():
    frame = Batch({"naam": ["a", None]}, points(2), ids=["x", "y"]).to_geodataframe()
    assert list(frame.columns) == ["naam", "geometry"]
    assert list(frame.index) == ["x", "y"] and frame["naam"].tolist() == ["a", None]


def test_plain_values_leave_plain_columns_alone_and_clean_the_rest():
    texts = ["a", None, "b"]
    assert plain_values(texts) is texts  # nothing to do: not even a copy
    assert plain_values([1.5, float("nan"), float("inf"), None, 2]) == [1.5, None, None, None, 2]
    assert plain_values(np.array([1, 2], dtype=np.int32)) == [1, 2]
    moment = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    assert plain_values([moment, dt.date(2026, 3, 2), b"\x01", {"k": np.float64(1.0)}]) == [
        "2026-03-02T09:30:00+00:00",
        "2026-03-02",
        "01",
        {"k": 1.0},
    ]


def test_arrow_integers_with_gaps_stay_integers():
    assert files._values(pa.array([1, None, 3], pa.int64())) == [1, None, 3]
    assert files._values(pa.array([1.5, None], pa.float64())) == [1.5, None]


def test_gdal_datetimes_become_iso_text_and_mixed_offsets_utc():
    same = ["2014-08-05T00:00:00.000", None, "2016-08-29T15:56:41.250"]
    assert files._datetimes(same) == ["2014-08-05T00:00:00", None, "2016-08-29T15:56:41.250000"]
    mixed = ["2021-06-01T12:00:00+02:00", "2021-12-01T12:00:00+01:00"]
    assert files._datetimes(mixed) == ["2021-06-01T10:00:00+00:00", "2021-12-01T11:00:00+00:00"]
    assert files._datetimes(["gisteren", None]) == ["gisteren", None]


def test_json_fields_are_decoded_unless_a_value_is_plain_text():
    assert files._json(['{"a": 1}', None, "[2]"]) == [{"a": 1}, None, [2]]
    assert files._json(["12", "twaalf"]) == ["12", "twaalf"]


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """`kaart …` in a process of its own that lists the modules it had at its exit."""
    code = (
        "import atexit, sys; "
        "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr)); "
        "from kaart.cli import main; sys.argv[0] = 'kaart'; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"KAART_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        timeout=300,
    )


def imported(stderr: str) -> set[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("MODULES "))
    return {name.split(".")[0] for name in line.split()[1:]}


def test_kaart_layers_load_never_imports_pandas_or_the_app(engine, database_url):
    done = run_cli(
        database_url,
        "layers",
        "load",
        "bag-panden",
        "--file",
        str(WEESP_BAG),
        "--layer",
        "pand",
        "--force",
        "--no-tiles",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1,271 features loaded" in done.stderr
    modules = imported(done.stderr)
    assert {"pyogrio", "pyarrow", "psycopg"} <= modules  # it did read and write
    assert not {"pandas", "geopandas", "PIL", "geoalchemy2"} & modules
    with engine.begin() as conn:
        count = conn.execute(text("SELECT count(*) FROM open_data.bag_panden")).scalar_one()
        conn.execute(text("DROP TABLE open_data.bag_panden"))
        conn.execute(text("DELETE FROM layer WHERE name = 'bag-panden'"))
    assert count == 1271


def test_the_lazy_command_groups_are_listed_and_run(database_url):
    done = run_cli(database_url, "--help")
    assert done.returncode == 0
    for name in ("users", "mail", "privacy", "reactienota", "photos", "tiles", "layers"):
        assert f"  {name} " in done.stdout
    privacy = run_cli(database_url, "privacy", "--help")
    assert privacy.returncode == 0 and "purge" in privacy.stdout
