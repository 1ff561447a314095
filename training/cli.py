"""`brightkitchen train` and `brightkitchen eval`: their arguments and what they run.

brightkitchen/cli.py adds the subcommands with add_train_arguments / add_eval_arguments and calls
run_train / run_eval; heavy imports (torch, onnxruntime, OpenCV) happen only inside those.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from training.errors import TrainingError

DEFAULT_CONFIDENCE = 0.5  # the edge rules' default min_confidence; the model card reports it


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", type=Path, required=True, help="a YOLO data.yaml (train and val entries)"
    )
    parser.add_argument("--name", default="kitchen", help="model name: models/<name>/model.onnx")
    parser.add_argument(
        "--epochs", type=int, default=30, help="epochs (an upper bound with --hours)"
    )
    parser.add_argument(
        "--hours", type=float, default=None, help="wall-clock budget; epochs are fitted to it"
    )
    parser.add_argument("--imgsz", type=int, default=320, help="model input size (multiple of 32)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--models-dir", type=Path, default=Path("models"))
    parser.add_argument("--runs-dir", type=Path, default=Path("var/runs"), help="checkpoints")
    parser.add_argument(
        "--warm-start",
        type=Path,
        default=None,
        help="continue from this model of ours (e.g. models/kitchen/model.onnx) instead of "
        "training from scratch; the data must use its classes, in its order",
    )


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True, help="ultralytics-format ONNX model")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", type=Path, help="labelled images: a data.yaml, a YOLO folder or a VOC folder"
    )
    source.add_argument(
        "--scenario", type=Path, help="a folder of scenario videos (*.mp4 + ground-truth *.json)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--confidence", type=float, default=DEFAULT_CONFIDENCE, help="confidence threshold"
    )
    parser.add_argument(
        "--min-size-px", type=float, default=0.0, help="ignore ground-truth boxes smaller than this"
    )
    parser.add_argument("--split", default="val", help="split of --data to use (val, train, all)")
    parser.add_argument(
        "--by-size",
        action="store_true",
        help="--data: also print each class's recall by box size (JSON always has it)",
    )
    parser.add_argument(
        "--confusion",
        action="store_true",
        help="--data: also print what each class's missed and false boxes were (JSON has it)",
    )
    parser.add_argument(
        "--whole-frame",
        action="store_true",
        help="--scenario: detect on whole frames instead of tiles of the model's input size",
    )
    parser.add_argument("--detect-fps", type=float, default=5.0, help="--scenario: frames/s")


def run_eval(
    model: Path,
    data: Path | None,
    scenario: Path | None,
    *,
    as_json: bool = False,
    min_size_px: float = 0.0,
    confidence: float = DEFAULT_CONFIDENCE,
    split: str = "val",
    by_size: bool = False,
    with_confusion: bool = False,
    tiled: bool = True,
    detect_fps: float = 5.0,
    out: TextIO | None = None,
) -> int:
    """Evaluate on a labelled set (--data) or scenario videos (--scenario); 0 ok, 2 bad input."""
    from detector.errors import DetectorError
    from scenes.dataset import stderr_progress
    from scenes.errors import SceneError

    stream = out or sys.stdout
    if (data is None) == (scenario is None):
        sys.stderr.write("error: give exactly one of --data and --scenario\n")
        return 2
    if not 0.0 <= confidence <= 1.0:
        sys.stderr.write(f"error: --confidence must be in 0..1, got {confidence}\n")
        return 2
    try:
        if data is not None:
            from training.evaluate import (
                evaluate_data,
                format_confusion_table,
                format_size_table,
                format_table,
            )

            (report,) = evaluate_data(
                model,
                data,
                split=split,
                confidences=(confidence,),
                min_size_px=min_size_px,
                progress=None if as_json else stderr_progress("images"),
            )
            if as_json:
                text = json.dumps(report.to_dict(), indent=2)
            else:
                text = format_table(report)
                if by_size:
                    text += "\n\n" + format_size_table(report)
                if with_confusion:
                    text += "\n\n" + format_confusion_table(report)
        else:
            assert scenario is not None
            from training.scenario_eval import evaluate_scenario_folder, format_scenario_table

            (scenario_report,) = evaluate_scenario_folder(
                model,
                scenario,
                confidences=(confidence,),
                detect_fps=detect_fps,
                tiled=tiled,
                progress=None if as_json else stderr_progress("videos"),
            )
            text = (
                json.dumps(scenario_report.to_dict(), indent=2)
                if as_json
                else format_scenario_table(scenario_report)
            )
    except (TrainingError, DetectorError, SceneError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    stream.write(text + "\n")
    return 0


def run_train(
    data: Path,
    *,
    name: str = "kitchen",
    epochs: int = 30,
    hours: float | None = None,
    imgsz: int = 320,
    batch: int = 16,
    models_dir: Path = Path("models"),
    runs_dir: Path = Path("var/runs"),
    warm_start: Path | None = None,
) -> int:
    """Train from scratch, or from warm_start with the fine-tuning settings (ultralytics shows a
    progress bar); export models/<name>/model.onnx and write its card beside it."""
    command = " ".join(["brightkitchen", "train", *sys.argv[2:]])
    extra: dict[str, object] = {} if hours is None else {"time": hours}
    weights = None
    try:
        if warm_start is not None:
            from training.datasets import data_yaml_folders, data_yaml_names
            from training.warm_start_run import (
                FINE_TUNE_ARGS,
                check_warm_start_source,
                prepare_warm_start,
            )

            check_warm_start_source(warm_start, data_yaml_names(data))  # before torch loads
            extra = {**FINE_TUNE_ARGS, **extra}
            weights = prepare_warm_start(
                warm_start,
                runs_dir / f"{name}-warm-start" / "warm_start.pt",
                image_folders=data_yaml_folders(data, "train"),
                check_folders=data_yaml_folders(data, "val"),
                imgsz=imgsz,
            )
        from training.train import train

        result = train(
            data,
            runs_dir,
            epochs=epochs,
            imgsz=imgsz,
            name=name,
            batch=batch,
            models_dir=models_dir,
            extra=extra or None,
            weights=weights,
            command=command,
        )
    except ImportError as err:
        sys.stderr.write(
            f"error: training needs the train extra (pip install -e '.[train]'): {err}\n"
        )
        return 2
    except TrainingError as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    from training.evaluate import evaluate_data
    from training.model_card import write_basic_card

    (validation,) = evaluate_data(result.onnx, data, split="val", confidences=(DEFAULT_CONFIDENCE,))
    card = write_basic_card(
        result.onnx.parent / "MODEL_CARD.md",
        name=name,
        data=data,
        command=command,
        warm_start=warm_start,
        epochs=epochs,
        train_images=result.train_images,
        seconds=result.seconds,
        validation=validation,
    )
    sys.stdout.write(
        f"trained {result.weights} in {result.seconds:.0f} s; exported {result.onnx}; card {card}\n"
    )
    return 0
