"""The batch protocol and its content-hash cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlsysim.book.batch import process, process_cached
from mlsysim.core.exceptions import ConfigError

SOURCE = """---
title: x
---

```{.napkin}
bw = H100.memory.bandwidth
```

Reading 80 GB takes `80 GB / bw -> ms`{.napkin}; [3 TB/s]{.claim of="bw"}.
"""


def request(**extra: object) -> dict[str, object]:
    req: dict[str, object] = {
        "version": 1,
        "file": "ch.qmd",
        "format": "html",
        "source": SOURCE,
        "options": {"sig-figs": 3, "tolerance": "5%"},
        "items": [
            {"id": "b", "kind": "block", "text": "bw = H100.memory.bandwidth"},
            {"id": "i", "kind": "inline", "text": "80 GB / bw -> ms"},
            {"id": "c", "kind": "claim", "text": "3 TB/s", "attrs": {"of": "bw"}},
        ],
    }
    req.update(extra)
    return req


def test_results_and_failures_with_mapped_lines() -> None:
    resp = process(request())
    assert resp["version"] == 1 and resp["cached"] is False
    ids = {r["id"]: r for r in resp["results"]}
    assert ids["i"]["text"] == "23.9 ms" and ids["i"]["latex"] == r"{23.9\,\mathrm{ms}}"
    assert ids["c"]["ok"] is False and ids["c"]["text"].startswith("⚠3 TB/s [line 9: claim")
    assert ids["c"]["mark"] is True and 'class="mlsysim-failure' in ids["c"]["html"]
    (f,) = resp["failures"]
    assert (f["file"], f["line"], f["kind"]) == ("ch.qmd", 9, "claim")


def test_explicit_lines_win() -> None:
    req = request()
    req["items"] = [{"id": "1", "kind": "inline", "text": "1/0", "line": 42}]
    (f,) = process(req)["failures"]
    assert f["line"] == 42


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"version": 2, "items": []},
        {"version": 1},
        {"version": 1, "items": [{"kind": "nope", "text": "1"}]},
    ],
)
def test_malformed_requests(bad: object) -> None:
    with pytest.raises(ConfigError):
        process(bad)


def test_cache_hits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSYSIM_CACHE_DIR", str(tmp_path / "cache"))
    first = process_cached(request())
    second = process_cached(request())
    assert first["cached"] is False and second["cached"] is True
    assert second["results"] == first["results"]
    changed = process_cached(request(options={"sig-figs": 2}))
    assert changed["cached"] is False
