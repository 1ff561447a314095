"""The model card is written from a measured report only, with the targets judged; the shipped
confidence is chosen on the validation split; `brightkitchen train` without the extra says so."""

import importlib.util
import json
from pathlib import Path
from typing import Any

import onnx
import pytest

from scenes.marker_model import build_marker_model
from training.card_text import architecture_label
from training.cli import run_train
from training.evaluate import ImageSetReport
from training.metrics import ClassMetrics
from training.model_card import write_model_card
from training.pipeline import PipelineConfig
from training.pipeline_eval import choose_confidence
from training.provenance import TrainingRun, write_history

KINDS = ("no_hat", "no_mask", "rodent", "uncovered_food")


def _class(label: str, precision: float, recall: float, ap50: float) -> dict[str, Any]:
    return {
        "label": label,
        "ground_truth": 100,
        "predictions": 100,
        "true_positives": int(recall * 100),
        "false_positives": 0,
        "false_negatives": 100 - int(recall * 100),
        "precision": precision,
        "recall": recall,
        "ap50": ap50,
    }


def _image_set(confidence: float, classes: dict[str, tuple[float, float, float]]) -> dict[str, Any]:
    rows = {name: _class(name, *values) for name, values in classes.items()}
    return {
        "data": "x",
        "images": 500,
        "confidence": confidence,
        "min_size_px": 0.0,
        "iou_threshold": 0.5,
        "classes": rows,
        "mean_ap50": sum(v[2] for v in classes.values()) / len(classes),
    }


def _scenarios(confidence: float) -> dict[str, Any]:
    kinds = {
        kind: {
            "kind": kind,
            "truth": 2,
            "predicted": 2,
            "matched_truth": 2 if kind != "rodent" else 1,
            "correct_predictions": 2,
            "precision": 1.0,
            "recall": 1.0 if kind != "rodent" else 0.5,
        }
        for kind in KINDS
    }
    return {"confidence": confidence, "videos": [{}] * 12, "kinds": kinds}


def _report() -> dict[str, Any]:
    generated = {"head_bare": (0.97, 0.93, 0.964), "rodent": (0.9, 0.7, 0.812)}
    faces = {"face_bare": (0.61, 0.55, 0.6), "face_masked": (0.93, 0.66, 0.8)}
    return {
        "model": "models/kitchen/model.onnx",
        "size_mb": 12.1,
        "shipped_confidence": 0.4,
        "generated_test": {c: _image_set(float(c), generated) for c in ("0.5", "0.4")},
        "face_masks_val": {c: _image_set(float(c), faces) for c in ("0.5", "0.4")},
        "scenarios": {c: _scenarios(float(c)) for c in ("0.5", "0.4")},
        "scenarios_substream": {c: _scenarios(float(c)) for c in ("0.5", "0.4")},
        "scenarios_whole_frame": {c: _scenarios(float(c)) for c in ("0.5", "0.4")},
        "latency_ms": {"input_320x320": 11.2, "frame_640x360": 12.0},
    }


def test_the_card_shows_measured_figures_and_judges_the_targets(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    timings = {"data_generate": 240.0, "export": 3.0, "evaluate": 300.0}
    card = write_model_card(config, _report(), timings, tmp_path / "MODEL_CARD.md").read_text()
    assert "${" not in card
    assert "| head_bare | 100 | 0.970 | 0.930 | 0.964 | AP50 >= 0.90: met |" in card
    assert "| rodent | 100 | 0.900 | 0.700 | 0.812 | AP50 >= 0.90: **NOT met** |" in card
    assert "P met, R **NOT met**" in card  # face_masked: precision 0.93, recall 0.66 < 0.70
    assert "| rodent | 2 | 2 | 1 | 2 | 1.000 | 0.500 |" in card
    assert "12.1 MB" in card
    assert "--confidence 0.4" in card
    assert "AGPL-3.0" in card


def _card_with_extra_scenes(
    tmp_path: Path, *, animal_images: int = 0, mask_images: int = 0, food_images: int = 0
) -> str:
    config = PipelineConfig(
        work_dir=tmp_path / "work",
        models_dir=tmp_path / "models",
        animal_images=animal_images,
        mask_images=mask_images,
        food_images=food_images,
    )
    name = f"animals{animal_images}-masks{mask_images}-food{food_images}.md"
    return write_model_card(config, _report(), {}, tmp_path / name).read_text()


def test_the_card_says_how_many_animal_scenes_were_added_and_what_they_hold(
    tmp_path: Path,
) -> None:
    assert "--animal-images" not in _card_with_extra_scenes(tmp_path)
    card = _card_with_extra_scenes(tmp_path, animal_images=1500)
    assert "Another 1500 training scenes (`--animal-images`" in card
    assert "1-3 rodents by day, 1-5 at night and a cat in 60% of them, beside 0-2 dark" in card
    assert "--mask-images" not in card


def test_the_card_says_how_many_mask_scenes_were_added_and_what_they_hold(
    tmp_path: Path,
) -> None:
    card = _card_with_extra_scenes(tmp_path, mask_images=800)
    assert "Another 800 training scenes (`--mask-images`, split `mask_wear`)" in card
    assert "a correct mask on 40% of the faces and, of the others, 60% under the nose" in card
    assert "--animal-images" not in card
    assert "--food-images" not in card


def test_the_card_says_how_many_food_scenes_were_added_and_what_they_hold(
    tmp_path: Path,
) -> None:
    card = _card_with_extra_scenes(tmp_path, food_images=1200)
    assert "Another 1200 training scenes (`--food-images`, split `food_clutter`)" in card
    assert "hold 2-6 food containers and 3-8 pieces of unlabelled clutter each" in card
    assert "and 1-3 dark rounded objects (rice cookers, bin bags, lids)" in card
    assert "--mask-images" not in card


def test_the_card_shows_recall_by_size(tmp_path: Path) -> None:
    report = _report()
    report["generated_test"]["0.4"]["size_recall"] = [
        {"label": "head_bare", "low_px": 0.0, "high_px": 12.0, "ground_truth": 8, "found": 2},
        {"label": "head_bare", "low_px": 12.0, "high_px": None, "ground_truth": 92, "found": 91},
        {"label": "rodent", "low_px": 0.0, "high_px": 12.0, "ground_truth": 0, "found": 0},
        {"label": "rodent", "low_px": 12.0, "high_px": None, "ground_truth": 100, "found": 70},
    ]
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    card = write_model_card(config, report, {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "| class | <12 px | >=12 px |" in card
    assert "| head_bare | 0.25 (8) | 0.99 (92) |" in card
    assert "| rodent | - | 0.70 (100) |" in card
    # a report from before the size bins says so instead of showing an empty table
    card = write_model_card(config, _report(), {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "(not measured: run the evaluate stage again)" in card


def test_the_card_shows_what_the_errors_are(tmp_path: Path) -> None:
    report = _report()
    report["generated_test"]["0.4"]["confusion"] = {
        "food_covered": {
            "missed": 5,
            "read_as": {"food_uncovered": 3, "person": 1},
            "below_threshold": 1,
            "lost_to_neighbour": 0,
            "unseen": 0,
            "false_boxes": 2,
            "on_class": {},
            "on_found": 0,
            "on_background": 2,
        }
    }
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    card = write_model_card(config, report, {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "--confidence 0.4 --by-size --confusion" in card
    assert "| food_covered | 5 | food_uncovered 3, person 1 | 1 | 0 | 0 | 2 | - | 0 | 2 |" in card
    card = write_model_card(config, _report(), {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "What the errors at confidence 0.4 are" in card
    assert card.count("(not measured: run the evaluate stage again)") == 2  # sizes, errors


@pytest.mark.parametrize(
    ("latency", "expected"),
    [
        (  # a quiet machine
            {"input_320x320": 11.2, "frame_640x360": 12.0, "bare_onnxruntime": 10.4},
            "took 10.4 ms in a bare onnxruntime session timed in turn with it (the issue measured "
            "YOLOv8n at 320 at about 10.5 ms here); the budget is <= 20 ms: met here;",
        ),
        (  # a busy machine: the bare graph itself is twice as slow as the figure
            {"input_320x320": 22.0, "frame_640x360": 22.5, "bare_onnxruntime": 21.0},
            "the budget is <= 20 ms: **not shown to be met** here: the machine ran the bare graph "
            "2.0 times slower than when the issue measured it, and our pre- and post-processing "
            "adds 1.0 ms to it;",
        ),
        (  # a quiet machine and a slow detector
            {"input_320x320": 21.0, "frame_640x360": 21.5, "bare_onnxruntime": 10.0},
            "**not shown to be met** here: our pre- and post-processing adds 11.0 ms to the bare",
        ),
        (  # a report from before the baseline was measured
            {"input_320x320": 21.0, "frame_640x360": 21.5},
            "on the 2 cores; the budget is <= 20 ms: **not shown to be met** here;",
        ),
    ],
)
def test_the_latency_is_told_beside_the_bare_graph_timed_in_the_same_run(
    tmp_path: Path, latency: dict[str, float], expected: str
) -> None:
    report = _report()
    report["latency_ms"] = {**latency, "load_avg_1min": 1.1}
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    card = write_model_card(config, report, {}, tmp_path / "MODEL_CARD.md").read_text()
    assert expected in card


def _metrics(label: str, precision: float | None, recall: float | None) -> ClassMetrics:
    return ClassMetrics(label, 10, 10, 5, 5, 5, precision, recall, 0.5)


def test_the_shipped_confidence_is_the_best_mean_f1() -> None:
    def report(confidence: float, p: float | None, r: float | None) -> ImageSetReport:
        return ImageSetReport("val", 10, confidence, 0.0, 0.5, (_metrics("rodent", p, r),))

    reports = [report(0.5, 1.0, 0.4), report(0.4, 0.9, 0.8), report(0.3, 0.5, 0.9)]
    assert choose_confidence(reports) == 0.4
    tied = [report(0.5, 0.8, 0.8), report(0.4, 0.8, 0.8), report(0.3, None, None)]
    assert choose_confidence(tied) == 0.5


@pytest.mark.skipif(
    importlib.util.find_spec("ultralytics") is not None, reason="the train extra is installed"
)
def test_train_without_the_extra_says_what_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOLO_OFFLINE", "1")  # set by the offline set-up; restored afterwards
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "cfg"))
    data = tmp_path / "data.yaml"
    data.write_text("train: images\nval: images\nnames:\n  0: person\n")
    assert run_train(data, runs_dir=tmp_path / "runs", models_dir=tmp_path / "models") == 2
    assert "train extra" in capsys.readouterr().err


def test_train_refuses_a_warm_start_whose_classes_are_not_the_datas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "images").mkdir()
    data = tmp_path / "data.yaml"
    data.write_text("train: images\nval: images\nnames:\n  0: person\n")
    kitchen = Path(__file__).resolve().parents[2] / "models" / "kitchen" / "model.onnx"
    code = run_train(data, runs_dir=tmp_path / "runs", warm_start=kitchen)
    assert code == 2
    assert "the data ['person']: label the data with the model's class ids" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "runs").exists()  # refused before anything was built
    assert run_train(data, runs_dir=tmp_path / "runs", warm_start=tmp_path / "no.onnx") == 2
    assert "no.onnx does not exist" in capsys.readouterr().err


def test_a_warm_started_model_card_lists_every_training_run(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    checkpoint = config.warm_start_checkpoint
    checkpoint.parent.mkdir(parents=True)
    first = TrainingRun("scratch", 10, 96.0, "optimizer auto, a budget of 1.6 h", "make model")
    record = {
        "onnx": "models/kitchen/model.onnx",
        "calibration_images": 128,
        "images": 8,
        "max_abs_box_px": 0.0008,
        "max_abs_score": 1.5e-06,
        "history": [first.to_dict()],
    }
    checkpoint.with_suffix(".json").write_text(json.dumps(record))
    run_dir = config.runs_dir / config.name
    run_dir.mkdir(parents=True)
    (run_dir / "args.yaml").write_text(f"model: {checkpoint}\noptimizer: AdamW\ntime: 1.7\n")
    (run_dir / "results.csv").write_text("epoch,time\n1,300\n2,600\n")
    report = _report()
    report["latency_ms"] = {"input_320x320": 14.0, "frame_640x360": 21.0, "load_avg_1min": 1.9}
    card = write_model_card(config, report, {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "${" not in card
    assert "after 10 + 2 epochs of training (from scratch, then warm-started" in card
    assert "from those weights; on the CPU)" in card
    assert "scripts/train-gpu.sh" not in card  # no GPU run to explain
    assert "1. **From scratch** (`yolov8n.yaml`): optimizer auto, a budget of 1.6 h" in card
    assert "**10 epochs in 96 min**" in card
    assert "2. **Warm start** from `models/kitchen/model.onnx`" in card
    assert "**2 epochs in 10 min**" in card
    assert "--warm-start models/kitchen/model.onnx --train-hours 1.7" in card
    assert "8.0e-04 px" in card
    assert "A warm start rebuilds a trainable YOLOv8n from" in card
    assert "Each run's learning rate and warm-up are in its line above" in card
    assert "one-to-one" not in card  # a YOLOv8n has a single head
    assert "with a 1-minute load average of 1.9" in card
    assert "**not shown to be met**" in card  # 21 ms per 640x360 frame


def test_a_run_on_a_gpu_is_named_with_its_command_and_how_its_data_travelled(
    tmp_path: Path,
) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    checkpoint = config.warm_start_checkpoint
    checkpoint.parent.mkdir(parents=True)
    first = TrainingRun("scratch", 10, 96.0, "optimizer auto, a budget of 1.6 h", "make model")
    checkpoint.with_suffix(".json").write_text(
        json.dumps({"onnx": "models/kitchen/model.onnx", "history": [first.to_dict()]})
    )
    run_dir = config.runs_dir / config.name
    run_dir.mkdir(parents=True)
    (run_dir / "args.yaml").write_text(f"model: {checkpoint}\nbatch: 64\ntime: 0.13\n")
    (run_dir / "results.csv").write_text("epoch,time\n1,300\n2,468\n")
    command = "python -m training.pipeline --stage train --device 0 --batch 64"
    (run_dir / "run.json").write_text(json.dumps({"machine": "NVIDIA H200", "command": command}))
    card = write_model_card(config, _report(), {}, tmp_path / "MODEL_CARD.md").read_text()
    assert "(from scratch, then warm-started from those weights; the last run on a GPU)" in card
    assert "a wall-clock budget of 0.13 h, batch 64, on NVIDIA H200: **2 epochs in 8 min**" in card
    assert command in card
    assert "scripts/train-gpu.sh" in card
    assert "python -m training.transfer --quality 75" in card


def _card_from_stored_history(
    config: PipelineConfig, runs: tuple[TrainingRun, ...], timings: dict[str, float], card: Path
) -> str:
    """The card of a committed model whose training history is stored in the file itself."""
    model = config.model_dir / "model.onnx"
    model.parent.mkdir(parents=True)
    build_marker_model(model, class_names=("red_marker",))
    write_history(model, runs)
    return write_model_card(config, _report(), timings, card).read_text()


def test_a_gpu_run_followed_by_a_cpu_run_is_named_by_its_number(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    cpu = "optimizer AdamW lr0 0.0005, a budget of 1.35 h, batch 16, on CPU (2 cores)"
    runs = (
        TrainingRun("scratch", 10, 96.0, "optimizer auto, a budget of 1.6 h", "make model"),
        TrainingRun("warm start from m.onnx", 90, 8.0, "lr0 0.001, on H200", "gpu", "NVIDIA H200"),
        TrainingRun("warm start from m.onnx", 10, 81.0, cpu, "cpu", "CPU (2 cores)"),
    )
    card = _card_from_stored_history(config, runs, {}, tmp_path / "MODEL_CARD.md")
    assert "after 10 + 90 + 10 epochs of training" in card
    assert "from those weights; run 2 on a GPU, the others on the CPU)" in card
    assert "scripts/train-gpu.sh" in card


def test_the_card_tells_the_history_stored_in_the_model_without_the_run_folder(
    tmp_path: Path,
) -> None:
    # a later session has the committed model but not the training run's folder (var/)
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    fit = {"calibration_images": 128.0, "images": 8.0, "max_abs_box_px": 0.0021}
    runs = (
        TrainingRun("scratch", 10, 96.0, "optimizer auto, a budget of 1.6 h", "make model"),
        TrainingRun(
            "warm start from models/kitchen/model.onnx",
            90,
            8.0,
            "optimizer AdamW lr0 0.001, batch 64, on NVIDIA H200",
            "python -m training.pipeline --stage train --device 0",
            machine="NVIDIA H200",
            warm_start_fit=fit,
        ),
    )
    timings = {"data_generate": 120.0, "evaluate": 1200.0}
    card = _card_from_stored_history(config, runs, timings, tmp_path / "MODEL_CARD.md")
    assert "after 10 + 90 epochs of training" in card
    assert "on NVIDIA H200: **90 epochs in 8 min**" in card
    assert "measured on 128 training images" in card
    assert "on 8 validation images to 2.1e-03 px in box coordinates and ? in class scores" in card
    # 2 min of data, 20 of evaluation and the last run's 8 min
    assert "Data, the last training run, export, evaluation and this card took 30 min" in card


def test_the_scenarios_are_judged_on_the_main_stream_and_shown_on_the_sub_stream(
    tmp_path: Path,
) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    report = _report()
    sub = report["scenarios_substream"]["0.4"]["kinds"]["no_mask"]
    sub.update(predicted=0, matched_truth=0, correct_predictions=0, precision=None, recall=0.0)
    card = write_model_card(config, report, {}, tmp_path / "MODEL_CARD.md").read_text()
    main_at = card.index("Main stream (1280x720)")
    sub_at = card.index("Sub-stream (640x360)")
    missed = card.index(
        "| no_mask | 2 | 0 | 0 | 0 | - | 0.000 | >= 0.95: P **NOT met**, R **NOT met** |"
    )
    assert main_at < sub_at < missed


def test_what_the_card_says_of_masks_on_a_sub_stream_follows_the_measured_events(
    tmp_path: Path,
) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    report = _report()
    whole = report["scenarios_whole_frame"]["0.4"]["kinds"]["no_mask"]
    whole.update(matched_truth=0, recall=0.0)
    found = write_model_card(config, report, {}, tmp_path / "found.md").read_text()
    assert (
        "of its 2 no_mask events the sub-stream tiles above find 2 and its whole frames, scaled "
        "to the input size, 0" in found
    )
    report["scenarios_substream"]["0.4"]["kinds"]["no_mask"].update(matched_truth=1, recall=0.5)
    missed = write_model_card(config, report, {}, tmp_path / "missed.md").read_text()
    assert "the sub-stream tiles above find 1 of 2 no_mask events" in missed
    assert "whole frames" not in missed.split("What it will not do well")[1].split("Rodents")[0]


def test_the_card_points_at_the_training_log_beside_it_when_there_is_one(tmp_path: Path) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    without = write_model_card(config, _report(), {}, tmp_path / "without.md").read_text()
    assert "TRAINING_LOG.md" not in without
    config.model_dir.mkdir(parents=True)
    (config.model_dir / "TRAINING_LOG.md").write_text("# runs\n")
    card = write_model_card(config, _report(), {}, tmp_path / "with.md").read_text()
    assert "[TRAINING_LOG.md](TRAINING_LOG.md), beside this card." in card


def test_the_card_names_the_architecture_and_reads_the_output_shape_from_the_model(
    tmp_path: Path,
) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    runs = (
        TrainingRun(
            "scratch", 60, 8.0, "optimizer auto", "make model", architecture="yolo26n-p2.yaml"
        ),
    )
    card = _card_from_stored_history(config, runs, {}, tmp_path / "MODEL_CARD.md")
    assert "a YOLO26n-P2 (ultralytics) trained **from scratch**" in card
    assert "1. **From scratch** (`yolo26n-p2.yaml`)" in card
    model = onnx.load(str(config.model_dir / "model.onnx"))
    dims = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    assert f"| output | `output0`, ({', '.join(map(str, dims))})" in card


def test_a_warm_start_of_an_nms_free_network_says_its_one_to_one_head_was_seeded(
    tmp_path: Path,
) -> None:
    config = PipelineConfig(work_dir=tmp_path / "work", models_dir=tmp_path / "models")
    y26 = "yolo26n-p2.yaml"
    fit = {"calibration_images": 128.0, "images": 8.0, "one_to_one_seeded": 32.0}
    runs = (
        TrainingRun("scratch", 15, 93.0, "optimizer auto", "cpu", architecture=y26),
        TrainingRun("warm start from m.onnx", 15, 90.0, "lr0 0.0005", "cpu", None, fit, y26),
    )
    card = _card_from_stored_history(config, runs, {}, tmp_path / "MODEL_CARD.md")
    assert "A warm start rebuilds a trainable YOLO26n-P2 from" in card
    assert "its 32 convolutions are seeded from their exported one-to-many twins" in card


def test_architecture_labels_are_the_names_people_use() -> None:
    assert architecture_label("yolov8n.yaml") == "YOLOv8n"
    assert architecture_label("yolo26n-p2.yaml") == "YOLO26n-P2"
    assert architecture_label("/configs/yolo11n.yaml") == "YOLO11n"
