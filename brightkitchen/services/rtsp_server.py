"""A standalone RTSP server that loops H.264 MP4 files forever, for tests and the demo.

Run it with Debian's /usr/bin/python3, which has GStreamer's introspection bindings (the project's
virtual environment does not); it imports nothing from this repository:

    /usr/bin/python3 rtsp_server.py --port 8554 --mount /cam1=/path/a.mp4 [--mount ...]
                                     [--user U [--password P]] [--host 127.0.0.1]
                                     [--exit-with-parent]

Without --password, the password is read from $RTSP_SERVER_PASSWORD (kept out of `ps`).

Needs: apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0
       gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad

How a file loops: at start-up each MP4's H.264 track is read, without re-encoding, into memory as a
list of access units (Annex-B, SPS/PPS repeated before every keyframe). Each mount plays
    appsrc ! h264parse ! rtph264pay config-interval=-1
and the appsrc is fed from that list round and round, frame i stamped i / fps, so the timestamps
keep increasing across the loop and the RTP sinks (which sync to the clock) pace the stream at the
file's frame rate. Nothing is decoded or encoded, so a mount costs almost no CPU. The alternatives
are fragile: seeking a demuxer on EOS fights gst-rtsp-server's own pipeline handling, and
re-reading a raw .h264 file with multifilesrc leaves buffers without presentation timestamps
(constant RTP time). The file should start with a keyframe and have no B-frames; one slice per
picture lets FFmpeg clients get each picture as one packet (scenes.marker_video writes such files).

Media are shared: the first client starts the mount's pipeline and every later client joins it at
its live position, like a camera, beginning with the next keyframe. When the last client leaves the
pipeline stops, and the next client starts the file from its beginning again.

Prints "READY rtsp://HOST:PORT" on stdout once the port listens; SIGTERM or SIGINT stop it.
"""

import argparse
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The venv that type-checks this repository has no GStreamer bindings; Debian's python3 does.
try:
    import gi  # type: ignore[import-not-found]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstApp", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstApp, GstRtspServer  # type: ignore[import-not-found]
except (ImportError, ValueError) as err:  # pragma: no cover - depends on system packages
    sys.stderr.write(
        f"rtsp_server: GStreamer RTSP bindings are missing ({err}); install them with: "
        "apt-get install python3-gi python3-gst-1.0 gir1.2-gst-rtsp-server-1.0 "
        "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad\n"
    )
    sys.exit(3)

_ROLE = "viewer"
_EXTRACT_TIMEOUT_S = 60
_CAPS = "video/x-h264,stream-format=byte-stream,alignment=au"
_SECOND_NS = 1_000_000_000
PASSWORD_ENV = "RTSP_SERVER_PASSWORD"


@dataclass(frozen=True)
class Clip:
    """One file's H.264 access units, ready to be pushed round and round."""

    access_units: tuple[bytes, ...]
    fps_num: int
    fps_den: int

    def pts_ns(self, index: int) -> int:
        """Exact in integers, so 30000/1001 fps does not drift over a long run."""
        return index * _SECOND_NS * self.fps_den // self.fps_num

    @property
    def caps(self) -> str:
        return f"{_CAPS},framerate={self.fps_num}/{self.fps_den}"


class LoopFeeder:
    """Feeds one media's appsrc: frame i of the endless loop gets pts i * frame duration."""

    def __init__(self, clip: Clip) -> None:
        self._clip = clip
        self._index = 0

    def on_need_data(self, appsrc: GstApp.AppSrc, _length: int) -> None:
        clip = self._clip
        data = clip.access_units[self._index % len(clip.access_units)]
        buffer = Gst.Buffer.new_wrapped(data)
        buffer.pts = clip.pts_ns(self._index)
        buffer.dts = buffer.pts
        buffer.duration = clip.pts_ns(self._index + 1) - buffer.pts
        self._index += 1
        appsrc.push_buffer(buffer)


def _parse_mount(text: str) -> tuple[str, Path]:
    mount, sep, file = text.partition("=")
    if not sep or not mount.startswith("/") or len(mount) < 2 or not file:
        raise argparse.ArgumentTypeError(
            f"--mount must look like /name=/path/file.mp4, got {text!r}"
        )
    path = Path(file)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"--mount {mount}: no such file {path}")
    return mount, path


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Loop H.264 MP4 files over RTSP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", type=_parse_mount, action="append", required=True)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="exit when the process that started this one dies (no orphan after a crash)",
    )
    parser.add_argument("--user")
    parser.add_argument(
        "--password", help=f"the user's password; default: ${PASSWORD_ENV} (hidden from ps)"
    )
    args = parser.parse_args(argv)
    if args.user is not None and args.password is None:
        args.password = os.environ.get(PASSWORD_ENV)
    if (args.user is None) != (args.password is None):
        parser.error(f"--user needs a password (--password or ${PASSWORD_ENV}) and vice versa")
    mounts = [mount for mount, _ in args.mount]
    if len(set(mounts)) != len(mounts):
        parser.error(f"a mount point is given twice: {mounts}")
    return args


def _read_clip(mp4: Path) -> Clip:
    """The MP4's H.264 track as Annex-B access units, SPS/PPS before every keyframe."""
    pipeline = Gst.parse_launch(
        "filesrc name=src ! qtdemux ! h264parse config-interval=-1 ! "
        f"{_CAPS} ! appsink name=sink sync=false"
    )
    pipeline.get_by_name("src").set_property("location", str(mp4))
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    units: list[bytes] = []
    fps = (0, 1)
    deadline_s = time.monotonic() + _EXTRACT_TIMEOUT_S
    try:
        # poll the bus between samples: after an error (e.g. a track that is not H.264) the
        # appsink never sees EOS
        while not sink.is_eos():
            message = bus.pop_filtered(Gst.MessageType.ERROR)
            if message is not None:
                error, debug = message.parse_error()
                raise RuntimeError(f"{mp4}: not an H.264 MP4 ({error.message}; {debug})")
            if time.monotonic() > deadline_s:
                raise RuntimeError(f"{mp4}: reading took over {_EXTRACT_TIMEOUT_S}s")
            sample = sink.try_pull_sample(Gst.SECOND // 10)
            if sample is None:
                continue
            if not units:
                structure = sample.get_caps().get_structure(0)
                found, num, den = structure.get_fraction("framerate")
                fps = (num, den) if found and num > 0 else fps
            buffer = sample.get_buffer()
            units.append(buffer.extract_dup(0, buffer.get_size()))
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not units:
        raise RuntimeError(f"{mp4}: has no H.264 video track")
    if fps[0] <= 0:
        raise RuntimeError(f"{mp4}: the H.264 track has no frame rate")
    return Clip(tuple(units), fps[0], fps[1])


def _factory(clip: Clip, *, with_auth: bool) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( appsrc name=src format=time caps={clip.caps} "
        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory.set_shared(True)
    factory.connect("media-configure", _on_media_configure, clip)
    if with_auth:
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_permission_for_role(_ROLE, "media.factory.access", True)
        permissions.add_permission_for_role(_ROLE, "media.factory.construct", True)
        factory.set_permissions(permissions)
    return factory


def _on_media_configure(
    _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia, clip: Clip
) -> None:
    appsrc = media.get_element().get_child_by_name("src")
    feeder = LoopFeeder(clip)
    appsrc.connect("need-data", feeder.on_need_data)


def _auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", _ROLE)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    return auth


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    with_auth = args.user is not None
    if with_auth:
        server.set_auth(_auth(args.user, args.password))
    mount_points = server.get_mount_points()
    for mount, mp4 in args.mount:
        try:
            clip = _read_clip(mp4)
        except RuntimeError as err:
            sys.stderr.write(f"rtsp_server: --mount {mount}: {err}\n")
            return 2
        mount_points.add_factory(mount, _factory(clip, with_auth=with_auth))
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        sys.stderr.write(f"rtsp_server: cannot listen on {args.host}:{args.port}\n")
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signum, loop.quit)
    if args.exit_with_parent:
        parent = os.getppid()

        def parent_alive() -> bool:
            if os.getppid() != parent:  # re-parented: the starter died
                loop.quit()
                return False
            return True

        GLib.timeout_add_seconds(1, parent_alive)
    sys.stdout.write(f"READY rtsp://{args.host}:{server.get_bound_port()}\n")
    sys.stdout.flush()
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
