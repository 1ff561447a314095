"""The train stage's checkpoint lookup: the best epoch when there is one, else the last."""

from pathlib import Path

import pytest

from training.errors import TrainingError
from training.pipeline import PipelineConfig
from training.pipeline_train import best_checkpoint


def test_the_best_epoch_is_preferred_to_the_last(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path)
    weights = config.runs_dir / config.name / "weights"
    weights.mkdir(parents=True)
    (weights / "last.pt").write_bytes(b"last")
    assert best_checkpoint(config) == weights / "last.pt"  # a run cut before its first best
    (weights / "best.pt").write_bytes(b"best")
    assert best_checkpoint(config) == weights / "best.pt"


def test_no_checkpoint_names_the_folder_and_the_stage_to_run(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path)
    with pytest.raises(TrainingError, match="run the train stage first") as raised:
        best_checkpoint(config)
    assert str(config.runs_dir / config.name / "weights") in str(raised.value)
