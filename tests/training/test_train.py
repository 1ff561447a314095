"""The training entry point's offline set-up and argument checks (no torch needed)."""

import json
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import training.train
from training.errors import TrainingError
from training.train import (
    FONT_CANDIDATES,
    FONT_NAMES,
    _use_all_cores,
    prepare_offline,
    record_run,
    train,
    train_checkpoint,
)


@pytest.mark.skipif(not any(p.is_file() for p in FONT_CANDIDATES), reason="no DejaVu font here")
def test_prepare_offline_supplies_the_font_and_the_settings_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YOLO_OFFLINE", raising=False)
    monkeypatch.delenv("YOLO_CONFIG_DIR", raising=False)
    prepare_offline(tmp_path / "cfg")
    assert os.environ["YOLO_OFFLINE"] == "1"
    assert os.environ["YOLO_CONFIG_DIR"] == str(tmp_path / "cfg")
    assert (tmp_path / "cfg" / "Arial.ttf").read_bytes()[:4] in (b"\x00\x01\x00\x00", b"true")


def test_train_rejects_a_missing_data_yaml(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match=r"nope\.yaml"):
        train(tmp_path / "nope.yaml", tmp_path, epochs=1, imgsz=320)


def test_train_rejects_an_input_size_not_multiple_of_the_stride(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("train: x\n")
    with pytest.raises(TrainingError, match="imgsz"):
        train(data, tmp_path, epochs=1, imgsz=300)


def test_training_from_missing_weights_fails_before_importing_ultralytics(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("train: x\n")
    with pytest.raises(TrainingError, match=r"warm\.pt"):
        train_checkpoint(data, tmp_path, epochs=1, imgsz=320, weights=tmp_path / "warm.pt")


class _RecordingModel:
    def __init__(self) -> None:
        self.callbacks: dict[str, list[Callable[[object], None]]] = {}

    def train(self, **kwargs: object) -> object:
        return None

    def export(self, **kwargs: object) -> object:
        return None

    def add_callback(self, event: str, func: Callable[[object], None]) -> None:
        self.callbacks.setdefault(event, []).append(func)


def test_training_uses_every_core_after_ultralytics_picks_the_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[int] = []
    fake_torch = types.SimpleNamespace(set_num_threads=threads.append)
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    model = _RecordingModel()
    _use_all_cores(model)
    # ultralytics sets torch to cores - 1 threads when it selects the CPU, before both events
    for event in ("on_pretrain_routine_end", "on_train_epoch_start"):
        for callback in model.callbacks[event]:
            callback(object())
    assert threads == [6, 6]


def test_fonts_carried_along_need_no_font_on_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training.train, "FONT_CANDIDATES", (tmp_path / "none.ttf",))
    with pytest.raises(TrainingError, match="fonts-dejavu-core"):
        prepare_offline(tmp_path / "bare")
    for name in FONT_NAMES:
        (tmp_path / "carried" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "carried" / name).write_bytes(b"true")
    prepare_offline(tmp_path / "carried")  # a GPU machine without fonts-dejavu-core


def _fake_training_modules(monkeypatch: pytest.MonkeyPatch, *, cuda: bool) -> None:
    cuda_module = types.SimpleNamespace(
        is_available=lambda: cuda, get_device_name=lambda index: f"NVIDIA H200 #{index}"
    )
    fake_torch = types.SimpleNamespace(__version__="2.11.0+cu130", cuda=cuda_module)
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setitem(sys.modules, "ultralytics", types.SimpleNamespace(__version__="8.4.190"))


def test_a_run_records_the_gpu_it_trained_on_and_its_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_training_modules(monkeypatch, cuda=True)
    path = record_run(tmp_path / "run", device="1", command="python -m training.pipeline")
    record = json.loads(path.read_text())
    assert record == {
        "machine": "NVIDIA H200 #1",
        "torch": "2.11.0+cu130",
        "ultralytics": "8.4.190",
        "command": "python -m training.pipeline",
    }


def test_a_cpu_run_records_the_cores_it_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_training_modules(monkeypatch, cuda=True)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    record = json.loads(record_run(tmp_path / "run", device="cpu", command=None).read_text())
    assert record["machine"] == "CPU (2 cores)"
