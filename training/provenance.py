"""How a kitchen model was trained: the runs recorded by ultralytics and carried in the ONNX file.

Each training run is one `TrainingRun`. The export stage writes the list of runs that made a
model (earlier runs first) into its ONNX metadata under HISTORY_KEY, so a later run warm-started
from that file knows, and its card can say, what it continues. Models exported before this
existed are recognised by the export date ultralytics wrote (KNOWN_HISTORIES).
"""

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import onnx
import yaml

from training.errors import TrainingError

HISTORY_KEY = "brightkitchen_training"
# the ultralytics model config of every run recorded before runs named theirs
LEGACY_ARCHITECTURE = "yolov8n.yaml"
# the network a run from scratch builds unless told otherwise: the shipped kitchen model's (a
# stride-4 output for small heads, faces and rats; bench.architectures timed it against the budget)
DEFAULT_ARCHITECTURE = "yolo26n-p2.yaml"


@dataclass(frozen=True, slots=True)
class TrainingRun:
    start: str  # "scratch" or "warm start from <onnx file>"
    epochs: int | None
    minutes: float | None
    settings: str  # optimizer, learning rate, warm-up, mosaic, time budget (and batch, machine)
    command: str
    # training.train.machine_name: a GPU's name or "CPU (n cores)"; None for runs recorded before
    # run.json existed, which ran on the project's 2-core CPU machine
    machine: str | None = None
    # a warm start's check before training (training.warm_start): calibration_images, images,
    # max_abs_box_px, max_abs_score, one_to_one_seeded (an NMS-free head); None for a run from
    # scratch or one recorded before this
    warm_start_fit: dict[str, float] | None = None
    # the ultralytics model config the run's network was built from (a warm start keeps the
    # architecture of the run it continues)
    architecture: str = LEGACY_ARCHITECTURE

    @property
    def on_gpu(self) -> bool:
        return self.machine is not None and not self.machine.startswith("CPU")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> "TrainingRun":
        epochs, minutes = data.get("epochs"), data.get("minutes")
        return cls(
            start=str(data.get("start", "?")),
            epochs=int(epochs) if isinstance(epochs, int | float) else None,
            minutes=float(minutes) if isinstance(minutes, int | float) else None,
            settings=str(data.get("settings", "?")),
            command=str(data.get("command", "?")),
            machine=str(data["machine"]) if data.get("machine") else None,
            warm_start_fit=_fit(data.get("warm_start_fit")),
            architecture=str(data.get("architecture") or LEGACY_ARCHITECTURE),
        )


def architecture_of(runs: Sequence[TrainingRun]) -> str:
    """The ultralytics model config of the model the runs made (its last run's; a model that
    records no runs was a YOLOv8n)."""
    return runs[-1].architecture if runs else LEGACY_ARCHITECTURE


WARM_START_FIT_KEYS = (
    "calibration_images",
    "images",
    "max_abs_box_px",
    "max_abs_score",
    "one_to_one_seeded",
)


def _fit(record: object) -> dict[str, float] | None:
    """The warm start check's figures out of a record (a warm start's .json or a stored run)."""
    if not isinstance(record, dict):
        return None
    fit = {
        key: float(record[key])
        for key in WARM_START_FIT_KEYS
        if isinstance(record.get(key), int | float)
    }
    return fit or None


# the model shipped on 2026-11-28 (ultralytics export date below), exported before HISTORY_KEY
KNOWN_HISTORIES: dict[str, tuple[TrainingRun, ...]] = {
    "2026-11-28T15:29:12.062392+00:00": (
        TrainingRun(
            start="scratch",
            epochs=10,
            minutes=96.0,
            settings=(
                "optimizer auto (ultralytics chose AdamW, lr0 0.000769 for 9 classes), warm-up "
                "1 epoch, mosaic off for the last 3 epochs, a wall-clock budget of 1.6 h"
            ),
            command="make model",
        ),
    ),
}


def read_history(model: Path) -> tuple[TrainingRun, ...]:
    """The runs that made an exported model, earlier first; () when it does not say."""
    proto = onnx.load(str(model), load_external_data=False)
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    if HISTORY_KEY in meta:
        runs = json.loads(meta[HISTORY_KEY])
        if not isinstance(runs, list):
            raise TrainingError(f"{model}: {HISTORY_KEY} is not a list")
        return tuple(TrainingRun.from_dict(dict(run)) for run in runs)
    return KNOWN_HISTORIES.get(meta.get("date", ""), ())


def write_history(model: Path, runs: tuple[TrainingRun, ...]) -> None:
    """Store the runs in the model's ONNX metadata (replacing any stored before)."""
    proto = onnx.load(str(model))
    kept = [prop for prop in proto.metadata_props if prop.key != HISTORY_KEY]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    entry = proto.metadata_props.add()
    entry.key = HISTORY_KEY
    entry.value = json.dumps([run.to_dict() for run in runs])
    onnx.save(proto, str(model))


def _mapping(path: Path, parse: Callable[[str], object]) -> dict[str, object]:
    """The mapping a file holds, {} when there is no file or it holds something else."""
    if not path.is_file():
        return {}
    loaded = parse(path.read_text())
    return dict(loaded) if isinstance(loaded, dict) else {}


def run_args(run_dir: Path) -> dict[str, object]:
    """The arguments ultralytics recorded for a training run (args.yaml), {} without one."""
    return _mapping(run_dir / "args.yaml", yaml.safe_load)


def epochs_run(results_csv: Path) -> tuple[int | None, float | None]:
    """Epochs completed and ultralytics' training seconds (its `time` column, cumulative)."""
    if not results_csv.is_file():
        return None, None
    with results_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return 0, None
    return len(rows), float(rows[-1]["time"])


def run_record(run_dir: Path) -> dict[str, object]:
    """What training.train recorded beside the run (run.json: machine, versions, command)."""
    return _mapping(run_dir / "run.json", json.loads)


DEFAULT_AUG_SCALE = 0.5  # ultralytics' default scale augmentation


def settings_text(args: dict[str, object], machine: object = None) -> str:
    mosaic = (
        "mosaic off"
        if args.get("mosaic") == 0
        else f"mosaic off for the last {args.get('close_mosaic', '?')} epochs"
    )
    warmup = args.get("warmup_epochs", "?")
    from_zero = args.get("warmup_bias_lr") == 0 and isinstance(warmup, int | float) and warmup > 0
    budget = (
        f"{args.get('epochs', '?')} epochs, no wall-clock budget"
        if "time" in args and args["time"] is None
        else f"a wall-clock budget of {args.get('time', '?')} h"
    )
    text = (
        f"optimizer {args.get('optimizer', '?')} lr0 {args.get('lr0', '?')}, warm-up {warmup} "
        f"epochs{' (every rate from 0)' if from_zero else ''}, {mosaic}, {budget}"
    )
    scale = args.get("scale")
    if scale is not None and scale != DEFAULT_AUG_SCALE:
        text += f", scale augmentation {scale} (ultralytics' default {DEFAULT_AUG_SCALE})"
    if machine:  # runs recorded before run.json existed ran on the project's 2-core CPU machine
        text += f", batch {args.get('batch', '?')}, on {machine}"
    return text


def warm_start_record(checkpoint: Path | None, run_dir: Path) -> dict[str, object] | None:
    """What the train stage recorded about its warm start (<checkpoint>.json), when the training
    run in run_dir really started from that checkpoint; None for a run from scratch."""
    if checkpoint is None:
        return None
    record_path = checkpoint.with_suffix(".json")
    if not record_path.is_file():
        return None
    if Path(str(run_args(run_dir).get("model", ""))) != checkpoint:
        return None
    loaded = json.loads(record_path.read_text())
    return dict(loaded) if isinstance(loaded, dict) else None


def training_history(
    run_dir: Path, checkpoint: Path | None, *, scratch_command: str
) -> tuple[TrainingRun, ...]:
    """The runs that made the model trained in run_dir: those its warm start continued (from
    the warm start record), then this run (from ultralytics' args.yaml and results.csv)."""
    args = run_args(run_dir)
    recorded = run_record(run_dir)
    epochs, seconds = epochs_run(run_dir / "results.csv")
    record = warm_start_record(checkpoint, run_dir)
    earlier: tuple[TrainingRun, ...] = ()
    if record is None:
        start, command = "scratch", scratch_command
        architecture = Path(str(args.get("model") or LEGACY_ARCHITECTURE)).name
    else:
        history = record.get("history", [])
        earlier = tuple(
            TrainingRun.from_dict(dict(run))
            for run in (history if isinstance(history, list) else [])
        )
        start = f"warm start from {record.get('onnx')}"
        architecture = architecture_of(earlier)
        command = (
            f"python -m training.pipeline --stage train --warm-start {record.get('onnx')} "
            f"--train-hours {args.get('time', '?')}"
        )
    this = TrainingRun(
        start=start,
        epochs=epochs,
        minutes=None if seconds is None else round(seconds / 60, 1),
        settings=settings_text(args, recorded.get("machine")),
        command=str(recorded.get("command") or command),
        machine=str(recorded["machine"]) if recorded.get("machine") else None,
        warm_start_fit=None if record is None else _fit(record),
        architecture=architecture,
    )
    return (*earlier, this)
