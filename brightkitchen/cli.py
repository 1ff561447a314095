"""The `brightkitchen` command: one entry point, subcommands imported only when used.

The API side never needs OpenCV or onnxruntime, so each subcommand imports its package lazily.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _detect(args: argparse.Namespace) -> int:
    from detector.cli import run_detect

    return run_detect(args.model, args.images, as_json=args.json, confidence=args.confidence)


def _check_config(args: argparse.Namespace) -> int:
    from edge.config_file import check_config

    return check_config(args.path)


def _edge(args: argparse.Namespace) -> int:
    from edge.__main__ import run_edge

    return run_edge(args.config)


def _api(args: argparse.Namespace) -> int:
    if args.tool:
        from api.cli import run_command

        return run_command(args.tool)
    from api.main import run_api

    return run_api(args.host, args.port)


def _export_dataset(args: argparse.Namespace) -> int:
    from api.cli import run_command

    return run_command(["export-dataset", *args.args])


def _train(args: argparse.Namespace) -> int:
    from training.cli import run_train

    return run_train(
        args.data,
        name=args.name,
        epochs=args.epochs,
        hours=args.hours,
        imgsz=args.imgsz,
        batch=args.batch,
        models_dir=args.models_dir,
        runs_dir=args.runs_dir,
        warm_start=args.warm_start,
    )


def _eval(args: argparse.Namespace) -> int:
    from training.cli import run_eval

    return run_eval(
        args.model,
        args.data,
        args.scenario,
        as_json=args.json,
        min_size_px=args.min_size_px,
        confidence=args.confidence,
        split=args.split,
        by_size=args.by_size,
        with_confusion=args.confusion,
        tiled=not args.whole_frame,
        detect_fps=args.detect_fps,
    )


def _demo(args: argparse.Namespace) -> int:
    from brightkitchen.demo import run_demo

    return run_demo(port=args.port, workdir=args.workdir)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brightkitchen",
        description="BrightKitchen (互联网+明厨亮灶): canteen food-safety monitoring.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    detect = commands.add_parser("detect", help="run a model on images and print its detections")
    detect.add_argument("--model", type=Path, required=True, help="ultralytics-format ONNX model")
    detect.add_argument("images", type=Path, nargs="+", metavar="IMAGE")
    detect.add_argument("--json", action="store_true", help="print one JSON object")
    detect.add_argument("--confidence", type=float, default=0.25, help="minimum confidence")
    detect.set_defaults(handler=_detect)

    check = commands.add_parser("check-config", help="validate an edge config file")
    check.add_argument("path", type=Path)
    check.set_defaults(handler=_check_config)

    edge = commands.add_parser("edge", help="run an edge worker")
    edge.add_argument("--config", type=Path, required=True)
    edge.set_defaults(handler=_edge)

    api = commands.add_parser(
        "api",
        help="run the central service (settings from API_* env), or one of its tools",
        description="Without a tool: serve HTTP. Tools: create-admin, mosquitto-config, "
        "export-dataset, retention (each takes --help).",
    )
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("tool", nargs=argparse.REMAINDER, help="a tool and its arguments")
    api.set_defaults(handler=_api)

    export = commands.add_parser(
        "export-dataset", help="export reviewed violations with snapshots as a labelled image set"
    )
    export.add_argument("args", nargs=argparse.REMAINDER, help="see --help")
    export.set_defaults(handler=_export_dataset)

    from training.cli import add_eval_arguments, add_train_arguments

    train = commands.add_parser(
        "train",
        help="train a YOLO detector, from scratch or on from a model of ours (train extra)",
    )
    add_train_arguments(train)
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "eval", help="per-class precision/recall/AP50 on labelled images, or event-level on videos"
    )
    add_eval_arguments(evaluate)
    evaluate.set_defaults(handler=_eval)

    demo = commands.add_parser("demo", help="run broker, RTSP camera, edge and API on this machine")
    demo.add_argument("--port", type=int, default=8000, help="HTTP port of the API")
    demo.add_argument("--workdir", type=Path, default=Path(".demo"), help="state of the demo")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
