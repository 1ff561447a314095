"""A standalone RTSP server that loops H.264 MP4 files forever, for tests and the demo.

Run it with Debian's /usr/bin/python3, which has GStreamer's introspection bindings (the project's
virtual environment does not); it imports nothing from this repository:

    /usr/bin/python3 rtsp_server.py --port 8554 --mount /cam1=/path/a.mp4 [--mount ...]
                                     [--user U --password P] [--host 127.0.0.1]

Needs: apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0
       gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad

How a file loops: at start-up each MP4's H.264 track is copied, without re-encoding, into an Annex-B
byte-stream file in a temp dir. Each mount then plays
    multifilesrc loop=true ! h264parse ! rtph264pay config-interval=-1
An Annex-B stream can simply be read again from its first byte: the parser sees one endless stream,
its timestamps keep increasing across the loop, and the RTP sinks pace it at the file's frame rate
(the framerate comes from the SPS). Nothing is decoded or encoded, so a mount costs almost no CPU;
seeking a demuxer on EOS inside gst-rtsp-server's pipeline is the fragile alternative this avoids.
SPS/PPS go with every keyframe, so a client that joins mid-stream can decode from the next one.

Media are shared: the first client starts the mount's pipeline and every later client joins it at
its live position, like a camera. When the last client leaves the pipeline stops, and the next
client starts the file from its beginning again.

Prints "READY rtsp://HOST:PORT" on stdout once the port listens; SIGTERM or SIGINT stop it.
"""

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer
except (ImportError, ValueError) as err:  # pragma: no cover - depends on system packages
    sys.stderr.write(
        f"rtsp_server: GStreamer RTSP bindings are missing ({err}); install them with: "
        "apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 "
        "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad\n"
    )
    sys.exit(3)

_ROLE = "viewer"
_EXTRACT_TIMEOUT_S = 60


def _parse_mount(text: str) -> tuple[str, Path]:
    mount, sep, file = text.partition("=")
    if not sep or not mount.startswith("/") or len(mount) < 2 or not file:
        raise argparse.ArgumentTypeError(f"--mount must look like /name=/path/file.mp4, got {text!r}")
    path = Path(file)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"--mount {mount}: no such file {path}")
    return mount, path


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Loop H.264 MP4 files over RTSP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", type=_parse_mount, action="append", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    mounts = [mount for mount, _ in args.mount]
    if len(set(mounts)) != len(mounts):
        parser.error(f"a mount point is given twice: {mounts}")
    return args


def _extract_annexb(mp4: Path, target: Path) -> None:
    """Copy the MP4's H.264 track into an Annex-B byte-stream file (no re-encoding)."""
    pipeline = Gst.parse_launch(
        "filesrc name=src ! qtdemux ! h264parse ! "
        "video/x-h264,stream-format=byte-stream,alignment=au ! filesink name=sink"
    )
    pipeline.get_by_name("src").set_property("location", str(mp4))
    pipeline.get_by_name("sink").set_property("location", str(target))
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    message = bus.timed_pop_filtered(
        _EXTRACT_TIMEOUT_S * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR
    )
    pipeline.set_state(Gst.State.NULL)
    if message is None:
        raise RuntimeError(f"{mp4}: extracting the H.264 track timed out")
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        raise RuntimeError(f"{mp4}: not an H.264 MP4 ({error.message}; {debug})")
    if target.stat().st_size == 0:
        raise RuntimeError(f"{mp4}: has no H.264 video track")


def _factory(annexb: Path, *, with_auth: bool) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    location = str(annexb).replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( multifilesrc location="{location}" loop=true '
        "caps=video/x-h264,stream-format=byte-stream,alignment=au "
        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)
    if with_auth:
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(_ROLE, "media.factory.access", True)
        permissions.add_permission_for_role(_ROLE, "media.factory.construct", True)
        factory.set_permissions(permissions)
    return factory


def _auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", _ROLE)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    return auth


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    Gst.init(None)
    workdir = Path(tempfile.mkdtemp(prefix="brightkitchen-rtsp-"))
    try:
        server = GstRtspServer.RTSPServer()
        server.set_address(args.host)
        server.set_service(str(args.port))
        with_auth = args.user is not None
        if with_auth:
            server.set_auth(_auth(args.user, args.password))
        mount_points = server.get_mount_points()
        for index, (mount, mp4) in enumerate(args.mount):
            annexb = workdir / f"mount{index}.h264"
            try:
                _extract_annexb(mp4, annexb)
            except RuntimeError as err:
                sys.stderr.write(f"rtsp_server: --mount {mount}: {err}\n")
                return 2
            mount_points.add_factory(mount, _factory(annexb, with_auth=with_auth))
        loop = GLib.MainLoop()
        if server.attach(None) == 0:
            sys.stderr.write(f"rtsp_server: cannot listen on {args.host}:{args.port}\n")
            return 1
        for signum in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, loop.quit)
        sys.stdout.write(f"READY rtsp://{args.host}:{server.get_bound_port()}\n")
        sys.stdout.flush()
        loop.run()
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
