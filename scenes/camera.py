"""The camera: perspective, day or infrared night light, blur, noise and compression artefacts."""

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from scenes.canvas import EMPTY


@dataclass(frozen=True, slots=True)
class CameraLook:
    """How one camera renders: fixed for a still image, and for every frame of a scenario video."""

    night: bool  # infrared: grey picture, a bright centre lit by the camera's own illuminator
    homography: NDArray[np.float64]  # canvas pixels -> frame pixels
    frame_size: tuple[int, int]  # (width, height)
    gain: float
    contrast: float
    tint: tuple[float, float, float]  # per-channel gain (BGR), 1 on a neutral camera
    light_field: NDArray[np.float32]  # (h, w) multiplicative lighting: gradients, spots, vignette
    blur_sigma: float
    motion_px: int  # length of a motion-blur streak, 0 for none
    motion_angle_deg: float
    downscale: float  # 1, or < 1 to mimic a low-resolution sub-stream upscaled
    noise_sigma: float
    jpeg_quality: int | None  # None: no JPEG round trip (a video encoder compresses instead)


def random_camera(
    rng: np.random.Generator,
    *,
    night: bool,
    canvas_size: tuple[int, int],
    frame_size: tuple[int, int],
    perspective: float,
    compress: bool = True,
) -> CameraLook:
    """A random camera; perspective (0..1) scales how far the frame's corners move on the canvas."""
    cw, ch = canvas_size
    fw, fh = frame_size
    mx, my = (cw - fw) / 2.0, (ch - fh) / 2.0
    corners = np.array(
        [[mx, my], [mx + fw, my], [mx + fw, my + fh], [mx, my + fh]], dtype=np.float64
    )
    corners += rng.uniform(-1.0, 1.0, size=(4, 2)) * np.array([mx, my]) * perspective
    target = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], dtype=np.float64)
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), target.astype(np.float32))
    ys, xs = np.mgrid[0:fh, 0:fw].astype(np.float32)
    xs /= fw
    ys /= fh
    if night:
        cx, cy = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)
        spread = rng.uniform(0.35, 0.7)
        field = 0.35 + 0.9 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * spread**2))
    else:
        gx, gy = rng.uniform(-0.25, 0.25, size=2)
        field = 1.0 + gx * (xs - 0.5) + gy * (ys - 0.5)
        for _ in range(int(rng.integers(0, 3))):
            sx, sy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.1, 0.4)
            field += rng.uniform(0.05, 0.25) * np.exp(
                -((xs - sx) ** 2 + (ys - sy) ** 2) / (2 * r**2)
            )
        vignette = rng.uniform(0.0, 0.35)
        field *= 1.0 - vignette * ((xs - 0.5) ** 2 + (ys - 0.5) ** 2) * 2
    tint = rng.uniform(0.88, 1.12, size=3)
    return CameraLook(
        night=night,
        homography=np.asarray(homography, dtype=np.float64),
        frame_size=frame_size,
        gain=float(rng.uniform(0.75, 1.2) if night else rng.uniform(0.6, 1.2)),
        contrast=float(rng.uniform(0.8, 1.3) if night else rng.uniform(0.75, 1.15)),
        tint=(1.0, 1.0, 1.0) if night else (float(tint[0]), float(tint[1]), float(tint[2])),
        light_field=field.astype(np.float32),
        blur_sigma=float(rng.uniform(0.0, 1.3)) if rng.random() < 0.6 else 0.0,
        motion_px=int(rng.integers(3, 8)) if rng.random() < 0.12 else 0,
        motion_angle_deg=float(rng.uniform(0, 180)),
        downscale=float(rng.uniform(0.5, 0.85)) if rng.random() < 0.25 else 1.0,
        noise_sigma=float(rng.uniform(4, 12) if night else rng.uniform(1, 6)),
        jpeg_quality=int(rng.integers(25, 92)) if compress and rng.random() < 0.85 else None,
    )


def project(
    image: NDArray[np.float32], owner: NDArray[np.int32], look: CameraLook
) -> tuple[NDArray[np.float32], NDArray[np.int32]]:
    """Canvas colours and owner map seen through the camera's homography."""
    size = look.frame_size
    warped = cv2.warpPerspective(
        image, look.homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    owners = cv2.warpPerspective(
        owner.astype(np.float32),
        look.homography,
        size,
        flags=cv2.INTER_NEAREST,
        borderValue=(float(EMPTY),),
    )
    return np.asarray(warped, dtype=np.float32), np.asarray(owners, dtype=np.int32)


def area_scale(look: CameraLook, point_xy: tuple[float, float]) -> float:
    """How many frame pixels one canvas pixel at point_xy becomes (the homography's Jacobian)."""
    h = look.homography / look.homography[2, 2]
    w = h[2, 0] * point_xy[0] + h[2, 1] * point_xy[1] + 1.0
    return float(abs(np.linalg.det(h)) / max(abs(w) ** 3, 1e-9))


def develop(
    image: NDArray[np.float32], look: CameraLook, rng: np.random.Generator
) -> NDArray[np.uint8]:
    """Lighting, sensor and codec effects on a projected frame; rng draws this frame's noise."""
    out = image.astype(np.float32, copy=True)
    if look.night:
        grey = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(
            np.float32
        )
        out = np.repeat(grey[..., None], 3, axis=2)
    else:
        out = out * np.asarray(look.tint, dtype=np.float32)
    out = out * (look.light_field[..., None] * look.gain)
    out = (out - 128.0) * look.contrast + 128.0
    # a soft knee instead of hard clipping, as camera tone curves do: white on white stays visible
    knee = 205.0
    bright = out > knee
    out[bright] = knee + 50.0 * np.tanh((out[bright] - knee) / 50.0)
    if look.blur_sigma > 0.3:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), look.blur_sigma), dtype=np.float32)
    if look.motion_px:
        kernel = np.zeros((look.motion_px, look.motion_px), dtype=np.float32)
        kernel[look.motion_px // 2, :] = 1.0 / look.motion_px
        rot = cv2.getRotationMatrix2D(
            (look.motion_px / 2 - 0.5, look.motion_px / 2 - 0.5), look.motion_angle_deg, 1.0
        )
        streak = np.asarray(
            cv2.warpAffine(kernel, rot, (look.motion_px, look.motion_px)), dtype=np.float32
        )
        streak /= max(float(streak.sum()), 1e-6)
        out = np.asarray(cv2.filter2D(out, -1, streak), dtype=np.float32)
    if look.downscale < 1.0:
        w, h = look.frame_size
        small = cv2.resize(
            out,
            (max(8, int(w * look.downscale)), max(8, int(h * look.downscale))),
            interpolation=cv2.INTER_AREA,
        )
        out = np.asarray(
            cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32
        )
    if look.night:
        out += (rng.standard_normal(out.shape[:2], dtype=np.float32) * look.noise_sigma)[..., None]
    else:
        out += rng.standard_normal(out.shape, dtype=np.float32) * look.noise_sigma
    result = np.clip(out, 0, 255).astype(np.uint8)
    if look.jpeg_quality is not None:
        ok, encoded = cv2.imencode(".jpg", result, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg_quality])
        if ok:
            result = np.asarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR), dtype=np.uint8)
    return result
