"""bench/results.json: one flat JSON object, figure name -> number, merged across benchmarks."""

import json
import math
import tempfile
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


def record(figures: dict[str, float], path: Path = RESULTS_PATH) -> None:
    """Merge figures into the JSON object at path (created if missing); other figures are kept."""
    for name, value in figures.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"figure names must be non-empty strings, got {name!r}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"figure {name!r} must be a finite number, got {value!r}")
    merged = _load(path)
    merged.update({name: float(value) for name, value in figures.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    # write then rename, so a crash never leaves half a file behind
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    ) as handle:
        json.dump(merged, handle, indent=2, sort_keys=True)
        handle.write("\n")
    Path(handle.name).replace(path)


def _load(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: cannot read the benchmark results: {err}") from err
    if not isinstance(loaded, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in loaded.values()
    ):
        raise ValueError(f"{path}: expected one flat JSON object of figure name -> number")
    return {str(name): float(value) for name, value in loaded.items()}
