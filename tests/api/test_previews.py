"""PreviewHub: one upstream per camera fanned out; a slow viewer skips frames, never delays."""

import asyncio

from api.previews import (
    MJPEG_BOUNDARY,
    MJPEG_START,
    PreviewFrame,
    PreviewHub,
    mjpeg_part,
    split_mjpeg,
)
from tests.fixtures.api import T0


def test_every_viewer_gets_the_newest_frame_and_a_slow_one_skips() -> None:
    async def scenario() -> tuple[list[int], list[int], PreviewHub]:
        hub = PreviewHub()
        fast = hub.frames("site-1", "cam-1")
        slow = hub.frames("site-1", "cam-1")
        fast_seen: list[int] = []
        slow_seen: list[int] = []
        hub.publish("site-1", "cam-1", b"\xff\xd8\xff1", now=T0)
        slow_seen.append((await anext(slow)).sequence)  # the slow viewer takes one, then stalls
        for number in range(2, 7):
            hub.publish("site-1", "cam-1", b"\xff\xd8\xff%d" % number, now=T0)
            fast_seen.append((await anext(fast)).sequence)  # publishing never waited on `slow`
        slow_seen.append((await anext(slow)).sequence)  # it wakes up to the newest, not frame 2
        assert hub.viewer_count == 2
        await fast.aclose()
        await slow.aclose()
        return fast_seen, slow_seen, hub

    fast_seen, slow_seen, hub = asyncio.run(scenario())
    assert fast_seen == [2, 3, 4, 5, 6]
    assert slow_seen == [1, 6]
    assert hub.frames_skipped == 4
    assert hub.frames_published == 6
    assert hub.viewer_count == 0


def test_cameras_are_separate_and_close_ends_every_viewer() -> None:
    async def scenario() -> list[bytes]:
        hub = PreviewHub()
        hub.publish("site-1", "cam-2", b"\xff\xd8\xffother", now=T0)
        viewer = hub.frames("site-1", "cam-1")
        waiting = asyncio.ensure_future(anext(viewer))
        await asyncio.sleep(0)  # let it start waiting (no frame of cam-1 yet)
        assert not waiting.done()
        hub.publish("site-1", "cam-1", b"\xff\xd8\xffmine", now=T0)
        got = [(await waiting).jpeg]
        hub.close()
        got.extend([frame.jpeg async for frame in viewer])
        return got

    assert asyncio.run(scenario()) == [b"\xff\xd8\xffmine"]


def test_frames_round_trip_through_the_multipart_body() -> None:
    frames = [PreviewFrame(b"\xff\xd8\xffone", 1, T0), PreviewFrame(b"\xff\xd8\xfftwo", 2, T0)]
    body = MJPEG_START + b"".join(mjpeg_part(frame) for frame in frames)
    assert body.startswith(f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n".encode())
    # the boundary and the next part's header follow each frame at once
    assert body.endswith(b"two\r\n" + MJPEG_START)
    found, rest = split_mjpeg(body[len(MJPEG_START) :])
    assert (found, rest) == ([b"\xff\xd8\xffone", b"\xff\xd8\xfftwo"], b"")
