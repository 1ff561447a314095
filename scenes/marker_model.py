"""A tiny ONNX detector of coloured square markers, written in ultralytics' YOLO export format.

The graph is built by hand with onnx.helper (no training, no weights to download) and is a real
detector: its output depends on what the picture shows. It is the reference model for tests, the
demo and benchmarks until a trained kitchen model exists.

How it sees (input "images": (1, 3, S, S) RGB in 0..1, letterboxed as ultralytics does):
- per class a colour channel c: excess = c - max(other two channels); a pixel belongs to the marker
  with weight m = clip((excess - 0.30) / 0.20, 0, 1) (exactly 0 for grey, skin, steel, 114 padding).
- per 8x8 cell (stride 8) the fill fraction of m, and, in a window of WINDOW_CELLS x WINDOW_CELLS
  cells around the cell, the moments sum(m), sum(m x), sum(m y), sum(m x^2), sum(m y^2).
- box of the anchor: the centroid of the mass in its window, width and height from the variance
  (a uniform square of L pixels has variance (L^2 - 1) / 12), exact while the window holds the
  whole blob.
- score: sigmoid(12 (fill - 0.5) - 2 * distance from the anchor to that centroid in cells), so the
  cells inside the blob score about 0.99, those whose window sees a blob off-centre less, and a
  picture without the colour about 0.002 everywhere.
Measured limits at S=320: one marker of 12 to 100 input pixels gives one box (IoU > 0.95); two
markers of one colour closer than about 50 input pixels may merge or give extra boxes.
Every class gets its own set of anchors (its score is 0 for the other classes), so one anchor has
one box, as the format requires.

Output "output0", like ultralytics:
- nms=False: (1, 4 + nc, anchors): cx, cy, w, h in input pixels, then per-class scores.
- nms=True:  (1, MAX_DET, 6): x1, y1, x2, y2, score, class; per-class NMS in the graph, rows sorted
  by score, zero rows after the last detection.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from scenes.errors import SceneError

if TYPE_CHECKING:
    import onnx

STRIDE = 8
WINDOW_CELLS = 13
MAX_DET = 300
OPSET = 17
IR_VERSION = 8
NMS_SCORE_THRESHOLD = 0.25  # ultralytics' conf default for an NMS export
NMS_IOU_THRESHOLD = 0.7  # ultralytics' iou default

# class name -> index of the colour channel (RGB) that must dominate
MARKER_COLOURS = {"red_marker": 0, "green_marker": 1, "blue_marker": 2}

_EXCESS_LOW = 0.30
_EXCESS_HIGH = 0.50
_FILL_GAIN = 12.0
_DISTANCE_GAIN = 2.0
_EPS = 1e-9


class MarkerModelError(SceneError):
    """The arguments cannot describe a marker model (bad size or unknown class)."""


def build_marker_model(
    path: Path,
    *,
    imgsz: int = 320,
    nms: bool = False,
    class_names: Sequence[str] = ("red_marker",),
) -> None:
    """Write the marker detector to path as an ultralytics-format ONNX model."""
    import onnx

    model = marker_model_proto(imgsz=imgsz, nms=nms, class_names=class_names)
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def marker_model_proto(
    *, imgsz: int = 320, nms: bool = False, class_names: Sequence[str] = ("red_marker",)
) -> "onnx.ModelProto":
    """The marker detector as an in-memory ModelProto (see the module docstring)."""
    from onnx import TensorProto, helper

    names = tuple(class_names)
    _validate(imgsz, names)
    graph = _GraphBuilder()
    grid = imgsz // STRIDE
    anchors = grid * grid
    graph.constant("zero", np.zeros(1, np.float32))
    graph.constant("one", np.ones(1, np.float32))
    graph.node(
        "Split", ["images", graph.constant("split3", np.ones(3, np.int64))], ["r", "g", "b"], axis=1
    )

    boxes_per_class: list[str] = []
    scores_per_class: list[str] = []
    for class_index, name in enumerate(names):
        cxcywh, score = _class_head(graph, name, imgsz, class_index)
        boxes_per_class.append(cxcywh)
        blocks = []
        if class_index > 0:
            blocks.append(
                graph.constant(
                    f"zeros_before_{class_index}", np.zeros((1, class_index, anchors), np.float32)
                )
            )
        blocks.append(score)
        if class_index < len(names) - 1:
            after = len(names) - 1 - class_index
            blocks.append(
                graph.constant(
                    f"zeros_after_{class_index}", np.zeros((1, after, anchors), np.float32)
                )
            )
        scores_per_class.append(graph.op("Concat", blocks, axis=1) if len(blocks) > 1 else score)

    boxes = graph.op("Concat", boxes_per_class, axis=2) if len(names) > 1 else boxes_per_class[0]
    scores = graph.op("Concat", scores_per_class, axis=2) if len(names) > 1 else scores_per_class[0]
    total_anchors = anchors * len(names)
    if nms:
        max_det = min(MAX_DET, total_anchors)
        _nms_tail(graph, boxes, scores, max_det)
        output_shape = [1, max_det, 6]
    else:
        graph.node("Concat", [boxes, scores], ["output0"], axis=1)
        output_shape = [1, 4 + len(names), total_anchors]

    onnx_graph = helper.make_graph(
        graph.nodes,
        "brightkitchen_marker",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, imgsz, imgsz])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, output_shape)],
        initializer=graph.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="brightkitchen.scenes.marker_model",
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, _metadata(imgsz, names, nms))
    return model


def _class_head(graph: "_GraphBuilder", name: str, imgsz: int, class_index: int) -> tuple[str, str]:
    """Boxes (1, 4, anchors) and scores (1, 1, anchors) of one marker colour."""
    p = f"c{class_index}_"
    grid = imgsz // STRIDE
    channel = MARKER_COLOURS[name]
    rgb = ["r", "g", "b"]
    others = [rgb[i] for i in range(3) if i != channel]
    strongest_other = graph.op("Max", others, name=p + "other")
    excess = graph.op("Sub", [rgb[channel], strongest_other], name=p + "excess")
    low = graph.constant("low", np.array([_EXCESS_LOW], np.float32))
    gain = graph.constant("gain", np.array([1.0 / (_EXCESS_HIGH - _EXCESS_LOW)], np.float32))
    shifted = graph.op("Mul", [graph.op("Sub", [excess, low]), gain])
    mass = graph.op("Clip", [shifted, "zero", "one"], name=p + "mass")

    # pixel centres: x along the last axis, y along the one before, broadcast over the picture
    centres = np.arange(imgsz, dtype=np.float32) + 0.5
    x = graph.constant("x", centres.reshape(1, 1, 1, imgsz))
    y = graph.constant("y", centres.reshape(1, 1, imgsz, 1))
    xx = graph.constant("xx", (centres**2).reshape(1, 1, 1, imgsz))
    yy = graph.constant("yy", (centres**2).reshape(1, 1, imgsz, 1))
    moments = graph.op(
        "Concat",
        [mass] + [graph.op("Mul", [mass, c]) for c in (x, y, xx, yy)],
        axis=1,
    )
    cells = graph.op(
        "AveragePool", [moments], kernel_shape=[STRIDE, STRIDE], strides=[STRIDE, STRIDE]
    )
    half = WINDOW_CELLS // 2
    window = graph.op(
        "AveragePool",
        [cells],
        kernel_shape=[WINDOW_CELLS, WINDOW_CELLS],
        strides=[1, 1],
        pads=[half, half, half, half],
        count_include_pad=1,  # a constant divisor, which cancels in every ratio below
    )
    fill = graph.op("Slice", [cells, *_slice_constants(graph, p + "fill", 0, 1)])
    split5 = graph.constant("split5", np.ones(5, np.int64))
    m0, mx, my, mxx, myy = (f"{p}m{i}" for i in range(5))
    graph.node("Split", [window, split5], [m0, mx, my, mxx, myy], axis=1)
    inverse = graph.op(
        "Reciprocal", [graph.op("Add", [m0, graph.constant("eps", np.array([_EPS], np.float32))])]
    )
    cx = graph.op("Mul", [mx, inverse], name=p + "cx")
    cy = graph.op("Mul", [my, inverse], name=p + "cy")
    twelve = graph.constant("twelve", np.array([12.0], np.float32))

    def extent(second: str, mean: str) -> str:
        variance = graph.op(
            "Relu",
            [graph.op("Sub", [graph.op("Mul", [second, inverse]), graph.op("Mul", [mean, mean])])],
        )
        return graph.op("Sqrt", [graph.op("Add", [graph.op("Mul", [variance, twelve]), "one"])])

    w = extent(mxx, cx)
    h = extent(myy, cy)

    anchor_centres = (np.arange(grid, dtype=np.float32) + 0.5) * STRIDE
    ax = graph.constant("ax", anchor_centres.reshape(1, 1, 1, grid))
    ay = graph.constant("ay", anchor_centres.reshape(1, 1, grid, 1))
    distance = graph.op(
        "Add",
        [
            graph.op("Abs", [graph.op("Sub", [cx, ax])]),
            graph.op("Abs", [graph.op("Sub", [cy, ay])]),
        ],
    )
    fill_gain = graph.constant("fill_gain", np.array([_FILL_GAIN], np.float32))
    half_fill = graph.constant("half_fill", np.array([0.5], np.float32))
    distance_gain = graph.constant("distance_gain", np.array([_DISTANCE_GAIN / STRIDE], np.float32))
    logit = graph.op(
        "Sub",
        [
            graph.op("Mul", [graph.op("Sub", [fill, half_fill]), fill_gain]),
            graph.op("Mul", [distance, distance_gain]),
        ],
    )
    score = graph.op("Sigmoid", [logit])

    flat = graph.constant("flat", np.array([1, -1, grid * grid], np.int64))
    box = graph.op("Reshape", [graph.op("Concat", [cx, cy, w, h], axis=1), flat], name=p + "boxes")
    flat_score = graph.op("Reshape", [score, flat], name=p + "scores")
    return box, flat_score


def _nms_tail(graph: "_GraphBuilder", boxes: str, scores: str, max_det: int) -> None:
    """(1, 4, A) cxcywh and (1, nc, A) scores -> output0 (1, max_det, 6), as ultralytics' NMS."""
    cx, cy, w, h = "nms_cx", "nms_cy", "nms_w", "nms_h"
    graph.node(
        "Split", [boxes, graph.constant("nms_split4", np.ones(4, np.int64))], [cx, cy, w, h], axis=1
    )
    half = graph.constant("nms_half", np.array([0.5], np.float32))
    half_w = graph.op("Mul", [w, half])
    half_h = graph.op("Mul", [h, half])
    corners = graph.op(
        "Concat",
        [
            graph.op("Sub", [cx, half_w]),
            graph.op("Sub", [cy, half_h]),
            graph.op("Add", [cx, half_w]),
            graph.op("Add", [cy, half_h]),
        ],
        axis=1,
    )
    xyxy = graph.op("Transpose", [corners], perm=[0, 2, 1])  # (1, A, 4)
    selected = graph.op(
        "NonMaxSuppression",
        [
            xyxy,
            scores,
            graph.constant("nms_max_out", np.array([max_det], np.int64)),
            graph.constant("nms_iou", np.array([NMS_IOU_THRESHOLD], np.float32)),
            graph.constant("nms_score", np.array([NMS_SCORE_THRESHOLD], np.float32)),
        ],
    )  # (K, 3): batch, class, anchor
    column = {i: graph.constant(f"nms_col{i}", np.array(i, np.int64)) for i in (1, 2)}
    class_index = graph.op("Gather", [selected, column[1]], axis=1)
    anchor_index = graph.op("Gather", [selected, column[2]], axis=1)
    axis0 = graph.constant("nms_axis0", np.array([0], np.int64))
    axis1 = graph.constant("nms_axis1", np.array([1], np.int64))
    picked_boxes = graph.op("Gather", [graph.op("Squeeze", [xyxy, axis0]), anchor_index], axis=0)
    picked_scores = graph.op("GatherND", [scores, selected])  # (K,)
    picked_classes = graph.op("Cast", [class_index], to=1)  # float
    rows = graph.op(
        "Concat",
        [
            picked_boxes,
            graph.op("Unsqueeze", [picked_scores, axis1]),
            graph.op("Unsqueeze", [picked_classes, axis1]),
        ],
        axis=1,
    )
    count = graph.op("Shape", [picked_scores])  # (1,) = [K]
    _, order = graph.ops("TopK", [picked_scores, count], outputs=2, axis=0, largest=1, sorted=1)
    ranked = graph.op("Gather", [rows, order], axis=0)
    limit = graph.constant("nms_limit", np.array([max_det], np.int64))
    kept = graph.op("Slice", [ranked, axis0, limit, axis0])
    kept_count = graph.op("Shape", [kept], start=0, end=1)
    missing = graph.op("Sub", [limit, kept_count])
    zeros2 = graph.constant("nms_zeros2", np.zeros(2, np.int64))
    zero1 = graph.constant("nms_zero1", np.zeros(1, np.int64))
    pads = graph.op("Concat", [zeros2, missing, zero1], axis=0)  # [0, 0, missing rows, 0]
    padded = graph.op("Pad", [kept, pads], mode="constant")
    graph.node("Unsqueeze", [padded, axis0], ["output0"])


def _slice_constants(graph: "_GraphBuilder", prefix: str, start: int, end: int) -> list[str]:
    return [
        graph.constant(prefix + "_start", np.array([start], np.int64)),
        graph.constant(prefix + "_end", np.array([end], np.int64)),
        graph.constant(prefix + "_axis", np.array([1], np.int64)),
    ]


def _metadata(imgsz: int, names: tuple[str, ...], nms: bool) -> dict[str, str]:
    """The metadata_props ultralytics' exporter writes: every value str() of a Python value."""
    args = {
        "batch": 1,
        "dynamic": False,
        "half": False,
        "opset": OPSET,
        "simplify": False,
        "nms": nms,
    }
    return {
        "description": "BrightKitchen coloured-marker reference detector (hand-built graph)",
        "author": "BrightKitchen",
        "license": "Apache-2.0",
        "version": "1",
        "stride": str(STRIDE),
        "task": "detect",
        "batch": "1",
        "imgsz": str([imgsz, imgsz]),
        "names": str(dict(enumerate(names))),
        "args": str(args),
        "channels": "3",
    }


def _validate(imgsz: int, names: tuple[str, ...]) -> None:
    if imgsz < STRIDE * 4 or imgsz % STRIDE:
        raise MarkerModelError(
            f"imgsz must be a multiple of {STRIDE} and at least {STRIDE * 4}, got {imgsz}"
        )
    if not names:
        raise MarkerModelError("class_names must name at least one marker")
    unknown = [name for name in names if name not in MARKER_COLOURS]
    if unknown:
        raise MarkerModelError(
            f"class_names {unknown} unknown; known markers: {sorted(MARKER_COLOURS)}"
        )
    if len(set(names)) != len(names):
        raise MarkerModelError(f"class_names must be distinct, got {list(names)}")


class _GraphBuilder:
    """Collects nodes and initializers, naming every intermediate tensor uniquely."""

    def __init__(self) -> None:
        from onnx import NodeProto, TensorProto

        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._count = 0
        self._constants: set[str] = set()

    def constant(self, name: str, value: NDArray[np.float32] | NDArray[np.int64]) -> str:
        """An initializer; a name already added is reused (its value must be the same)."""
        from onnx import numpy_helper

        if name not in self._constants:
            self._constants.add(name)
            self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(
        self, op_type: str, inputs: list[str], outputs: list[str], **attributes: object
    ) -> None:
        from onnx import helper

        self._count += 1
        node = helper.make_node(op_type, inputs, outputs, name=f"{op_type}_{self._count}")
        node.attribute.extend(helper.make_attribute(k, v) for k, v in sorted(attributes.items()))
        self.nodes.append(node)

    def op(self, op_type: str, inputs: list[str], *, name: str = "", **attributes: object) -> str:
        """Add a node with one output and return that output's name."""
        return self.ops(op_type, inputs, outputs=1, name=name, **attributes)[0]

    def ops(
        self, op_type: str, inputs: list[str], *, outputs: int, name: str = "", **attributes: object
    ) -> list[str]:
        """Add a node with several outputs and return their names."""
        self._count += 1
        base = name or f"{op_type.lower()}_{self._count}"
        names = [base] if outputs == 1 else [f"{base}_{i}" for i in range(outputs)]
        self.node(op_type, inputs, names, **attributes)
        return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the marker detector as an ultralytics-format ONNX model."
    )
    parser.add_argument("output", type=Path, help="where to write the .onnx file")
    parser.add_argument("--imgsz", type=int, default=320, help="square input size in pixels")
    parser.add_argument(
        "--nms", action="store_true", help="put NMS in the graph: output (1, 300, 6)"
    )
    parser.add_argument(
        "--class-names",
        nargs="+",
        default=["red_marker"],
        choices=sorted(MARKER_COLOURS),
        metavar="NAME",
    )
    args = parser.parse_args(argv)
    build_marker_model(args.output, imgsz=args.imgsz, nms=args.nms, class_names=args.class_names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
