"""What an ultralytics YOLO ONNX export declares about itself: classes, input size, layout."""

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from detector.errors import ModelError

_EXPECTED = "an ultralytics YOLO detect export"


class OutputLayout(StrEnum):
    RAW = "raw"  # (1, 4 + nc, anchors): cx, cy, w, h in input pixels, then class scores
    NMS = "nms"  # (1, max_det, 6): x1, y1, x2, y2, score, class, NMS done in the graph


@dataclass(frozen=True, slots=True)
class ModelSpec:
    class_names: tuple[str, ...]
    input_hw: tuple[int, int]
    stride: int
    layout: OutputLayout


Dim = int | str | None  # onnxruntime reports a dynamic dimension as its name or None


def read_model_spec(
    path: Path,
    *,
    metadata: Mapping[str, str],
    input_shape: Sequence[Dim],
    input_type: str,
    output_shape: Sequence[Dim],
    output_type: str,
) -> ModelSpec:
    """Validate the metadata ultralytics writes and the graph's input and output against it.

    The metadata values are Python literals (str() of dicts and lists): parsed with
    ast.literal_eval, never evaluated.
    """
    task = metadata.get("task")
    if task != "detect":
        raise ModelError(
            f"model {path}: expected metadata task 'detect' ({_EXPECTED}), found {task!r}"
        )
    names = _class_names(path, metadata)
    stride = _literal(path, metadata, "stride", "an int such as '32'")
    if not isinstance(stride, int) or isinstance(stride, bool) or stride <= 0:
        raise ModelError(f"model {path}: expected metadata stride a positive int, found {stride!r}")
    input_hw = _input_size(path, metadata, input_shape, input_type)
    if output_type != "tensor(float)":
        raise ModelError(f"model {path}: expected a float32 output, found {output_type}")
    layout = _layout(path, metadata, output_shape, len(names))
    return ModelSpec(class_names=names, input_hw=input_hw, stride=stride, layout=layout)


def _literal(path: Path, metadata: Mapping[str, str], key: str, expected: str) -> object:
    if key not in metadata:
        raise ModelError(
            f"model {path}: metadata {key!r} missing; expected {expected} as {_EXPECTED} writes it"
        )
    try:
        return ast.literal_eval(metadata[key])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        raise ModelError(
            f"model {path}: metadata {key!r} is not a Python literal: expected {expected}, "
            f"found {metadata[key][:200]!r}"
        ) from err


def _class_names(path: Path, metadata: Mapping[str, str]) -> tuple[str, ...]:
    expected = "a dict of class index to name such as \"{0: 'person'}\""
    value = _literal(path, metadata, "names", expected)
    if isinstance(value, list | tuple):
        value = dict(enumerate(value))
    if (
        not isinstance(value, dict)
        or not value
        or sorted(value) != list(range(len(value)))
        or not all(isinstance(name, str) and name for name in value.values())
    ):
        raise ModelError(
            f"model {path}: metadata 'names' must be {expected} with keys 0..n-1, "
            f"found {metadata['names'][:200]!r}"
        )
    return tuple(value[index] for index in range(len(value)))


def _input_size(
    path: Path, metadata: Mapping[str, str], shape: Sequence[Dim], input_type: str
) -> tuple[int, int]:
    imgsz = _literal(path, metadata, "imgsz", "[height, width] such as '[640, 640]'")
    if isinstance(imgsz, int) and not isinstance(imgsz, bool):
        imgsz = [imgsz, imgsz]
    if (
        not isinstance(imgsz, list | tuple)
        or len(imgsz) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in imgsz)
    ):
        raise ModelError(
            f"model {path}: expected metadata imgsz [height, width] of positive ints, "
            f"found {metadata['imgsz']!r}"
        )
    height, width = int(imgsz[0]), int(imgsz[1])
    if input_type != "tensor(float)":
        raise ModelError(f"model {path}: expected a float32 input, found {input_type}")
    static = [d if isinstance(d, int) else None for d in shape]
    if (
        len(shape) != 4
        or static[0] not in (1, None)
        or static[1] != 3
        or static[2] not in (height, None)
        or static[3] not in (width, None)
    ):
        raise ModelError(
            f"model {path}: expected input (1, 3, {height}, {width}) as metadata imgsz says, "
            f"found {tuple(shape)}"
        )
    return height, width


def _layout(
    path: Path, metadata: Mapping[str, str], shape: Sequence[Dim], num_classes: int
) -> OutputLayout:
    expected = (
        f"(1, 4 + {num_classes} classes = {4 + num_classes}, anchors) or, with NMS, (1, max_det, 6)"
    )
    dims = [d if isinstance(d, int) else None for d in shape]
    if len(dims) != 3 or dims[0] not in (1, None):
        raise ModelError(f"model {path}: expected output {expected}, found {tuple(shape)}")
    raw = dims[1] == 4 + num_classes
    nms = dims[2] == 6
    if raw and nms:  # only ambiguous for 2 classes and 6 anchors: the export args decide
        raw = not _exported_with_nms(metadata)
    if raw:
        return OutputLayout.RAW
    if nms:
        return OutputLayout.NMS
    raise ModelError(
        f"model {path}: expected output {expected} for {num_classes} names in the metadata, "
        f"found {tuple(shape)}"
    )


def _exported_with_nms(metadata: Mapping[str, str]) -> bool:
    try:
        args = ast.literal_eval(metadata.get("args", "{}"))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(args, dict) and args.get("nms") is True
