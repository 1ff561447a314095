"""A model's training history: stored in its ONNX metadata, read back by the next warm start, and
rebuilt from ultralytics' run records (args.yaml, results.csv) and the warm start record."""

import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from training.provenance import (
    HISTORY_KEY,
    KNOWN_HISTORIES,
    TrainingRun,
    read_history,
    settings_text,
    training_history,
    warm_start_record,
    write_history,
)


def _model(path: Path, props: dict[str, str]) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["output0"])],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph)
    helper.set_model_props(model, props)
    onnx.save(model, str(path))
    return path


def _run_dir(path: Path, *, model: str, epochs: int, seconds: float) -> Path:
    path.mkdir(parents=True)
    (path / "args.yaml").write_text(
        f"model: {model}\noptimizer: AdamW\nlr0: 0.0005\nwarmup_epochs: 0.0\n"
        "close_mosaic: 2\ntime: 1.5\nbatch: 16\n"
    )
    rows = "\n".join(f"{e},{seconds * e / epochs}" for e in range(1, epochs + 1))
    (path / "results.csv").write_text(f"epoch,time\n{rows}\n")
    return path


def test_history_round_trips_through_the_onnx_metadata_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    model = _model(tmp_path / "m.onnx", {"names": "{0: 'person'}", HISTORY_KEY: "[]"})
    runs = (
        TrainingRun("scratch", 10, 96.0, "optimizer auto", "make model"),
        TrainingRun("warm start from m.onnx", 20, 100.5, "AdamW", "python -m training.pipeline"),
    )
    write_history(model, runs)
    assert read_history(model) == runs
    props = [p.key for p in onnx.load(str(model)).metadata_props]
    assert sorted(props) == sorted(["names", HISTORY_KEY])  # replaced, not appended


def test_a_model_exported_before_the_history_is_known_by_its_export_date(tmp_path: Path) -> None:
    date = next(iter(KNOWN_HISTORIES))
    assert read_history(_model(tmp_path / "old.onnx", {"date": date})) == KNOWN_HISTORIES[date]
    assert read_history(_model(tmp_path / "other.onnx", {"date": "2020-01-01"})) == ()


def test_a_run_from_scratch_is_one_run_with_its_recorded_settings(tmp_path: Path) -> None:
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model="yolov8n.yaml", epochs=3, seconds=600)
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert (run.start, run.epochs, run.minutes, run.command) == ("scratch", 3, 10.0, "make model")
    assert "AdamW lr0 0.0005" in run.settings
    assert "mosaic off for the last 2 epochs" in run.settings


def test_a_run_without_mosaic_says_so_instead_of_naming_its_close_mosaic_epochs() -> None:
    settings = settings_text({"mosaic": 0.0, "close_mosaic": 2, "time": 1.5})
    assert "mosaic off, a wall-clock budget" in settings
    assert "for the last" not in settings
    assert "mosaic off for the last 2 epochs" in settings_text({"mosaic": 1.0, "close_mosaic": 2})


def test_a_run_without_a_time_budget_names_its_epochs_instead() -> None:
    assert "mosaic off, 3 epochs, no wall-clock budget" in settings_text(
        {"mosaic": 0.0, "epochs": 3, "time": None}
    )
    assert "a wall-clock budget of ? h" in settings_text({})  # not recorded: unknown


def test_a_warm_up_from_zero_is_told_apart_from_ultralytics_bias_warm_up() -> None:
    ours = settings_text({"warmup_epochs": 0.5, "warmup_bias_lr": 0.0})
    assert "warm-up 0.5 epochs (every rate from 0)," in ours
    theirs = settings_text({"warmup_epochs": 1.0, "warmup_bias_lr": 0.1})
    assert "warm-up 1.0 epochs," in theirs
    assert "warm-up 0.0 epochs," in settings_text({"warmup_epochs": 0.0, "warmup_bias_lr": 0.0})


def test_a_run_names_its_scale_augmentation_only_when_it_is_not_the_default(
    tmp_path: Path,
) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model="yolov8n.yaml", epochs=2, seconds=60)
    args = run_dir / "args.yaml"
    args.write_text(args.read_text() + "scale: 0.5\n")
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert "scale" not in run.settings
    args.write_text(args.read_text().replace("scale: 0.5", "scale: 0.1"))
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert run.settings.endswith(
        "a wall-clock budget of 1.5 h, scale augmentation 0.1 (ultralytics' default 0.5)"
    )


def test_a_warm_started_run_continues_the_history_of_the_file_it_started_from(
    tmp_path: Path,
) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    checkpoint.parent.mkdir()
    earlier = TrainingRun("scratch", 10, 96.0, "optimizer auto", "make model")
    record = {
        "onnx": "models/kitchen/model.onnx",
        "calibration_images": 128,
        "images": 8,
        "max_abs_box_px": 0.002,
        "max_abs_score": 1.8e-06,
        "train_mode_max_abs_score": 0.7,
        "history": [earlier.to_dict()],
    }
    checkpoint.with_suffix(".json").write_text(json.dumps(record))
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model=str(checkpoint), epochs=4, seconds=60)
    first, second = training_history(run_dir, checkpoint, scratch_command="make model")
    assert first == earlier
    assert second.start == "warm start from models/kitchen/model.onnx"
    assert second.epochs == 4
    assert "--warm-start models/kitchen/model.onnx --train-hours 1.5" in second.command
    # the warm start's check travels with the run, so the model file can tell it later
    assert second.warm_start_fit == {
        "calibration_images": 128.0,
        "images": 8.0,
        "max_abs_box_px": 0.002,
        "max_abs_score": 1.8e-06,
    }
    model = _model(tmp_path / "m.onnx", {})
    write_history(model, (first, second))
    assert read_history(model) == (first, second)


def test_a_stale_warm_start_record_does_not_claim_a_run_from_scratch(tmp_path: Path) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    checkpoint.parent.mkdir()
    checkpoint.with_suffix(".json").write_text(json.dumps({"onnx": "x.onnx", "history": []}))
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model="yolov8n.yaml", epochs=2, seconds=60)
    assert warm_start_record(checkpoint, run_dir) is None
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert run.start == "scratch"


def test_a_run_records_its_machine_and_the_command_that_ran_it(tmp_path: Path) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model="yolov8n.yaml", epochs=2, seconds=60)
    command = "python -m training.pipeline --stage train --device 0 --batch 64"
    (run_dir / "run.json").write_text(json.dumps({"machine": "NVIDIA H200", "command": command}))
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert run.settings.endswith("a wall-clock budget of 1.5 h, batch 16, on NVIDIA H200")
    assert run.command == command
    assert run.machine == "NVIDIA H200"
    assert run.on_gpu
    assert TrainingRun.from_dict(run.to_dict()) == run  # the machine travels in the ONNX history


def test_a_run_without_a_record_names_no_machine(tmp_path: Path) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    run_dir = _run_dir(tmp_path / "runs" / "kitchen", model="yolov8n.yaml", epochs=2, seconds=60)
    (run,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert " on " not in run.settings
    assert run.machine is None
    assert not run.on_gpu


def test_a_run_names_the_architecture_it_was_built_from_and_a_warm_start_keeps_it(
    tmp_path: Path,
) -> None:
    checkpoint = tmp_path / "warm_start" / "warm_start.pt"
    run_dir = _run_dir(
        tmp_path / "scratch" / "kitchen", model="yolo26n-p2.yaml", epochs=2, seconds=60
    )
    (scratch,) = training_history(run_dir, checkpoint, scratch_command="make model")
    assert scratch.architecture == "yolo26n-p2.yaml"

    checkpoint.parent.mkdir()
    record = {"onnx": "models/kitchen/model.onnx", "history": [scratch.to_dict()]}
    checkpoint.with_suffix(".json").write_text(json.dumps(record))
    warm_dir = _run_dir(tmp_path / "warm" / "kitchen", model=str(checkpoint), epochs=2, seconds=60)
    _, warm = training_history(warm_dir, checkpoint, scratch_command="make model")
    assert warm.architecture == "yolo26n-p2.yaml"  # not the checkpoint's path


def test_a_run_stored_before_runs_named_their_architecture_was_a_yolov8n() -> None:
    stored = TrainingRun("scratch", 10, 96.0, "optimizer auto", "make model").to_dict()
    del stored["architecture"]
    assert TrainingRun.from_dict(stored).architecture == "yolov8n.yaml"
