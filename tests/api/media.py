"""Real media for the API tests: JPEG frames (OpenCV) and a small H.264 MP4 (PyAV).

The api package never imports either (import-linter); its tests may.
"""

import io
from fractions import Fraction

import av
import cv2
import numpy as np


def jpeg_bytes(*, width: int = 64, height: int = 48, shade: int = 128) -> bytes:
    image = np.full((height, width, 3), shade, dtype=np.uint8)
    cv2.rectangle(image, (width // 4, height // 4), (width // 2, height // 2), (0, 0, 255), -1)
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return encoded.tobytes()


def png_bytes() -> bytes:
    ok, encoded = cv2.imencode(".png", np.zeros((8, 8, 3), dtype=np.uint8))
    assert ok
    return encoded.tobytes()


def mp4_bytes(*, seconds: float = 3.0, fps: int = 10, width: int = 160, height: int = 120) -> bytes:
    """An H.264 MP4 with a moving square, playable by Chromium (yuv420p; its index sits at
    the end, so the browser needs range requests to start playing)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(int(seconds * fps)):
            image = np.full((height, width, 3), 40, dtype=np.uint8)
            x = (index * 4) % (width - 20)
            image[40:60, x : x + 20] = (0, 200, 255)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
