"""`python -m api --host H --port P` runs the service; `python -m api COMMAND` runs a tool.

Commands: create-admin, mosquitto-config, export-dataset, retention (see api.cli).
"""

import argparse
import sys

from api.cli import COMMANDS, run_command
from api.main import run_api


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return run_command(argv)
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    args = parser.parse_args(argv)
    return run_api(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
