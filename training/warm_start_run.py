"""A warm-started training run's preparation, shared by the pipeline's train stage and
`brightkitchen train --warm-start`: the checks that need no torch (our export, the same classes),
the rebuilt checkpoint (training.warm_start) with its fit check, the record the next card reads,
and the fine-tuning settings.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import onnx

from training.errors import TrainingError
from training.provenance import architecture_of, read_history
from training.warm_start import WarmStartCheck, class_names_of

logger = logging.getLogger(__name__)

# Fine-tuning a warm-started model: no warm-up (its bias learning rate of 0.1 would undo what the
# weights know), AdamW at a lower learning rate than the from-scratch run's automatic choice
# (0.000769 for 9 classes), mosaic off for the last 2 epochs.
FINE_TUNE_ARGS: dict[str, object] = {
    "optimizer": "AdamW",
    "lr0": 0.0005,
    "momentum": 0.9,
    "warmup_epochs": 0.0,
    "close_mosaic": 2,
    "patience": 100,
}

# how closely the rebuilt model must reproduce the ONNX file before it is trained on
MAX_FIT_BOX_PX = 0.05
MAX_FIT_SCORE = 1e-3


def check_warm_start_source(onnx_path: Path, class_names: Sequence[str] | None = None) -> None:
    """Refuse, before anything is built, a warm start that cannot work: a missing file, one that
    is not an ONNX export with ultralytics' class names, or (given the data's class_names) one
    whose classes differ from the data's, id for id."""
    if not onnx_path.is_file():
        raise TrainingError(f"warm start {onnx_path} does not exist")
    if onnx_path.suffix != ".onnx":
        raise TrainingError(f"warm start {onnx_path}: expected an ONNX export of ours (.onnx)")
    try:
        proto = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as err:  # onnx raises DecodeError and others for a corrupt file
        raise TrainingError(f"warm start {onnx_path}: not a readable ONNX file ({err})") from err
    try:
        names = class_names_of(proto)
    except TrainingError as err:
        raise TrainingError(f"warm start {onnx_path}: {err}") from err
    if class_names is not None and list(class_names) != names:
        raise TrainingError(
            f"warm start {onnx_path} has the classes {names}, the data {list(class_names)}: "
            "label the data with the model's class ids, in its order"
        )


def check_fit(check: WarmStartCheck, onnx_path: Path) -> None:
    """A rebuilt model that does not reproduce its ONNX file would train on wrong weights."""
    if check.max_abs_box_px > MAX_FIT_BOX_PX or check.max_abs_score > MAX_FIT_SCORE:
        raise TrainingError(f"the rebuilt model does not reproduce {onnx_path}: {check}")


def prepare_warm_start(
    onnx_path: Path,
    checkpoint: Path,
    *,
    image_folders: Sequence[Path],
    check_folders: Sequence[Path],
    imgsz: int,
    calibration_count: int = 128,
) -> Path:
    """Rebuild a trainable checkpoint from onnx_path in the architecture its stored history
    names, calibrated on image_folders and checked against the file on check_folders; write
    beside it (<checkpoint>.json) the check and the file's history, which the export of the run
    that trains on it continues. Needs the train extra (torch, ultralytics)."""
    from training.warm_start import build_warm_start

    check_warm_start_source(onnx_path)
    history = read_history(onnx_path)
    check = build_warm_start(
        onnx_path,
        checkpoint,
        image_folders=image_folders,
        check_folders=check_folders,
        imgsz=imgsz,
        model_yaml=architecture_of(history),
        calibration_count=calibration_count,
    )
    check_fit(check, onnx_path)
    record = {
        "onnx": str(onnx_path),
        "calibration_images": calibration_count,
        **asdict(check),
        "history": [run.to_dict() for run in history],
    }
    checkpoint.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    logger.info("warm start checkpoint=%s from=%s fit=%s", checkpoint, onnx_path, check)
    return checkpoint
