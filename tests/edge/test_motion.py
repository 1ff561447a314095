"""Motion mask on synthetic frames: what moves is boxed, noise and light jumps are not."""

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.motion import Motion, MotionConfig, MotionDetector

WIDTH, HEIGHT = 640, 360


def kitchen(seed: int = 0, *, width: int = WIDTH, height: int = HEIGHT) -> NDArray[np.uint8]:
    """A tiled wall over a steel counter: texture the mask must not mistake for motion."""
    rng = np.random.default_rng(seed)
    image = np.empty((height, width, 3), np.uint8)
    image[:] = (200, 205, 208)
    image[:: height // 9, :] = (140, 145, 145)
    image[:, :: width // 16] = (140, 145, 145)
    image[int(height * 0.62) :] = (165, 168, 170)
    image += rng.integers(0, 10, (height, width, 1), np.uint8)
    return image


def with_noise(image: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """Sensor noise of about +-6 grey levels, fresh in every frame."""
    noise = rng.integers(-6, 7, image.shape, np.int16)
    noisy: NDArray[np.uint8] = np.clip(image.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return noisy


def with_square(
    image: NDArray[np.uint8], x: int, y: int, size: int, colour: tuple[int, int, int] = (40, 60, 90)
) -> NDArray[np.uint8]:
    out = image.copy()
    out[y : y + size, x : x + size] = colour
    return out


def feed(detector: MotionDetector, frames: list[NDArray[np.uint8]]) -> list[Motion]:
    return [detector.detect(frame) for frame in frames]


def contains(box: NDArray[np.int32], x1: int, y1: int, x2: int, y2: int) -> bool:
    return bool(box[0] <= x1 and box[1] <= y1 and box[2] >= x2 and box[3] >= y2)


def test_the_first_frame_only_sets_the_background() -> None:
    motion = MotionDetector(MotionConfig()).detect(kitchen())

    assert not motion.found
    assert not motion.illumination_jump


def test_a_moving_square_is_boxed_where_it_is() -> None:
    rng = np.random.default_rng(1)
    background = kitchen()
    detector = MotionDetector(MotionConfig())
    feed(detector, [with_noise(background, rng) for _ in range(5)])

    results = feed(
        detector,
        [with_noise(with_square(background, 100 + 12 * step, 150, 48), rng) for step in range(6)],
    )

    assert all(result.found for result in results)
    last = results[-1]
    square = (100 + 12 * 5, 150, 100 + 12 * 5 + 48, 150 + 48)
    # one box holds the square, and no box lies far from where the square has been
    assert any(contains(box, *square) for box in last.xyxy)
    for box in last.xyxy:
        assert box[0] >= 80
        assert box[2] <= 100 + 12 * 5 + 48 + 20
        assert box[1] >= 130
        assert box[3] <= 150 + 48 + 20


def test_boxes_are_in_the_pixels_of_a_large_frame() -> None:
    rng = np.random.default_rng(2)
    background = kitchen(width=1920, height=1080)
    detector = MotionDetector(MotionConfig())
    feed(detector, [with_noise(background, rng) for _ in range(3)])

    motion = detector.detect(with_noise(with_square(background, 1500, 700, 96), rng))

    assert motion.found
    assert any(contains(box, 1500, 700, 1596, 796) for box in motion.xyxy)
    assert all(box[2] <= 1920 and box[3] <= 1080 for box in motion.xyxy)
    assert all(box[0] >= 1400 and box[1] >= 600 for box in motion.xyxy)


def test_sensor_noise_on_a_still_scene_is_no_motion() -> None:
    rng = np.random.default_rng(3)
    background = kitchen()
    detector = MotionDetector(MotionConfig())

    results = feed(detector, [with_noise(background, rng) for _ in range(30)])

    assert not any(result.found for result in results)


def test_a_change_of_a_few_pixels_is_no_motion() -> None:
    rng = np.random.default_rng(4)
    background = kitchen()
    detector = MotionDetector(MotionConfig())
    feed(detector, [with_noise(background, rng) for _ in range(3)])

    motion = detector.detect(with_noise(with_square(background, 300, 100, 3, (0, 0, 0)), rng))

    assert not motion.found


@pytest.mark.parametrize("offset", [-60, 70])
def test_a_uniform_exposure_change_is_no_motion(offset: int) -> None:
    rng = np.random.default_rng(5)
    background = kitchen()
    detector = MotionDetector(MotionConfig())
    feed(detector, [with_noise(background, rng) for _ in range(3)])
    brighter = np.clip(background.astype(np.int16) + offset, 0, 255).astype(np.uint8)

    results = feed(detector, [with_noise(brighter, rng) for _ in range(5)])

    assert not any(result.found for result in results)


def test_an_ir_switch_is_an_illumination_jump_not_motion_and_the_background_follows() -> None:
    rng = np.random.default_rng(6)
    day = kitchen()
    detector = MotionDetector(MotionConfig())
    feed(detector, [with_noise(day, rng) for _ in range(3)])
    # IR mode: grey, contrast stretched and inverted in places (IR reflectance differs)
    grey = day.mean(axis=2, keepdims=True)
    night = np.clip(255 - grey * 1.1, 0, 255).astype(np.uint8).repeat(3, axis=2)

    jump = detector.detect(with_noise(night, rng))
    after = feed(detector, [with_noise(night, rng) for _ in range(5)])

    assert jump.illumination_jump
    assert not jump.found
    assert not any(result.found or result.illumination_jump for result in after)
    # and motion is seen again in the new light
    moved = detector.detect(with_noise(with_square(night, 200, 200, 40, (255, 255, 255)), rng))
    assert moved.found


def test_what_stops_moving_fades_into_the_background() -> None:
    rng = np.random.default_rng(7)
    background = kitchen()
    placed = with_square(background, 400, 200, 40)
    detector = MotionDetector(MotionConfig(background_alpha=0.2))
    feed(detector, [with_noise(background, rng) for _ in range(3)])

    results = feed(detector, [with_noise(placed, rng) for _ in range(40)])

    assert results[0].found
    assert not results[-1].found


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="threshold"):
        MotionConfig(threshold=0)
    with pytest.raises(ValueError, match="keepalive_s"):
        MotionConfig(keepalive_s=0)
    with pytest.raises(ValueError, match="extra"):
        MotionConfig.model_validate({"treshold": 20})
