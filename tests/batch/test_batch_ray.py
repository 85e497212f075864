"""`attune batch --engine ray` on a local Ray instance: the same tables as the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import manifest, run_cli, write_transcript

pytest.importorskip("ray")
pytest.importorskip("ray.data")
ds = pytest.importorskip("pyarrow.dataset")

pytestmark = pytest.mark.ray


def _table(out: Path, level: str):  # type: ignore[no-untyped-def]
    table = ds.dataset(out / level, format="parquet").to_table()
    keys = [("input_id", "ascending")]
    keys += [(k, "ascending") for k in ("utterance_id", "episode_id") if k in table.column_names]
    return table.sort_by(keys)


def test_ray_engine_writes_the_same_tables_as_the_local_engine(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_transcript(corpus / "generated.txt", turns=60, seed=3)
    (corpus / "empty.txt").write_text("")
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    args = ["batch", "--fast", "--workers", "2", str(corpus)]
    code, err = run_cli([*args, "--out", str(local)], capsys)
    assert code == 2, err  # empty.txt fails, on both engines
    code, err = run_cli([*args, "--engine", "ray", "--out", str(ray_out)], capsys)
    assert code == 2, err
    assert "attune: error: 1 of 7 inputs failed" in err

    for level in ("utterances", "episodes", "sessions"):
        a, b = _table(local, level), _table(ray_out, level)
        assert a.num_rows > 0 and a.equals(b), level
        names = sorted(p.name for p in (local / level).glob("*.parquet"))
        assert names == sorted(p.name for p in (ray_out / level).glob("*.parquet"))
        for name in names:  # the same bytes, part by part
            assert (local / level / name).read_bytes() == (ray_out / level / name).read_bytes()

    m_local, m_ray = manifest(local), manifest(ray_out)
    assert m_ray["engine"] == "ray" and m_ray["run_key"] == m_local["run_key"]

    def comparable(doc: dict[str, object]) -> list[dict[str, object]]:
        rows = doc["inputs"]
        assert isinstance(rows, list)
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert comparable(m_ray) == comparable(m_local)
    assert m_ray["counts"] == {"done": 6, "failed": 1, "skipped": 0}
