"""OnnxDetector: an ultralytics YOLO ONNX export run by onnxruntime on the CPU."""

import os

# onnxruntime 1.32 sends telemetry unless told not to; this must happen before it is imported.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import logging
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from detector.detections import Detections
from detector.errors import DetectorError, ModelError
from detector.letterbox import Letterboxer, boxes_to_frame
from detector.model_spec import ModelSpec, OutputLayout, read_model_spec
from detector.postprocess import decode_nms, decode_raw

logger = logging.getLogger(__name__)

_ORT_LOG_ERRORS_ONLY = 3


def session_options(num_threads: int) -> ort.SessionOptions:
    """The options of every session of ours (benchmarks use them too, to compare like with like)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = _ORT_LOG_ERRORS_ONLY
    # an edge box shares its cores between cameras: idle workers sleep instead of spinning
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def open_session(model_path: Path, num_threads: int) -> ort.InferenceSession:
    """A CPU session for the model, or ModelError naming the path."""
    if not model_path.is_file():
        raise ModelError(f"model {model_path}: expected an ONNX file, found none")
    ort.disable_telemetry_events()
    try:
        return ort.InferenceSession(
            str(model_path), session_options(num_threads), providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # onnxruntime raises its own classes, all plain Exceptions
        raise ModelError(
            f"model {model_path}: expected a valid ONNX model, onnxruntime says: {err}"
        ) from err


class OnnxDetector:
    """Detects objects with a YOLO model exported by ultralytics (with or without NMS in the graph).

    Class names, stride and input size come from the model's metadata; frames of any size are
    letterboxed in and boxes come back in the frame's pixels, after per-class NMS (a model
    exported with nms=True did its NMS in the graph, with the IoU threshold of its export, so
    iou_threshold does not apply to it). detect may be called from several threads: the model
    runs one call at a time (the calls share the input buffer).
    """

    def __init__(
        self,
        model_path: Path,
        *,
        confidence_threshold: float = 0.25,
        iou_threshold: float = 0.45,
        num_threads: int = 2,
        max_detections: int = 300,
    ) -> None:
        if not 0.0 <= confidence_threshold <= 1.0:
            raise ValueError(f"confidence_threshold must be in 0..1, got {confidence_threshold}")
        if not 0.0 <= iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in 0..1, got {iou_threshold}")
        if num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        if max_detections < 1:
            raise ValueError(f"max_detections must be at least 1, got {max_detections}")
        self._model_path = model_path
        self._confidence_threshold = confidence_threshold
        self._iou_threshold = iou_threshold
        self._max_detections = max_detections
        self._session = open_session(model_path, num_threads)
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or not outputs:
            raise ModelError(
                f"model {model_path}: expected one input and at least one output, "
                f"found {len(inputs)} inputs and {len(outputs)} outputs"
            )
        self._spec: ModelSpec = read_model_spec(
            model_path,
            metadata=self._session.get_modelmeta().custom_metadata_map,
            input_shape=inputs[0].shape,
            input_type=inputs[0].type,
            output_shape=outputs[0].shape,
            output_type=outputs[0].type,
        )
        self._input_name: str = inputs[0].name
        self._output_names: list[str] = [outputs[0].name]
        self._letterbox = Letterboxer(self._spec.input_hw)
        self._lock = threading.Lock()
        logger.info(
            "model loaded path=%s classes=%d input_hw=%s layout=%s threads=%d",
            model_path,
            len(self._spec.class_names),
            self._spec.input_hw,
            self._spec.layout,
            num_threads,
        )

    @property
    def class_names(self) -> tuple[str, ...]:
        return self._spec.class_names

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the model input in pixels."""
        return self._spec.input_hw

    @property
    def stride(self) -> int:
        return self._spec.stride

    @property
    def layout(self) -> OutputLayout:
        return self._spec.layout

    @property
    def model_path(self) -> Path:
        return self._model_path

    def detect(self, image: NDArray[np.uint8]) -> Detections:
        """Detect objects in a BGR image of any size; boxes come back in that image's pixels."""
        if (
            not isinstance(image, np.ndarray)
            or image.dtype != np.uint8
            or image.ndim != 3
            or image.shape[2] != 3
            or image.shape[0] == 0
            or image.shape[1] == 0
        ):
            found = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image)
            raise DetectorError(f"expected a BGR image (H, W, 3) uint8, found {found}")
        with self._lock:
            tensor, geometry = self._letterbox(image)
            result = self._session.run(self._output_names, {self._input_name: tensor})[0]
        if not isinstance(result, np.ndarray):
            raise DetectorError(f"model {self._model_path}: output is {type(result)}, not a tensor")
        output: NDArray[np.float32] = result[0]
        if self._spec.layout is OutputLayout.RAW:
            candidates = decode_raw(
                output,
                num_classes=len(self._spec.class_names),
                confidence_threshold=self._confidence_threshold,
                iou_threshold=self._iou_threshold,
                max_detections=self._max_detections,
            )
        else:
            candidates = decode_nms(
                output,
                num_classes=len(self._spec.class_names),
                confidence_threshold=self._confidence_threshold,
                max_detections=self._max_detections,
            )
        if len(candidates) == 0:
            return Detections.empty(self._spec.class_names)
        return Detections(
            xyxy=boxes_to_frame(candidates.xyxy, geometry),
            confidence=candidates.confidence,
            class_id=candidates.class_id,
            class_names=self._spec.class_names,
        )
