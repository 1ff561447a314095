"""The `make model` pipeline's stage order and its errors when a stage's input is missing."""

from pathlib import Path

import pytest

from training.pipeline import STAGES, PipelineConfig, main
from training.train import FONT_CANDIDATES


def _work_with_training_data(tmp_path: Path) -> Path:
    """A work dir whose data stage has run (its train.yaml exists); the train stage's input."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    (work / "data" / "train.yaml").write_text("train: x\nval: x\n")
    return work


def test_stages_run_in_the_order_that_feeds_each_the_previous_one() -> None:
    assert STAGES == ("data", "train", "export", "scenarios", "evaluate", "card")


@pytest.mark.parametrize(
    ("stage", "named"),
    [("train", "train.yaml"), ("export", "weights"), ("evaluate", "model.onnx")],
)
def test_a_stage_without_its_input_names_what_is_missing(
    stage: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, models = str(tmp_path / "work"), str(tmp_path / "models")
    assert main(["--stage", stage, "--work-dir", work, "--models-dir", models]) == 2
    assert named in capsys.readouterr().err


def test_a_missing_warm_start_model_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = _work_with_training_data(tmp_path)
    argv = ["--stage", "train", "--work-dir", str(work), "--warm-start", str(tmp_path / "old.onnx")]
    assert main(argv) == 2
    assert "old.onnx" in capsys.readouterr().err


def test_a_missing_training_pack_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "pack" / "data.yaml"
    argv = ["--stage", "train", "--work-dir", str(tmp_path / "work"), "--data", str(pack)]
    argv += ["--device", "0", "--batch", "64", "--workers", "8", "--no-plots", "--cache", "ram"]
    assert main(argv) == 2
    assert str(pack) in capsys.readouterr().err


@pytest.mark.skipif(not any(p.is_file() for p in FONT_CANDIDATES), reason="no DejaVu font here")
def test_preparing_a_run_elsewhere_trains_nothing_and_leaves_the_font(tmp_path: Path) -> None:
    work = _work_with_training_data(tmp_path)
    assert main(["--stage", "train", "--work-dir", str(work), "--prepare-only"]) == 0
    assert (work / "runs" / ".ultralytics" / "Arial.ttf").is_file()
    assert not (work / "runs" / "kitchen").exists()  # no training run


@pytest.fixture
def train_args(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    """The training arguments of each main() call, which runs no stage."""
    seen: list[dict[str, object]] = []

    def record(config: PipelineConfig, stages: object) -> None:
        seen.append(config.extra_train_args)

    monkeypatch.setattr("training.pipeline.run_stages", record)
    return seen


def test_the_scale_augmentation_reaches_the_training_arguments(
    tmp_path: Path, train_args: list[dict[str, object]]
) -> None:
    seen = train_args
    work = str(tmp_path / "work")
    assert main(["--stage", "train", "--work-dir", work, "--aug-scale", "0.1"]) == 0
    assert main(["--stage", "train", "--work-dir", work]) == 0
    assert seen[0]["scale"] == 0.1
    assert "scale" not in seen[1]  # ultralytics' default


def test_the_mosaic_share_reaches_the_training_arguments_and_is_checked(
    tmp_path: Path, train_args: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    seen = train_args
    work = str(tmp_path / "work")
    assert main(["--stage", "train", "--work-dir", work, "--mosaic", "0"]) == 0
    assert main(["--stage", "train", "--work-dir", work]) == 0
    assert seen[0]["mosaic"] == 0.0
    assert "mosaic" not in seen[1]  # ultralytics' default
    with pytest.raises(SystemExit):
        main(["--stage", "train", "--work-dir", work, "--mosaic", "1.5"])
    assert "--mosaic must lie in [0, 1], got 1.5" in capsys.readouterr().err
    assert len(seen) == 2  # the bad value trained nothing


def test_the_classification_weights_reach_the_training_arguments_and_are_checked(
    tmp_path: Path, train_args: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    seen = train_args
    work = str(tmp_path / "work")
    train = ["--stage", "train", "--work-dir", work]
    assert main([*train, "--cls-gain", "1.0", "--class-weight-power", "0.5"]) == 0
    assert main(train) == 0
    assert (seen[0]["cls"], seen[0]["cls_pw"]) == (1.0, 0.5)
    assert "cls" not in seen[1]  # ultralytics' defaults
    assert "cls_pw" not in seen[1]
    with pytest.raises(SystemExit):
        main([*train, "--cls-gain", "0"])
    assert "--cls-gain must be > 0, got 0.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*train, "--class-weight-power", "2"])
    assert "--class-weight-power must lie in [0, 1], got 2.0" in capsys.readouterr().err
    assert len(seen) == 2  # the bad values trained nothing


def test_a_warm_up_ramps_every_rate_from_zero_and_is_checked(
    tmp_path: Path, train_args: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    seen = train_args
    work = str(tmp_path / "work")
    warm = ["--stage", "train", "--work-dir", work, "--warm-start", str(tmp_path / "model.onnx")]
    assert main(warm) == 0
    assert main([*warm, "--warmup-epochs", "0.5"]) == 0
    assert seen[0]["warmup_epochs"] == 0.0  # a warm start's default: no warm-up
    assert "warmup_bias_lr" not in seen[0]
    assert seen[1]["warmup_epochs"] == 0.5
    assert seen[1]["warmup_bias_lr"] == 0.0  # not ultralytics' 0.1
    with pytest.raises(SystemExit):
        main(["--stage", "train", "--work-dir", work, "--warmup-epochs", "-1"])
    assert "--warmup-epochs must be >= 0, got -1.0" in capsys.readouterr().err
    assert len(seen) == 2


def test_an_architecture_applies_to_a_run_from_scratch_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = _work_with_training_data(tmp_path)
    warm = tmp_path / "old.onnx"
    warm.write_bytes(b"not read")
    argv = ["--stage", "train", "--work-dir", str(work), "--warm-start", str(warm)]
    assert main([*argv, "--architecture", "yolov8n.yaml"]) == 2
    error = capsys.readouterr().err
    assert "yolov8n.yaml applies to a run from scratch" in error
    assert "old.onnx" in error


def test_a_run_from_scratch_names_its_architecture_in_its_command() -> None:
    assert PipelineConfig().scratch_command() == "make model"
    assert PipelineConfig().architecture == "yolo26n-p2.yaml"  # the shipped model's network
    assert PipelineConfig(architecture="yolov8n.yaml").scratch_command() == (
        "python -m training.pipeline --train-hours 1.6 --architecture yolov8n.yaml"
    )
