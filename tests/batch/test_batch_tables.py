"""`attune batch` tables: read back with pyarrow, DuckDB, polars and pandas, checked
against `attune analyze --json` of the same inputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import manifest, run_cli

pa = pytest.importorskip("pyarrow")
ds = pytest.importorskip("pyarrow.dataset")
duckdb = pytest.importorskip("duckdb")

from attunement.batch.tables import schemas  # noqa: E402


def _analyze_json(
    inputs: list[Path], out: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    code, err = run_cli(["analyze", "--fast", "-q", *map(str, inputs), "--json", str(out)], capsys)
    assert code == 0, err
    docs = {}
    for p in sorted(out.glob("*.session.json")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        docs[doc["source"]] = doc
    return docs


def test_tables_answer_a_session_query_like_the_session_json(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "inputs.csv"
    with listed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "client_id", "session_number", "date"])
        w.writerow(["corpus/cheerful-goodbye.txt", "C-17", "6", "2026-03-09"])
        w.writerow(["corpus/mi-drinking.json", "C-17", "7", "2026-03-16"])
    out = tmp_path / "results"
    args = ["batch", "--fast", "--workers", "2", "--csv", "--out", str(out)]
    code, err = run_cli([*args, str(corpus / "*.[vsc]*"), "--inputs-csv", str(listed)], capsys)
    assert code == 0, err
    doc = manifest(out)
    assert doc["counts"] == {"done": 5, "failed": 0, "skipped": 0}
    assert doc["identity"]["model"]["name"] == "fast" and doc["identity"]["model"]["card_sha256"]

    # every level is a Parquet dataset with exactly the declared schema
    declared = schemas()
    for level, sch in declared.items():
        data = ds.dataset(out / level, format="parquet")
        assert data.schema.remove_metadata() == sch.remove_metadata(), level
    sessions = ds.dataset(out / "sessions", format="parquet").to_table()
    assert sessions.num_rows == 5

    json_docs = _analyze_json(sorted(corpus.iterdir()), tmp_path / "json", capsys)
    expected = {}
    for source, d in json_docs.items():
        utts = d["utterances"]
        expected[source] = (
            len(utts),
            sum(1 for u in utts if u["role"] == "client"),
            len(d["episodes"]),
            max((e["salience"] for e in d["episodes"]), default=None),
            # utterances that carry any E_EXPLORATION annotation
            sum(1 for u in utts if any(a["code"] == "E_EXPLORATION" for a in u["annotations"])),
            d["id"],
        )
    glob = str(out)
    rows = duckdb.sql(
        f"""
        WITH u AS (
          SELECT input_id, count(*) AS n, count(*) FILTER (WHERE role = 'client') AS clients,
                 count(E_EXPLORATION) AS exploration
          FROM read_parquet('{glob}/utterances/*.parquet') GROUP BY input_id),
        e AS (
          SELECT input_id, count(*) AS n, max(salience) AS top
          FROM read_parquet('{glob}/episodes/*.parquet') GROUP BY input_id)
        SELECT s.source, u.n, u.clients, coalesce(e.n, 0), e.top, u.exploration, s.session_id
        FROM read_parquet('{glob}/sessions/*.parquet') s
        JOIN u USING (input_id) LEFT JOIN e USING (input_id)
        ORDER BY s.source
        """
    ).fetchall()
    got = {r[0]: tuple(r[1:]) for r in rows}
    assert got == expected
    assert sum(v[0] for v in expected.values()) > 200  # the query looked at real rows

    meta = duckdb.sql(
        f"SELECT source, client_id, session_number, CAST(date AS VARCHAR) "
        f"FROM read_parquet('{glob}/sessions/*.parquet') WHERE client_id IS NOT NULL "
        "ORDER BY session_number"
    ).fetchall()
    assert meta == [
        ("cheerful-goodbye.txt", "C-17", 6, "2026-03-09"),
        ("mi-drinking.json", "C-17", 7, "2026-03-16"),
    ]

    # the session-level counts agree with the utterance table
    n_codes = duckdb.sql(
        f"SELECT sum(n_E_EXPLORATION) FROM read_parquet('{glob}/sessions/*.parquet')"
    ).fetchall()
    in_utts = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{glob}/utterances/*.parquet') "
        "WHERE E_EXPLORATION >= 0.5"
    ).fetchall()
    assert n_codes == in_utts and in_utts[0][0] > 0

    # no transcript text without --text; CSV export has the same rows
    assert "text" not in declared["utterances"].names
    with (out / "csv" / "sessions.csv").open(encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert sorted(r["source"] for r in csv_rows) == sorted(expected)
    assert all(";" in r["provenance"] for r in csv_rows)


def test_tables_read_in_polars_and_pandas(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    out = tmp_path / "results"
    one = corpus / "family-curfew.vtt"
    code, err = run_cli(
        ["batch", "--fast", "--workers", "1", "--text", str(one), "--out", str(out)], capsys
    )
    assert code == 0, err
    frame = pl.read_parquet(str(out / "utterances" / "*.parquet"))
    assert frame.height == manifest(out)["inputs"][0]["utterances"] > 0
    assert frame["text"].null_count() == 0 and frame["role"].n_unique() == 2
    episodes = pd.read_parquet(out / "episodes")
    assert len(episodes) == manifest(out)["inputs"][0]["episodes"]
    assert set(episodes.columns) == set(schemas()["episodes"].names)
