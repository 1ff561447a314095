"""The kitchen model's MODEL_CARD.md and validation grid, written from the measured report.

Every figure in the card comes from work_dir/report.json (the evaluate stage) or timings.json; the
acceptance targets of the issue are printed beside them with "met" or "NOT met".
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.classes import CLASS_NAMES

if TYPE_CHECKING:
    from training.evaluate import ImageSetReport
    from training.pipeline import PipelineConfig

Report = Mapping[str, Any]

# BGR colour per class id, for the grid picture
_COLOURS = (
    (200, 200, 200),
    (60, 200, 60),
    (40, 40, 230),
    (220, 160, 40),
    (30, 120, 255),
    (200, 0, 200),
    (160, 160, 0),
    (0, 200, 200),
    (0, 90, 255),
)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _verdict(value: float | None, target: float) -> str:
    return "met" if value is not None and value >= target else "**NOT met**"


def _class_table(classes: Mapping[str, Mapping[str, Any]], targets: Mapping[str, float]) -> str:
    lines = [
        "| class | truth | precision | recall | AP50 | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, c in classes.items():
        target = targets.get(label)
        verdict = "" if target is None else f"AP50 >= {target:.2f}: {_verdict(c['ap50'], target)}"
        lines.append(
            f"| {label} | {c['ground_truth']} | {_fmt(c['precision'])} | {_fmt(c['recall'])} "
            f"| {_fmt(c['ap50'])} | {verdict} |"
        )
    return "\n".join(lines)


def _face_table(by_conf: Mapping[str, Mapping[str, Any]], confidences: Sequence[str]) -> str:
    targets = {"face_bare": (0.50, 0.50), "face_masked": (0.90, 0.70)}
    ultraface = {"face_bare": (0.42, 0.43), "face_masked": (0.95, 0.65)}
    lines = [
        "| confidence | class | truth | precision | recall | AP50 | target P / R | "
        "UltraFace RFB-640 P / R |",
        "|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for conf in confidences:
        for label, c in by_conf[conf]["classes"].items():
            p_target, r_target = targets[label]
            verdict = (
                f"{p_target:.2f} / {r_target:.2f}: P {_verdict(c['precision'], p_target)}, "
                f"R {_verdict(c['recall'], r_target)}"
            )
            uf = f"{ultraface[label][0]:.2f} / {ultraface[label][1]:.2f}"
            lines.append(
                f"| {conf} | {label} | {c['ground_truth']} | {_fmt(c['precision'])} "
                f"| {_fmt(c['recall'])} | {_fmt(c['ap50'])} | {verdict} | {uf} |"
            )
    return "\n".join(lines)


def _scenario_table(report: Mapping[str, Any]) -> str:
    lines = [
        "| kind | truth events | predicted | matched truth | correct predictions | precision "
        "| recall | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind, k in report["kinds"].items():
        verdict = (
            f"P {_verdict(k['precision'], 0.95)}, R {_verdict(k['recall'], 0.95)}"
            if k["truth"]
            else "no truth event"
        )
        lines.append(
            f"| {kind} | {k['truth']} | {k['predicted']} | {k['matched_truth']} "
            f"| {k['correct_predictions']} | {_fmt(k['precision'])} | {_fmt(k['recall'])} "
            f"| >= 0.95: {verdict} |"
        )
    return "\n".join(lines)


def _size_table(size_recall: Sequence[Mapping[str, Any]]) -> str:
    """Recall per class (rows) and size bin (columns) from an ImageSetReport's size_recall."""
    if not size_recall:
        return "(not measured: run the evaluate stage again)"
    from training.evaluate import size_recall_rows
    from training.metrics import SizeRecall

    bins, rows = size_recall_rows(
        [
            SizeRecall(r["label"], r["low_px"], r["high_px"], r["ground_truth"], r["found"])
            for r in size_recall
        ]
    )
    lines = [
        "| class | " + " | ".join(f"{b} px" for b in bins) + " |",
        "|---|" + "---:|" * len(bins),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _confusion_table(confusion: Mapping[str, Mapping[str, Any]]) -> str:
    """Per class, what its missed and false boxes were, from an ImageSetReport's confusion."""
    if not confusion:
        return "(not measured: run the evaluate stage again)"
    from training.evaluate import counts_text

    lines = [
        "| class | missed | read as | below the threshold | lost to a neighbour | unseen "
        "| false | on another class | on one found | on background |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    lines += [
        f"| {label} | {c['missed']} | {counts_text(c['read_as'].items())} | {c['below_threshold']} "
        f"| {c['lost_to_neighbour']} | {c['unseen']} | {c['false_boxes']} "
        f"| {counts_text(c['on_class'].items())} | {c['on_found']} | {c['on_background']} |"
        for label, c in confusion.items()
    ]
    return "\n".join(lines)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def write_model_card(
    config: "PipelineConfig",
    report: Report,
    timings: Mapping[str, float],
    path: Path,
    *,
    prose: str = "",
) -> Path:
    """MODEL_CARD.md from the report; prose (the hand-written parts) goes in from card_text."""
    from training.card_text import card_markdown
    from training.pipeline_eval import SCENARIO_FPS

    shipped = str(report["shipped_confidence"])
    confs = ["0.5"] if shipped == "0.5" else [shipped, "0.5"]
    generated = report["generated_test"][shipped]
    at_05 = (
        ""
        if shipped == "0.5"
        else "At confidence 0.5:\n\n" + _class_table(report["generated_test"]["0.5"]["classes"], {})
    )
    text = card_markdown(
        config=config,
        report=report,
        timings=timings,
        generated_table=_class_table(
            generated["classes"], dict.fromkeys(generated["classes"], 0.90)
        ),
        generated_at_05=at_05,
        size_table=_size_table(generated.get("size_recall", [])),
        confusion_table=_confusion_table(generated.get("confusion", {})),
        scenario_table_05=_scenario_table(report["scenarios"]["0.5"]),
        face_table=_face_table(report["face_masks_val"], confs),
        scenario_table=_scenario_table(report["scenarios"][shipped]),
        scenario_sub_table=_scenario_table(report["scenarios_substream"][shipped]),
        scenario_whole_table=_scenario_table(report["scenarios_whole_frame"][shipped]),
        minutes=_minutes,
        scenario_videos=len(report["scenarios"][shipped]["videos"]),
        scenario_fps=SCENARIO_FPS,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + prose)
    return path


def draw_predictions(
    image: NDArray[np.uint8], boxes: Sequence[tuple[str, float, tuple[float, float, float, float]]]
) -> NDArray[np.uint8]:
    out = image.copy()
    for label, confidence, (x1, y1, x2, y2) in boxes:
        colour = (
            _COLOURS[CLASS_NAMES.index(label) % len(_COLOURS)]
            if label in CLASS_NAMES
            else (
                255,
                255,
                255,
            )
        )
        cv2.rectangle(out, (int(x1), int(y1)), (int(x2), int(y2)), colour, 1)
        cv2.putText(
            out,
            f"{label} {confidence:.2f}",
            (int(x1), max(8, int(y1) - 2)),
            cv2.FONT_HERSHEY_PLAIN,
            0.7,
            colour,
            1,
            cv2.LINE_AA,
        )
    return out


def write_validation_grid(
    model: Path,
    generated: Path,
    face_masks: Path,
    target: Path,
    *,
    confidence: float,
    columns: int = 4,
    cell_px: int = 320,
) -> Path:
    """A grid of held-out frames (generated test scenes, then face-mask validation photos) with the
    model's boxes at the shipped confidence."""
    from detector.onnx import OnnxDetector
    from training.datasets import load_labelled_images
    from training.evaluate import predictions_of, read_bgr

    detector = OnnxDetector(model, confidence_threshold=confidence)
    scenes = load_labelled_images(generated, split="test")[:12]
    photos = load_labelled_images(face_masks, split="val")[:4]
    cells = []
    for item in (*scenes, *photos):
        image = read_bgr(item.image)
        drawn = draw_predictions(
            image, [(p.label, p.confidence, p.xyxy) for p in predictions_of(detector.detect(image))]
        )
        scale = cell_px / max(drawn.shape[:2])
        resized = cv2.resize(drawn, (int(drawn.shape[1] * scale), int(drawn.shape[0] * scale)))
        cell = np.full((cell_px, cell_px, 3), 40, np.uint8)
        cell[: resized.shape[0], : resized.shape[1]] = resized
        cells.append(cell)
    while len(cells) % columns:
        cells.append(np.full((cell_px, cell_px, 3), 40, np.uint8))
    rows = [np.hstack(cells[i : i + columns]) for i in range(0, len(cells), columns)]
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return target


def write_basic_card(
    path: Path,
    *,
    name: str,
    data: Path,
    command: str,
    epochs: int,
    train_images: int,
    seconds: float,
    validation: "ImageSetReport",
    warm_start: Path | None = None,
) -> Path:
    """The card `brightkitchen train` writes: provenance, training time and validation figures."""
    from training.card_text import architecture_label
    from training.evaluate import format_table
    from training.provenance import architecture_of, read_history

    runs = read_history(path.parent / "model.onnx")
    network = architecture_label(architecture_of(runs))
    if warm_start is None:
        how = (
            f"Trained from scratch by `brightkitchen train` (ultralytics {network}, no pretrained "
            "weights)"
        )
    else:
        how = (
            f"Trained on from `{warm_start}` by `brightkitchen train --warm-start` (ultralytics "
            f"{network}; the {len(runs) - 1} earlier runs of those weights are in the file's "
            "stored history, `training.provenance.read_history`)"
        )
    text = f"""# Model `{name}` (`models/{name}/model.onnx`)

{how} on
`{data}`: {train_images} training images, up to {epochs} epochs, {seconds / 60:.0f} min here.

    {command}

## Validation split of `{data}` (IoU >= 0.5, confidence {validation.confidence:g})

```
{format_table(validation)}
```

Check these figures against the shipped model's card (`models/kitchen/MODEL_CARD.md`) before
pointing an edge at this model. The weights were produced with ultralytics (AGPL-3.0): see the
licence note in the kitchen model's card.
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
