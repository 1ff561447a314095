"""export_dataset: reviewed violations with their snapshots, as a YOLO-style labelled image set.

Confirmed violations (confirmed or verified by a supervisor) keep their boxes as labels;
dismissed false alarms get an empty label file, the usual form of a hard negative. The manifest
keeps every case's verdict and its boxes either way, so a trainer can choose otherwise.

    out/images/<violation_id>.jpg
    out/labels/<violation_id>.txt    one "class cx cy w h" line per box, in 0..1
    out/classes.txt                  the box labels, one per line; a line's index is its class
    out/manifest.json                {"classes": [...], "items": [...]}
"""

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from api.models import CaseState, EvidenceKind, EvidenceRow, ViolationRow
from api.storage import Storage
from api.store import ViolationStore


@dataclass(frozen=True, slots=True)
class ExportReport:
    confirmed: int
    false_alarms: int
    skipped: int  # reviewed, but no snapshot is stored (never uploaded, or deleted by retention)


def _yolo_line(class_id: int, box: dict[str, str | float]) -> str:
    x1, y1, x2, y2 = (float(box[name]) for name in ("x1", "y1", "x2", "y2"))
    return f"{class_id} {(x1 + x2) / 2:.6f} {(y1 + y2) / 2:.6f} {x2 - x1:.6f} {y2 - y1:.6f}"


def export_dataset(store: ViolationStore, storage: Storage, out: Path) -> ExportReport:
    reviewed = (
        select(ViolationRow, EvidenceRow.storage_key)
        .outerjoin(
            EvidenceRow,
            (EvidenceRow.violation_id == ViolationRow.violation_id)
            & (EvidenceRow.kind == EvidenceKind.SNAPSHOT.value),
        )
        .where(
            or_(
                ViolationRow.state.in_([CaseState.DISMISSED.value, CaseState.VERIFIED.value]),
                ViolationRow.confirmed_at.is_not(None),
            )
        )
        .order_by(ViolationRow.occurred_at, ViolationRow.violation_id)
    )
    with store.database.session("read reviewed violations") as session:
        found = [(row, key) for row, key in session.execute(reviewed)]
    classes = sorted({str(box["label"]) for row, key in found if key for box in row.boxes})
    class_ids = {label: index for index, label in enumerate(classes)}
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(parents=True, exist_ok=True)
    items: list[dict[str, object]] = []
    confirmed = false_alarms = skipped = 0
    for row, key in found:
        if key is None or not storage.exists(key):
            skipped += 1
            continue
        false_alarm = row.state == CaseState.DISMISSED
        name = str(row.violation_id)
        (out / "images" / f"{name}.jpg").write_bytes(storage.read(key))
        lines = (
            []
            if false_alarm
            else [_yolo_line(class_ids[str(box["label"])], box) for box in row.boxes]
        )
        (out / "labels" / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
        items.append(
            {
                "violation_id": name,
                "image": f"images/{name}.jpg",
                "label": f"labels/{name}.txt",
                "verdict": "false_alarm" if false_alarm else "confirmed",
                "site": row.site,
                "camera": row.camera,
                "kind": row.kind,
                "severity": row.severity,
                "occurred_at": row.occurred_at.isoformat(),
                "boxes": row.boxes,
            }
        )
        if false_alarm:
            false_alarms += 1
        else:
            confirmed += 1
    (out / "classes.txt").write_text("".join(label + "\n" for label in classes))
    manifest = {"classes": classes, "items": items}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return ExportReport(confirmed, false_alarms, skipped)
