"""People in kitchen clothes, seen from a wall camera (upright) or a ceiling camera (from above)."""

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from scenes.classes import KitchenClass
from scenes.heads import HeadLook, draw_head_front
from scenes.headwear import draw_head_top
from scenes.sprite import Color, Painter, Role, Sprite, jitter, scaled_color

JACKET_COLORS: tuple[Color, ...] = (
    (245, 245, 245),
    (235, 235, 230),
    (30, 30, 30),
    (120, 120, 120),
    (110, 60, 25),
    (200, 170, 130),
    (70, 120, 60),
    (50, 50, 150),
    (150, 200, 220),
)
TROUSER_COLORS: tuple[Color, ...] = (
    (25, 25, 25),
    (60, 60, 60),
    (110, 70, 40),
    (200, 200, 200),
    (90, 90, 110),
)
APRON_COLORS: tuple[Color, ...] = (
    (240, 240, 240),
    (25, 25, 25),
    (120, 60, 20),
    (60, 60, 160),
    (80, 140, 60),
)
GLOVE_COLORS: tuple[Color, ...] = ((220, 150, 60), (240, 240, 240), (40, 40, 40))


class ArmPose(StrEnum):
    DOWN = "down"
    WORKING = "working"  # forearms forward over a counter
    RAISED = "raised"  # one arm up (reaching for a shelf, or the hat)


@dataclass(frozen=True, slots=True)
class PersonLook:
    head: HeadLook
    jacket: Color
    trousers: Color
    apron: Color | None
    gloves: Color | None
    buttons: bool
    arms: ArmPose
    build: float  # shoulder width factor
    stride: float  # 0 standing, up to ~0.35 walking

    def with_head(self, head: HeadLook) -> "PersonLook":
        return PersonLook(
            head=head,
            jacket=self.jacket,
            trousers=self.trousers,
            apron=self.apron,
            gloves=self.gloves,
            buttons=self.buttons,
            arms=self.arms,
            build=self.build,
            stride=self.stride,
        )


def random_person_look(rng: np.random.Generator, head: HeadLook) -> PersonLook:
    def pick(palette: tuple[Color, ...]) -> Color:
        return jitter(rng, palette[int(rng.integers(len(palette)))], 10)

    return PersonLook(
        head=head,
        jacket=pick(JACKET_COLORS),
        trousers=pick(TROUSER_COLORS),
        apron=pick(APRON_COLORS) if rng.random() < 0.45 else None,
        gloves=pick(GLOVE_COLORS) if rng.random() < 0.35 else None,
        buttons=bool(rng.random() < 0.5),
        arms=ArmPose(rng.choice(list(ArmPose), p=[0.4, 0.45, 0.15])),
        build=float(rng.uniform(0.85, 1.2)),
        stride=float(rng.uniform(0.0, 0.35)) if rng.random() < 0.4 else 0.0,
    )


def _roles(look: PersonLook, *, with_face: bool) -> tuple[Role, ...]:
    person = Role(KitchenClass.PERSON.value, None, 0.3)
    head = Role(look.head.head_class.value, 0, 0.55)
    if not with_face:
        return (person, head)
    return (person, head, Role(look.head.face_class.value, 1, 0.6))


def _supersample(head_px: float) -> int:
    return 3 if head_px < 24 else 2


def draw_person_front(look: PersonLook, head_px: float, rng: np.random.Generator) -> Sprite:
    """A standing person 7.4 head heights tall, head `head_px` high; anchor between the feet."""
    u = head_px
    b = look.build
    with_face = look.head.shows_face
    roles = _roles(look, with_face=with_face)
    width = 3.4 * u * b
    top = (0.15 + max(look.head.toque_height, 0.3) * 1.2) * u
    height = top + 7.5 * u
    painter = Painter(width, height, supersample=_supersample(head_px))
    cx = width / 2.0
    person = 0
    skin = look.head.skin
    hand = look.gloves or skin
    # legs and shoes
    trouser_tex = painter.texture(rng, look.trousers, amplitude=8, blotch_px=u)
    for side in (-1, 1):
        swing = side * look.stride * u
        hip = (cx + side * 0.36 * u * b, top + 4.0 * u)
        ankle = (cx + side * 0.3 * u + swing, top + 7.2 * u)
        leg = painter.polygon(
            [
                (hip[0] - 0.36 * u, hip[1]),
                (hip[0] + 0.36 * u, hip[1]),
                (ankle[0] + 0.2 * u, ankle[1]),
                (ankle[0] - 0.2 * u, ankle[1]),
            ]
        )
        painter.fill(leg, trouser_tex, person)
        shoe = painter.ellipse((ankle[0], ankle[1] + 0.12 * u), (0.26 * u, 0.14 * u))
        painter.fill(shoe, scaled_color(look.trousers, 0.5), person)
    # arms behind the body when hanging, in front when working
    if look.arms is ArmPose.DOWN:
        _draw_arms(painter, look, rng, cx=cx, top=top, u=u, hand=hand)
    jacket_tex = painter.texture(rng, look.jacket, amplitude=7, blotch_px=u)
    torso = painter.polygon(
        [
            (cx - 0.9 * u * b, top + 1.35 * u),
            (cx + 0.9 * u * b, top + 1.35 * u),
            (cx + 0.78 * u * b, top + 3.7 * u),
            (cx + 0.82 * u * b, top + 4.3 * u),
            (cx - 0.82 * u * b, top + 4.3 * u),
            (cx - 0.78 * u * b, top + 3.7 * u),
        ]
    )
    for side in (-1, 1):
        torso |= painter.circle((cx + side * 0.72 * u * b, top + 1.58 * u), 0.3 * u)
    painter.fill(torso, jacket_tex, person)
    painter.shade(torso, (cx, top + 2.0 * u), 1.8 * u, 0.2)
    neck = painter.polygon(
        [
            (cx - 0.15 * u, top + 0.8 * u),
            (cx + 0.15 * u, top + 0.8 * u),
            (cx + 0.17 * u, top + 1.4 * u),
            (cx - 0.17 * u, top + 1.4 * u),
        ]
    )
    painter.fill(neck, scaled_color(skin, 0.88), person)
    collar = painter.polygon(
        [
            (cx - 0.3 * u, top + 1.2 * u),
            (cx + 0.3 * u, top + 1.2 * u),
            (cx + 0.36 * u, top + 1.42 * u),
            (cx - 0.36 * u, top + 1.42 * u),
        ]
    )
    painter.fill(collar, scaled_color(look.jacket, 0.9), person)
    if look.buttons and with_face and u >= 14:
        for row in range(4):
            for side in (-1, 1):
                button = (cx + side * 0.3 * u, top + (1.75 + 0.42 * row) * u)
                painter.fill(
                    painter.circle(button, 0.05 * u), scaled_color(look.jacket, 0.7), person
                )
    if look.apron is not None and with_face:
        apron = painter.polygon(
            [
                (cx - 0.55 * u * b, top + 2.3 * u),
                (cx + 0.55 * u * b, top + 2.3 * u),
                (cx + 0.7 * u * b, top + 5.6 * u),
                (cx - 0.7 * u * b, top + 5.6 * u),
            ]
        )
        painter.fill(apron, painter.texture(rng, look.apron, amplitude=6), person)
        for side in (-1, 1):
            strap = painter.polyline(
                [(cx + side * 0.45 * u * b, top + 2.35 * u), (cx + side * 0.2 * u, top + 1.3 * u)],
                0.06 * u,
            )
            painter.fill(strap, look.apron, person)
    if look.arms is not ArmPose.DOWN:
        _draw_arms(painter, look, rng, cx=cx, top=top, u=u, hand=hand)
    draw_head_front(
        painter,
        look.head,
        rng,
        cx=cx,
        top=top,
        u=u,
        head_part=1,
        face_part=2 if with_face else None,
    )
    return painter.finish(roles, anchor_xy=(cx, top + 7.35 * u))


def _draw_arms(
    painter: Painter,
    look: PersonLook,
    rng: np.random.Generator,
    *,
    cx: float,
    top: float,
    u: float,
    hand: Color,
) -> None:
    b = look.build
    sleeve = scaled_color(look.jacket, 0.93)
    for side in (-1, 1):
        shoulder = (cx + side * 0.82 * u * b, top + 1.55 * u)
        if look.arms is ArmPose.DOWN:
            elbow = (cx + side * 1.0 * u * b, top + 2.9 * u)
            wrist = (cx + side * 1.05 * u * b, top + 4.1 * u)
        elif look.arms is ArmPose.WORKING:
            elbow = (cx + side * 1.0 * u * b, top + 2.8 * u)
            wrist = (cx + side * 0.45 * u, top + 3.25 * u)
        elif side < 0:
            elbow = (cx - 1.3 * u * b, top + 1.1 * u)
            wrist = (cx - 1.35 * u * b, top + 0.1 * u)
        else:
            elbow = (cx + 1.0 * u * b, top + 2.9 * u)
            wrist = (cx + 1.05 * u * b, top + 4.1 * u)
        arm = painter.tapered([shoulder, elbow, wrist], 0.42 * u, 0.3 * u)
        painter.fill(arm, sleeve, 0)
        painter.fill(painter.circle(wrist, 0.15 * u), hand, 0)
    del rng


def draw_person_top(look: PersonLook, head_px: float, rng: np.random.Generator) -> Sprite:
    """A person seen from the ceiling, facing the top of the sprite; anchor at the head's centre."""
    u = head_px
    b = look.build
    size = 3.2 * u * b
    painter = Painter(size, size, supersample=_supersample(head_px))
    cx = cy = size / 2.0
    hand = look.gloves or look.head.skin
    sleeve = scaled_color(look.jacket, 0.92)
    for side in (-1, 1):
        shoulder = (cx + side * 0.85 * u * b, cy + 0.1 * u)
        if look.arms is ArmPose.DOWN:
            wrist = (cx + side * 1.05 * u * b, cy + 0.2 * u)
            elbow = (cx + side * 1.0 * u * b, cy + 0.15 * u)
        else:
            elbow = (cx + side * 0.95 * u * b, cy - 0.5 * u)
            wrist = (cx + side * 0.45 * u, cy - 1.05 * u)
        painter.fill(painter.tapered([shoulder, elbow, wrist], 0.4 * u, 0.3 * u), sleeve, 0)
        painter.fill(painter.circle(wrist, 0.15 * u), hand, 0)
    shoulders = painter.ellipse((cx, cy + 0.15 * u), (0.98 * u * b, 0.42 * u))
    painter.fill(shoulders, painter.texture(rng, look.jacket, amplitude=7, blotch_px=u), 0)
    painter.shade(shoulders, (cx, cy), 1.0 * u * b, 0.35)
    draw_head_top(painter, look.head, rng, cx=cx, cy=cy, u=u, head_part=1)
    return painter.finish(_roles(look, with_face=False), anchor_xy=(cx, cy))
