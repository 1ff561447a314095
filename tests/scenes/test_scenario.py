"""Scenario videos: H.264 MP4 of the expected length, and a ground truth matching the script."""

import json
from pathlib import Path

import av
import pytest

from scenes.errors import ScenarioError
from scenes.scenario import ScenarioRenderer, events_from_frames, read_events, render_scenario
from scenes.timeline import Animal, Dish, Scenario, ScenarioEvent, Track, Worker, default_scenarios

SIZE = (320, 180)


def test_video_decodes_with_the_expected_length_and_truth_follows_the_script(
    tmp_path: Path,
) -> None:
    scenario = Scenario(
        "short",
        3.0,
        seed=4,
        camera="cam-9",
        workers=(
            Worker(
                Track(((0.0, 0.4, 0.74), (3.0, 0.45, 0.74))), hat_off_s=((1.0, 2.0),), look_seed=3
            ),
        ),
        dishes=(Dish(0.75, uncovered_s=((0.0, 1.5),)),),
    )
    video, truth = render_scenario(scenario, tmp_path, size=SIZE, fps=10)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = list(container.decode(stream))
    assert len(decoded) == 30
    assert (decoded[0].width, decoded[0].height) == SIZE
    assert decoded[0].format.name == "yuv420p"
    document = json.loads(truth.read_text())
    assert document["camera"] == "cam-9"
    assert document["duration_s"] == 3.0
    events = read_events(truth)
    assert {(e.kind, e.start_s, e.end_s) for e in events} == {
        ("no_hat", 1.0, 2.0),
        ("uncovered_food", 0.0, 1.5),
    }
    assert all(e.camera == "cam-9" for e in events)


def test_a_night_rodent_is_labelled_only_while_in_view() -> None:
    scenario = Scenario(
        "rat",
        2.0,
        seed=1,
        night=True,
        animals=(Animal(Track(((0.5, 0.2, 0.9), (1.5, 0.8, 0.9))), "rat", 40.0),),
    )
    renderer = ScenarioRenderer(scenario, size=SIZE)
    names_at = {t: {label.class_name for label in renderer.render(t)[1]} for t in (0.2, 1.0, 1.8)}
    assert "rodent" not in names_at[0.2]
    assert "rodent" in names_at[1.0]
    assert "rodent" not in names_at[1.8]


def test_rendering_is_deterministic() -> None:
    scenario = default_scenarios(2)[0]
    first, labels_a = ScenarioRenderer(scenario, size=SIZE).render(5.0)
    second, labels_b = ScenarioRenderer(scenario, size=SIZE).render(5.0)
    assert first.tobytes() == second.tobytes()
    assert labels_a == labels_b


def test_events_merge_close_frames_and_split_on_gaps() -> None:
    active = [
        (t / 10, {"rodent"} if (3 <= t < 10 or 11 <= t < 13 or t >= 40) else set())
        for t in range(50)
    ]
    events = events_from_frames(active, camera="c", frame_s=0.1, merge_gap_s=0.5)
    assert events == (
        ScenarioEvent("rodent", "c", 0.3, 1.3),
        ScenarioEvent("rodent", "c", 4.0, 5.0),
    )


def test_default_scenarios_cover_every_violation_and_a_quiet_one() -> None:
    scenarios = default_scenarios(0)
    assert len({s.name for s in scenarios}) == len(scenarios) >= 5
    assert any(not s.workers and not s.animals for s in scenarios) is False
    assert any(s.night for s in scenarios)


def test_bad_size_is_rejected() -> None:
    with pytest.raises(ScenarioError, match="size"):
        ScenarioRenderer(default_scenarios(0)[0], size=(63, 40))


def test_unreadable_truth_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{}")
    with pytest.raises(ScenarioError, match=r"broken\.json"):
        read_events(path)


def _slices_per_picture(video: Path) -> set[int]:
    """The number of coded slices (NAL types 1 and 5) in each packet of an MP4's H.264 stream."""
    counts: set[int] = set()
    with av.open(str(video)) as container:
        for packet in container.demux(container.streams.video[0]):
            data = bytes(packet)
            if not data:
                continue  # the demuxer's final flush packet
            offset, slices = 0, 0
            while offset + 4 <= len(data):  # AVCC: 4-byte big-endian length, then the NAL unit
                length = int.from_bytes(data[offset : offset + 4], "big")
                slices += data[offset + 4] & 0x1F in (1, 5)
                offset += 4 + length
            counts.add(slices)
    return counts


def test_each_picture_is_one_slice_so_rtsp_clients_decode_whole_frames(tmp_path: Path) -> None:
    # FFmpeg reading an RTSP stream with several slices per picture decodes each slice as a
    # picture of its own: the top half of every frame the edge sees comes out green
    scenario = Scenario("slices", 1.0, seed=5, dishes=(Dish(0.5),))
    video, _ = render_scenario(scenario, tmp_path, size=(640, 360), fps=10)
    assert _slices_per_picture(video) == {1}
