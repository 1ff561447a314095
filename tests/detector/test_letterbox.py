"""Letterbox geometry, box mapping both ways, and the tensor the Letterboxer makes."""

import cv2
import numpy as np
import pytest

from detector.letterbox import (
    PAD_VALUE,
    Letterboxer,
    boxes_to_frame,
    boxes_to_input,
    letterbox_geometry,
)


def test_wide_frame_is_halved_and_centred_vertically() -> None:
    geometry = letterbox_geometry((360, 640), (320, 320))
    assert geometry.scale_f == 0.5
    assert geometry.resized_hw == (180, 320)
    assert (geometry.pad_top_px, geometry.pad_left_px) == (70, 0)


def test_odd_padding_rounds_as_ultralytics_does() -> None:
    # 500x333 into 320: scale 0.64, resized 320x213, 107 rows of padding: 53 above, 54 below
    geometry = letterbox_geometry((333, 500), (320, 320))
    assert geometry.resized_hw == (213, 320)
    assert (geometry.pad_top_px, geometry.pad_left_px) == (53, 0)


def test_small_frame_is_scaled_up() -> None:
    geometry = letterbox_geometry((100, 50), (320, 320))
    assert geometry.scale_f == 3.2
    assert geometry.resized_hw == (320, 160)
    assert (geometry.pad_top_px, geometry.pad_left_px) == (0, 80)


def test_non_positive_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        letterbox_geometry((0, 640), (320, 320))


@pytest.mark.parametrize(
    ("frame_hw", "input_hw"),
    [
        ((360, 640), (320, 320)),
        ((640, 360), (320, 320)),
        ((1080, 1920), (640, 640)),
        ((100, 50), (320, 320)),
        ((333, 500), (320, 256)),
    ],
)
def test_boxes_round_trip_between_frame_and_input(
    frame_hw: tuple[int, int], input_hw: tuple[int, int]
) -> None:
    geometry = letterbox_geometry(frame_hw, input_hw)
    height, width = frame_hw
    boxes = np.array(
        [[0, 0, width, height], [width * 0.25, height * 0.1, width * 0.5, height * 0.9]],
        dtype=np.float32,
    )
    in_input = boxes_to_input(boxes, geometry)
    assert in_input[:, 0::2].min() >= geometry.pad_left_px - 1e-3
    assert in_input[:, 1::2].min() >= geometry.pad_top_px - 1e-3
    np.testing.assert_allclose(boxes_to_frame(in_input, geometry), boxes, atol=1e-3)


def test_boxes_reaching_into_the_padding_are_clipped_to_the_frame() -> None:
    geometry = letterbox_geometry((360, 640), (320, 320))
    # x from -10 to 330 and y from 0 to 320 in the input: beyond the picture on every side
    mapped = boxes_to_frame(np.array([[-10, 0, 330, 320]], np.float32), geometry)
    np.testing.assert_array_equal(mapped, [[0, 0, 640, 360]])


def test_tensor_is_rgb_in_0_1_with_grey_padding() -> None:
    frame = np.empty((360, 640, 3), np.uint8)
    frame[:] = (10, 20, 30)  # BGR
    tensor, geometry = Letterboxer((320, 320))(frame)
    assert tensor.shape == (1, 3, 320, 320)
    assert tensor.dtype == np.float32
    picture = tensor[0, :, 70:250, :]
    np.testing.assert_allclose(picture[:, 0, 0], [30 / 255, 20 / 255, 10 / 255], rtol=1e-6)
    assert np.ptp(picture.reshape(3, -1), axis=1).max() == 0  # a flat colour stays flat
    for padding in (tensor[0, :, :70, :], tensor[0, :, 250:, :]):
        np.testing.assert_allclose(padding, PAD_VALUE / 255, rtol=1e-6)
    assert geometry.frame_hw == (360, 640)


def test_letterbox_matches_a_plain_resize_of_the_frame() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (333, 500, 3), np.uint8)
    tensor, geometry = Letterboxer((320, 320))(frame)
    expected = cv2.resize(frame, (320, 213), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
    picture = tensor[0, :, 53 : 53 + 213, :].transpose(1, 2, 0)
    np.testing.assert_allclose(picture, expected / 255, atol=1e-6)
    assert geometry.resized_hw == (213, 320)


def test_a_new_frame_size_repaints_the_padding() -> None:
    letterbox = Letterboxer((320, 320))
    red_wide = np.zeros((360, 640, 3), np.uint8)
    red_wide[:] = (0, 0, 255)
    letterbox(red_wide)
    tall = np.zeros((640, 360, 3), np.uint8)
    tensor, geometry = letterbox(tall)
    assert (geometry.pad_top_px, geometry.pad_left_px) == (0, 70)
    # the rows the wide picture filled are padding or black now, never red
    assert tensor[0, 0].max() == pytest.approx(PAD_VALUE / 255)
    np.testing.assert_allclose(tensor[0, :, :, :70], PAD_VALUE / 255, rtol=1e-6)
    np.testing.assert_array_equal(tensor[0, :, :, 70:250], 0)


def test_frame_of_the_input_size_is_copied_without_resizing() -> None:
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 256, (320, 320, 3), np.uint8)
    tensor, geometry = Letterboxer((320, 320))(frame)
    assert geometry.scale_f == 1.0
    np.testing.assert_allclose(tensor[0].transpose(1, 2, 0), frame[:, :, ::-1] / 255, atol=1e-6)


def test_a_view_into_a_larger_array_is_accepted() -> None:
    big = np.zeros((400, 700, 3), np.uint8)
    big[20:380, 30:670] = (0, 255, 0)
    view = big[20:380, 30:670]
    tensor, _ = Letterboxer((320, 320))(view)
    np.testing.assert_allclose(tensor[0, 1, 70:250, :], 1.0)  # green everywhere in the picture
    np.testing.assert_array_equal(tensor[0, 0, 70:250, :], 0.0)
