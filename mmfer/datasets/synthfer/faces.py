"""Procedural face drawing for SynthFER.

A face is drawn from polygons in a canonical frame (head centre at the origin, head
half-width 1, y pointing down), mapped into the image by one affine matrix, so the
face box after rotation/scale/translation is known exactly. Expressions are set by
action-unit-like parameters (:data:`AU_NAMES`); identities by :class:`Identity`.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

#: RAF-DB class order; SynthFER labels are indices into it.
CLASSES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger', 'Neutral')

#: Action-unit-like parameters: brow raise, inner-brow raise (+) / knit (-),
#: eye openness, nose wrinkle, mouth-corner pull (+ up / - down), mouth opening,
#: lip stretch (+) / press (-), upper-lip raise.
AU_NAMES = ('brow_raise', 'brow_inner', 'eye_open', 'nose_wrinkle', 'mouth_corner',
            'mouth_open', 'lip_stretch', 'upper_lip')

#: Full-intensity prototype of each class (rows in CLASSES order, columns in AU_NAMES
#: order). Confusable pairs share cues on purpose: fear/surprise (raised brows, open
#: eyes and mouth), disgust/anger (lowered brows, wrinkle, pressed lips),
#: sadness/neutral (sadness is mostly inner-brow and corners, weak at low intensity).
PROTOTYPES = np.array([
    # raise inner  eye  wrink corner open stretch upper
    [1.00, 0.20, 0.90, 0.00, 0.00, 0.85, -0.20, 0.00],  # Surprise
    [0.70, 0.80, 0.80, 0.00, -0.25, 0.45, 0.70, 0.00],  # Fear
    [-0.50, -0.20, -0.50, 0.90, -0.45, 0.15, 0.20, 0.80],  # Disgust
    [0.10, 0.00, -0.35, 0.10, 1.00, 0.35, 0.60, 0.00],  # Happiness
    [-0.20, 0.90, -0.35, 0.00, -0.75, 0.00, -0.10, 0.00],  # Sadness
    [-0.90, -0.90, -0.10, 0.35, -0.35, 0.05, -0.40, 0.20],  # Anger
    [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],  # Neutral
], dtype=np.float64)


@dataclass
class Identity:
    """Parameters fixed for one person."""
    head_w: float
    head_h: float
    skin: Tuple[int, int, int]
    hair: Tuple[int, int, int]
    hair_style: int
    eye_dx: float
    eye_y: float
    eye_rx: float
    iris: Tuple[int, int, int]
    brow_w: float
    brow_t: float
    brow_y: float
    nose_len: float
    nose_w: float
    mouth_w: float
    mouth_y: float
    lip: Tuple[int, int, int]
    glasses: bool
    resting: np.ndarray  # per-person offset added to every expression (AU space)

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Identity':
        tone = rng.uniform(0, 0.85)
        skin = np.array([235, 200, 170]) * (1 - tone) + np.array([95, 60, 40]) * tone
        skin = np.clip(skin + rng.normal(0, 8, 3), 0, 255)
        hair = [(25, 20, 15), (70, 45, 25), (140, 100, 50), (200, 170, 110), (120, 120, 120),
                (160, 60, 30)][rng.integers(6)]
        resting = np.zeros(len(AU_NAMES))
        resting[[0, 1, 4]] = rng.normal(0, 0.08, 3)
        return cls(
            head_w=rng.uniform(0.9, 1.04), head_h=rng.uniform(1.15, 1.3),
            skin=tuple(int(v) for v in skin), hair=tuple(int(v) for v in hair),
            hair_style=int(rng.integers(4)), eye_dx=rng.uniform(0.34, 0.42),
            eye_y=rng.uniform(-0.18, -0.06), eye_rx=rng.uniform(0.13, 0.17),
            iris=[(60, 40, 20), (40, 90, 140), (60, 110, 60), (30, 25, 20)][rng.integers(4)],
            brow_w=rng.uniform(0.22, 0.28), brow_t=rng.uniform(0.055, 0.08),
            brow_y=rng.uniform(0.17, 0.22), nose_len=rng.uniform(0.3, 0.4),
            nose_w=rng.uniform(0.09, 0.13), mouth_w=rng.uniform(0.46, 0.56),
            mouth_y=rng.uniform(0.52, 0.62),
            lip=tuple(int(v) for v in np.clip(skin * np.array([0.8, 0.5, 0.5]) + [30, 0, 0], 0, 255)),
            glasses=bool(rng.random() < 0.2), resting=resting)


def _ellipse(cx, cy, rx, ry, a0=0.0, a1=360.0, n=48) -> np.ndarray:
    t = np.deg2rad(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def _bezier(p0, p1, p2, n=20) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t)**2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t**2 * np.asarray(p2)


class Canvas:
    """An RGB uint8 image with an affine map from the canonical face frame."""

    SHIFT = 4  # cv2 sub-pixel bits

    def __init__(self, img: np.ndarray, matrix: np.ndarray):
        self.img = img
        self.matrix = matrix  # (2, 3): canonical -> pixel

    def _px(self, pts: np.ndarray) -> np.ndarray:
        pix = pts @ self.matrix[:, :2].T + self.matrix[:, 2]
        return np.round(pix * (1 << self.SHIFT)).astype(np.int32)

    def fill(self, pts, color):
        cv2.fillPoly(self.img, [self._px(pts)], color, cv2.LINE_AA, self.SHIFT)

    def line(self, pts, color, width: float, closed=False):
        scale = np.sqrt(abs(np.linalg.det(self.matrix[:, :2])))
        cv2.polylines(self.img, [self._px(pts)], closed, color, max(1, int(round(width * scale))),
                      cv2.LINE_AA, self.SHIFT)

    def box(self, pts) -> np.ndarray:
        pix = pts @ self.matrix[:, :2].T + self.matrix[:, 2]
        return np.concatenate([pix.min(0), pix.max(0)])


def draw_face(canvas: Canvas, ident: Identity, au: np.ndarray) -> np.ndarray:
    """Draw one face; return its box ``(x1, y1, x2, y2)`` in pixels (the head outline)."""
    r, inner, eye, wrinkle, corner, mopen, stretch, upper = np.clip(au, -1.2, 1.2)
    wrinkle, mopen, upper = max(wrinkle, 0), max(mopen, 0), max(upper, 0)
    w, h = ident.head_w, ident.head_h
    skin = ident.skin
    shade = tuple(int(c * 0.72) for c in skin)
    dark = (30, 22, 18)
    brow = tuple(int(c * 0.5) for c in ident.hair)

    if ident.hair_style == 2:  # long hair behind the head
        canvas.fill(_ellipse(0, 0.15, w * 1.18, h * 1.12), ident.hair)
    canvas.fill(_ellipse(-w, 0.0, 0.14, 0.24), shade)  # ears
    canvas.fill(_ellipse(w, 0.0, 0.14, 0.24), shade)
    head = _ellipse(0, 0, w, h, n=64)
    canvas.fill(head, skin)
    if ident.hair_style in (1, 2, 3):
        cap = _ellipse(0, -h * 0.28, w * 1.04, h * 0.78, 180, 360, 32)
        if ident.hair_style == 3:  # fringe
            cap = np.concatenate([cap, [[w * 0.9, -h * 0.35], [0, -h * 0.45], [-w * 0.9, -h * 0.35]]])
        canvas.fill(cap, ident.hair)

    # eyes: openness scales the eye's height; a wide stare shows white above the iris
    ey, ex, erx = ident.eye_y, ident.eye_dx, ident.eye_rx
    ery = erx * float(np.clip(0.5 + 0.3 * eye, 0.08, 1.0))
    for s in (-1, 1):
        canvas.fill(_ellipse(s * ex, ey, erx, ery, n=32), (245, 245, 240))
        ir = min(erx * 0.55, ery * 1.0)
        canvas.fill(_ellipse(s * ex, ey + 0.15 * max(eye, 0) * ery, ir, ir, n=20), ident.iris)
        canvas.fill(_ellipse(s * ex, ey + 0.15 * max(eye, 0) * ery, ir * 0.45, ir * 0.45, n=12), dark)
        canvas.line(_ellipse(s * ex, ey, erx, ery, 180, 360, 20), shade, 0.025)

    # brows: whole brow moves with raise; inner end up for sadness/fear, down and in for anger
    by = ey - ident.brow_y - 0.15 * r
    for s in (-1, 1):
        x_in, x_out = s * (ex - ident.brow_w * 0.5 + 0.03 * min(inner, 0)), s * (ex + ident.brow_w * 0.6)
        y_in, y_out = by - 0.16 * inner, by + 0.04 * inner
        mid = ((x_in + x_out) / 2, min(y_in, y_out) - 0.04 - 0.02 * max(r, 0))
        canvas.line(_bezier((x_in, y_in), mid, (x_out, y_out), 12), brow, ident.brow_t)
    if inner < -0.3:  # knitted brows leave vertical creases
        for s in (-1, 1):
            canvas.line(np.array([[s * 0.06, by - 0.02], [s * 0.05, by + 0.1]]), shade, 0.018 * -inner)

    # nose, wrinkles across the bridge, nasolabial folds
    ntip = ey + ident.nose_len + 0.05
    nw = ident.nose_w * (1 + 0.35 * wrinkle)
    canvas.line(np.array([[0.02, ey + 0.02], [0.04, ntip - 0.04]]), shade, 0.02)
    canvas.line(_bezier((-nw, ntip - 0.02), (0, ntip + 0.06), (nw, ntip - 0.02), 10), shade, 0.03)
    for k in range(int(round(wrinkle * 3))):
        yk = ey + 0.02 + 0.05 * k
        canvas.line(np.array([[-0.09, yk], [0.09, yk - 0.01]]), shade, 0.03)
    fold = max(corner, 0) + 0.6 * wrinkle
    if fold > 0.25:
        for s in (-1, 1):
            canvas.line(_bezier((s * (nw + 0.04), ntip - 0.04), (s * (nw + 0.14), ntip + 0.08),
                                (s * (ident.mouth_w * 0.55 + 0.04), ident.mouth_y - 0.02)), shade, 0.02 * fold)

    # mouth: corners pulled up/down, stretched, opened; the upper lip can rise (disgust)
    my = ident.mouth_y
    mw = ident.mouth_w * 0.5 * (1 + 0.3 * stretch)
    cy = my - 0.2 * corner
    gap = 0.4 * mopen
    up_mid = my - gap * 0.45 - 0.08 * upper - 0.03 * max(corner, 0)
    lo_mid = my + gap * 0.55 + 0.06 * max(corner, 0)
    upper_curve = _bezier((-mw, cy), (0, 2 * up_mid - cy), (mw, cy))
    lower_curve = _bezier((mw, cy), (0, 2 * lo_mid - cy), (-mw, cy))
    if gap + 0.06 * max(corner, 0) + 0.08 * upper > 0.03:
        canvas.fill(np.concatenate([upper_curve, lower_curve]), (70, 20, 25))
        if mopen > 0.15 or corner > 0.5:
            teeth = _bezier((-mw * 0.8, cy + 0.01), (0, 2 * up_mid - cy + 0.1), (mw * 0.8, cy + 0.01))
            canvas.line(teeth, (240, 240, 235), 0.04)
    canvas.line(upper_curve, ident.lip, 0.06)
    canvas.line(lower_curve, ident.lip, 0.065)

    if ident.glasses:
        for s in (-1, 1):
            canvas.line(_ellipse(s * ex, ey, erx * 1.5, erx * 1.2, n=24), (20, 20, 20), 0.035, closed=True)
        canvas.line(np.array([[-ex + erx * 1.5, ey], [ex - erx * 1.5, ey]]), (20, 20, 20), 0.03)
    return canvas.box(head)


def face_matrix(size: int, cx: float, cy: float, scale: float, angle_deg: float) -> np.ndarray:
    """Affine map from the canonical frame: head half-width ``scale`` px at ``(cx, cy)``."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * scale
    return np.concatenate([rot, [[cx], [cy]]], 1)


def background(rng: np.random.Generator, size: int, clutter: int) -> np.ndarray:
    """A colour gradient with ``clutter`` random shapes."""
    c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0, 1, size)[None, :, None]
    if rng.random() < 0.5:
        t = t.transpose(1, 0, 2)
    img = np.ascontiguousarray((c0 * (1 - t) + c1 * t).astype(np.uint8) * np.ones((size, size, 1), np.uint8))
    for _ in range(clutter):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = rng.integers(0, size, 2)
        k = rng.integers(3)
        if k == 0:
            cv2.circle(img, (int(x), int(y)), int(rng.integers(size // 16, size // 4)), color, -1)
        elif k == 1:
            x2, y2 = rng.integers(0, size, 2)
            cv2.rectangle(img, (int(x), int(y)), (int(x2), int(y2)), color, -1)
        else:
            x2, y2 = rng.integers(0, size, 2)
            cv2.line(img, (int(x), int(y)), (int(x2), int(y2)), color, int(rng.integers(1, max(2, size // 20))))
    return img


def occlude(rng: np.random.Generator, img: np.ndarray, box: np.ndarray, frac: float) -> None:
    """Cover about ``frac`` of the face box with a random opaque patch (hand, mask, object), in place."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    side = np.sqrt(frac)
    pw, ph = bw * side * rng.uniform(0.8, 1.25), bh * side * rng.uniform(0.8, 1.25)
    px, py = x1 + rng.uniform(0, max(bw - pw, 1e-3)), y1 + rng.uniform(0, max(bh - ph, 1e-3))
    color = tuple(int(v) for v in rng.integers(0, 256, 3))
    if rng.random() < 0.5:
        cv2.rectangle(img, (int(px), int(py)), (int(px + pw), int(py + ph)), color, -1)
    else:
        cv2.ellipse(img, (int(px + pw / 2), int(py + ph / 2)), (int(pw / 2), int(ph / 2)),
                    float(rng.uniform(0, 180)), 0, 360, color, -1)


def finish(rng: np.random.Generator, img: np.ndarray, out_size: int, blur_p: float, grey_p: float,
           noise_max: float) -> np.ndarray:
    """Lighting gradient, blur, noise, greyscale, then area-downsample to ``out_size``."""
    size = img.shape[0]
    g = rng.uniform(-0.35, 0.35, 2)
    yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
    light = rng.uniform(0.75, 1.15) * (1 + g[0] * xx + g[1] * yy)
    out = img.astype(np.float32) * light[..., None]
    if rng.random() < blur_p:
        k = int(rng.choice([3, 5, 7]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    out = cv2.resize(out, (out_size, out_size), interpolation=cv2.INTER_AREA)
    out += rng.normal(0, rng.uniform(0, noise_max), out.shape).astype(np.float32)
    if rng.random() < grey_p:
        out[:] = out.mean(2, keepdims=True)
    return np.clip(out, 0, 255).astype(np.uint8)


def render(rng: np.random.Generator, ident: Optional[Identity], au: Optional[np.ndarray], size: int,
           face_scale: Tuple[float, float] = (0.3, 0.36), max_angle: float = 20.0,
           occlusion: float = 0.0, clutter: int = 4, blur_p: float = 0.15, grey_p: float = 0.1,
           noise_max: float = 6.0, supersample: int = 2) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Render one RGB image of ``size`` x ``size``; with ``ident=None`` a face-free image.

    Returns:
        (img, box): ``img`` (H, W, 3) uint8 RGB, ``box`` the face's ``(x1, y1, x2, y2)``
        float32 in output pixels, or ``None`` when there is no face.
    """
    big = size * supersample
    img = background(rng, big, clutter)
    box = None
    if ident is not None:
        scale = rng.uniform(*face_scale) * big
        margin = big * 0.5 - scale * ident.head_w
        cx, cy = big / 2 + rng.uniform(-0.3, 0.3) * margin, big / 2 + rng.uniform(-0.2, 0.2) * margin
        canvas = Canvas(img, face_matrix(big, cx, cy, scale, rng.uniform(-max_angle, max_angle)))
        box = draw_face(canvas, ident, au)
        if occlusion > 0:
            occlude(rng, img, box, occlusion)
        box = np.clip(box, 0, big) / supersample
    out = finish(rng, img, size, blur_p, grey_p, noise_max)
    return out, (None if box is None else box.astype(np.float32))
