"""Warm start: a trainable ultralytics checkpoint rebuilt from a shipped (fused) ONNX export.

ultralytics fuses every Conv+BatchNorm pair into one convolution with a bias before exporting, so
the ONNX file holds W' = W * gamma / sqrt(var + eps) and b' = beta - gamma * mean / sqrt(var + eps)
per convolution. To train on, the model needs its BatchNorm layers back. Each one is rebuilt so that
BN(x) = x + b': its running mean and variance are the per-channel mean mu and variance v of its
input measured on real training images (a calibration pass), its weight is sqrt(v + eps) and its
bias mu + b'. In eval mode that is exact; in train mode, with batch statistics close to mu and v,
it is close, so the first training steps start from what the shipped model knows.

An NMS-free head (YOLO26) trains a one-to-one twin of its one-to-many head beside it; the raw
export the edge decodes keeps only the one-to-many head. The missing twin is seeded from the
exported one, which is how ultralytics itself builds it (a copy of the one-to-many head before
training), so the warm start continues such a model too.

The parts that read the ONNX file need only onnx and numpy; the rebuilding needs the `train` extra
(torch, ultralytics), imported inside the functions that use it.
"""

import dataclasses
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import numpy_helper

from training.datasets import IMAGE_SUFFIXES
from training.errors import TrainingError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConvParams:
    """One convolution of the exported graph: its weight and its bias (None without one)."""

    weight: NDArray[np.float32]
    bias: NDArray[np.float32] | None


@dataclass(frozen=True, slots=True)
class WarmStartCheck:
    """How closely the rebuilt model reproduces the ONNX file on held-out images."""

    images: int
    max_abs_box_px: float  # largest difference of a box coordinate, input pixels
    max_abs_score: float  # largest difference of a class score (0..1)
    train_mode_max_abs_score: float  # the same with BatchNorm on batch statistics (train mode)
    one_to_one_seeded: int = 0  # one-to-one head convolutions copied from their exported twin


def _module_name(initializer: str, *, node: str) -> str:
    if not initializer.endswith(".weight"):
        raise TrainingError(
            f"convolution {node!r} reads weight {initializer!r}: not a named module weight "
            "(export without constant folding renames, or another exporter)"
        )
    return initializer.removesuffix(".weight")


def onnx_conv_params(model: onnx.ModelProto) -> dict[str, ConvParams]:
    """Weights and biases of every Conv node, keyed by the torch module they came from
    (`model.0.conv` for initializer `model.0.conv.weight`), in graph order."""
    initializers = {init.name: init for init in model.graph.initializer}
    params: dict[str, ConvParams] = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        weight_name = node.input[1]
        if weight_name not in initializers:
            raise TrainingError(f"convolution {node.name!r}: weight {weight_name!r} is computed")
        name = _module_name(weight_name, node=node.name)
        bias: NDArray[np.float32] | None = None
        if len(node.input) > 2 and node.input[2]:
            bias_name = node.input[2]
            if bias_name != f"{name}.bias" or bias_name not in initializers:
                raise TrainingError(
                    f"convolution {node.name!r}: bias {bias_name!r} is not {name}.bias"
                )
            bias = numpy_helper.to_array(initializers[bias_name]).astype(np.float32)
        if name in params:
            raise TrainingError(f"module {name} appears twice in the graph")
        weight = numpy_helper.to_array(initializers[weight_name]).astype(np.float32)
        params[name] = ConvParams(weight=weight, bias=bias)
    return params


def check_conv_match(
    exported: Mapping[str, ConvParams], expected: Mapping[str, tuple[int, ...]]
) -> None:
    """Every convolution of the model to rebuild (name -> weight shape) has exactly one exported
    twin of the same shape, and the export has nothing else; otherwise a TrainingError listing
    all the differences."""
    problems = [f"missing in the ONNX file: {name}" for name in expected if name not in exported]
    problems += [f"not in the model: {name}" for name in exported if name not in expected]
    problems += [
        f"{name}: shape {tuple(params.weight.shape)} in the ONNX file, "
        f"{expected[name]} in the model"
        for name, params in exported.items()
        if name in expected and tuple(params.weight.shape) != expected[name]
    ]
    if problems:
        raise TrainingError(
            f"the ONNX file does not match the model ({len(problems)} differences): "
            + "; ".join(problems[:10])
        )


ONE_TO_ONE = ".one2one_"  # how ultralytics names the one-to-one twin of a head module


def seed_one_to_one(
    exported: Mapping[str, ConvParams], expected: Iterable[str]
) -> tuple[dict[str, ConvParams], tuple[str, ...]]:
    """The exported convolutions plus, for each one-to-one head convolution of the model that the
    export left out (`model.23.one2one_cv3.0.1.conv`), a copy of its exported one-to-many twin
    (`model.23.cv3.0.1.conv`); and the names seeded. Anything else missing stays missing, for
    check_conv_match to name."""
    params = dict(exported)
    seeded = []
    for name in expected:
        if ONE_TO_ONE not in name or name in params:
            continue
        twin = name.replace(ONE_TO_ONE, ".", 1)
        if twin in exported:
            params[name] = exported[twin]
            seeded.append(name)
    return params, tuple(seeded)


def class_names_of(model: onnx.ModelProto) -> list[str]:
    """The class names ultralytics wrote into the metadata (`{0: 'person', ...}`)."""
    import ast

    meta = {prop.key: prop.value for prop in model.metadata_props}
    if "names" not in meta:
        raise TrainingError("the ONNX file has no `names` metadata")
    names = ast.literal_eval(meta["names"])
    if not isinstance(names, dict) or sorted(names) != list(range(len(names))):
        raise TrainingError(f"unexpected `names` metadata: {meta['names'][:200]}")
    return [str(names[i]) for i in range(len(names))]


def calibration_images(folders: Sequence[Path], count: int) -> list[Path]:
    """count images spread evenly over the sorted images of the folders (deterministic)."""
    found = sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
    )
    if not found:
        raise TrainingError(f"no images under {', '.join(str(f) for f in folders)}")
    step = max(len(found) / count, 1.0)
    return [found[int(i * step)] for i in range(min(count, len(found)))]


def _letterboxed(paths: Sequence[Path], imgsz: int) -> NDArray[np.float32]:
    """(N, 3, imgsz, imgsz) RGB 0..1, letterboxed as the edge's detector does it."""
    from detector.letterbox import Letterboxer
    from training.evaluate import read_bgr

    letterbox = Letterboxer((imgsz, imgsz))
    batch = []
    for path in paths:
        tensor, _ = letterbox(read_bgr(path))
        batch.append(tensor[0].copy())
    return np.stack(batch)


def _onnx_outputs(onnx_path: Path, images: NDArray[np.float32]) -> NDArray[np.float32]:
    from detector.onnx import open_session

    session = open_session(onnx_path, num_threads=2)
    name = session.get_inputs()[0].name
    outputs = [
        np.asarray(session.run(None, {name: images[i : i + 1]})[0], dtype=np.float32)
        for i in range(len(images))
    ]
    return np.concatenate(outputs)


def build_warm_start(
    onnx_path: Path,
    target: Path,
    *,
    image_folders: Sequence[Path],
    imgsz: int,
    model_yaml: str = "yolov8n.yaml",
    calibration_count: int = 128,
    check_folders: Sequence[Path] = (),
    check_count: int = 8,
) -> WarmStartCheck:
    """Rebuild model_yaml from the fused weights of onnx_path, calibrate its BatchNorm layers on
    images of image_folders, check it against the ONNX file (onnxruntime) on images of
    check_folders (image_folders when empty) and save it to target as a checkpoint that
    `ultralytics.YOLO(target)` loads and trains on."""
    from training.train import prepare_offline

    prepare_offline(target.parent / ".ultralytics")
    torch = importlib.import_module("torch")
    tasks = importlib.import_module("ultralytics.nn.tasks")
    ultralytics = importlib.import_module("ultralytics")

    proto = onnx.load(str(onnx_path))
    names = class_names_of(proto)
    model = tasks.DetectionModel(model_yaml, ch=3, nc=len(names), verbose=False)
    model.names = dict(enumerate(names))
    nn = torch.nn
    convs = {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    exported, seeded = seed_one_to_one(onnx_conv_params(proto), convs)
    bn_of = {
        f"{n}.conv": m.bn
        for n, m in model.named_modules()
        if isinstance(getattr(m, "conv", None), nn.Conv2d)
        and isinstance(getattr(m, "bn", None), nn.BatchNorm2d)
    }
    check_conv_match(exported, {n: tuple(c.weight.shape) for n, c in convs.items()})
    logger.info(
        "warm start model=%s convs=%d with_batchnorm=%d one_to_one_seeded=%d from=%s",
        model_yaml,
        len(convs),
        len(bn_of),
        len(seeded),
        onnx_path,
    )
    # the export is the one-to-many head's raw output: compare with that, train with both heads
    end2end = bool(getattr(model, "end2end", False))
    model.end2end = False

    with torch.no_grad():
        # first BN(x) = x + b' with neutral statistics: the model then equals the fused export
        for name, conv in convs.items():
            params = exported[name]
            conv.weight.copy_(torch.from_numpy(params.weight))
            bn = bn_of.get(name)
            if bn is None:
                if (params.bias is None) != (conv.bias is None):
                    raise TrainingError(f"{name}: bias in the ONNX file and the model disagree")
                if params.bias is not None:
                    conv.bias.copy_(torch.from_numpy(params.bias))
                continue
            if params.bias is None:
                raise TrainingError(f"{name}: a fused Conv+BN without a bias in the ONNX file")
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.fill_(float(np.sqrt(1.0 + bn.eps)))
            bn.bias.copy_(torch.from_numpy(params.bias))

        # calibration: each BatchNorm's input statistics on real training images
        model.eval()
        sums = {n: torch.zeros(bn.num_features, dtype=torch.float64) for n, bn in bn_of.items()}
        squares = {n: torch.zeros(bn.num_features, dtype=torch.float64) for n, bn in bn_of.items()}
        counts = dict.fromkeys(bn_of, 0.0)

        def hook_for(key: str) -> Callable[[object, Sequence[object]], None]:
            def hook(_module: object, inputs: Sequence[object]) -> None:
                x = torch.as_tensor(inputs[0]).double()
                sums[key] += x.sum(dim=(0, 2, 3))
                squares[key] += (x * x).sum(dim=(0, 2, 3))
                counts[key] += float(x.numel() / x.shape[1])

            return hook

        handles = [bn.register_forward_pre_hook(hook_for(n)) for n, bn in bn_of.items()]
        paths = calibration_images(image_folders, calibration_count)
        images = _letterboxed(paths, imgsz)
        for start in range(0, len(images), 16):
            model(torch.from_numpy(images[start : start + 16]))
        for handle in handles:
            handle.remove()
        for name, bn in bn_of.items():
            mean = sums[name] / counts[name]
            var = (squares[name] / counts[name] - mean * mean).clamp(min=0.0)
            bias = torch.from_numpy(exported[name].bias).double()
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt())
            bn.bias.copy_(mean + bias)
        logger.info("calibrated batchnorm layers=%d images=%d", len(bn_of), len(paths))

        check = _check(torch, model, onnx_path, check_folders or image_folders, check_count, imgsz)
    check = dataclasses.replace(check, one_to_one_seeded=len(seeded))
    if end2end:
        model.end2end = True

    checkpoint = {
        "model": model.half(),  # as ultralytics stores its checkpoints; training loads it as float
        "ema": None,
        "optimizer": None,
        "epoch": -1,
        "best_fitness": None,
        "train_args": {"imgsz": imgsz, "task": "detect"},
        "date": datetime.now(UTC).isoformat(),
        "version": ultralytics.__version__,
        "warm_start": {"onnx": str(onnx_path), "calibration_images": len(paths)},
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, target)
    logger.info("warm start checkpoint=%s", target)
    return check


class _TorchModel(Protocol):
    def __call__(self, x: object) -> Sequence[object]: ...
    def modules(self) -> Iterator[object]: ...


def _check(
    torch: ModuleType,
    model: _TorchModel,
    onnx_path: Path,
    folders: Sequence[Path],
    count: int,
    imgsz: int,
) -> WarmStartCheck:
    """The rebuilt model against onnxruntime on the same letterboxed images, eval mode; and the
    class scores with BatchNorm on batch statistics (train mode, on a copy)."""
    import copy

    images = _letterboxed(calibration_images(folders, count), imgsz)
    expected = _onnx_outputs(onnx_path, images)
    got = np.asarray(model(torch.from_numpy(images))[0])
    box_diff = float(np.abs(got[:, :4] - expected[:, :4]).max())
    score_diff = float(np.abs(got[:, 4:] - expected[:, 4:]).max())
    batch_stats = copy.deepcopy(model)
    for module in batch_stats.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.train()
    got_train = np.asarray(batch_stats(torch.from_numpy(images))[0])
    train_diff = float(np.abs(got_train[:, 4:] - expected[:, 4:]).max())
    check = WarmStartCheck(
        images=len(images),
        max_abs_box_px=box_diff,
        max_abs_score=score_diff,
        train_mode_max_abs_score=train_diff,
    )
    logger.info(
        "warm start check images=%d max_abs_box_px=%.2e max_abs_score=%.2e "
        "train_mode_max_abs_score=%.2e",
        check.images,
        check.max_abs_box_px,
        check.max_abs_score,
        check.train_mode_max_abs_score,
    )
    return check
