"""Area maps as inline SVG from the `areas.polygon_wkt` column: no tile server, works offline.

`parse_wkt` reads the simple polygons the data holds (POLYGON / MULTIPOLYGON, EPSG:25832 metres);
`svg_map` projects them into an SVG view box (north up, equal scale on both axes) and draws one
element per area carrying `data-area-id`, a text label for screen readers (`<title>`), a fill and a
pattern per status (so no information is given by colour alone), and optionally a link.

Areas far smaller than a pixel at the map's scale (the national map spans 450 km) are drawn
enlarged around their centre to `min_size` pixels, so they can be seen and clicked; the map says
so in its description. Areas without a polygon are left out (the caller lists them).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from boligmix.errors import DataValidationError

Ring = list[tuple[float, float]]
Polygon = list[Ring]
"""Outer ring first, then holes."""


@dataclass(frozen=True)
class Shape:
    """One area to draw: id, label (for people), polygons, status key, link (or None)."""

    area_id: str
    label: str
    polygons: list[Polygon]
    status: str
    href: str | None = None


@dataclass(frozen=True)
class Style:
    """How a status is drawn: fill colour, SVG pattern id (or None for a plain fill), legend text."""

    fill: str
    pattern: str | None
    legend: str


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_wkt(text: str | None, *, where: str = "polygon_wkt") -> list[Polygon]:
    """POLYGON((x y, ...), (hole)) or MULTIPOLYGON(((...)), ((...))) as a list of polygons.

    None or an empty string gives []; anything else that is not such a polygon raises
    DataValidationError naming `where`."""
    if text is None or not text.strip():
        return []
    body = text.strip()
    head = body.split("(", 1)[0].strip().upper()
    if head not in ("POLYGON", "MULTIPOLYGON"):
        raise DataValidationError(f"expected a WKT POLYGON or MULTIPOLYGON, got '{body[:40]}'", column=where)
    inner = body[len(body.split("(", 1)[0]):]
    polygons: list[Polygon] = []
    try:
        if head == "POLYGON":
            polygons.append(_rings(inner.strip()[1:-1]))
        else:
            for part in re.findall(r"\(\s*(\(.*?\)(?:\s*,\s*\(.*?\))*)\s*\)", inner.strip()[1:-1]):
                polygons.append(_rings(part))
    except ValueError as exc:
        raise DataValidationError(f"bad WKT coordinates: {exc}", column=where) from None
    if not polygons or any(len(p[0]) < 3 for p in polygons):
        raise DataValidationError(f"a polygon needs at least three points: '{body[:40]}'", column=where)
    return polygons


def _rings(text: str) -> Polygon:
    rings: Polygon = []
    for ring in re.findall(r"\(([^()]*)\)", text):
        points = []
        for pair in ring.split(","):
            xy = re.findall(_NUM, pair)
            if len(xy) < 2:
                raise ValueError(f"'{pair.strip()}' is not an 'x y' pair")
            points.append((float(xy[0]), float(xy[1])))
        rings.append(points)
    if not rings:
        raise ValueError("no ring")
    return rings


def bounds(shapes: Sequence[Shape]) -> tuple[float, float, float, float] | None:
    xs = [x for s in shapes for p in s.polygons for x, _ in p[0]]
    ys = [y for s in shapes for p in s.polygons for _, y in p[0]]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def svg_map(shapes: Sequence[Shape], styles: Mapping[str, Style], *, width: int = 640, height: int = 520,
            min_size: float = 9.0, margin: float = 14.0, title: str = "", description: str = "",
            highlight: str | None = None, id_prefix: str = "m",
            text: Callable[[str], str] | None = None) -> str:
    """An inline `<svg>` with one `<path data-area-id=...>` per area (inside an `<a>` when it has
    a link), the status patterns in `<defs>`, and `<title>`/`<desc>` for screen readers.

    `highlight` draws that area with a thick outline (the area page's small map)."""
    drawn = [s for s in shapes if s.polygons]
    box = bounds(drawn)
    esc = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bm-map" viewBox="0 0 {width} {height}" '
             f'width="100%" role="group" aria-labelledby="{id_prefix}-title {id_prefix}-desc">',
             f'<title id="{id_prefix}-title">{esc(title)}</title><desc id="{id_prefix}-desc">{esc(description)}</desc>',
             _defs(styles, id_prefix),
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f4f6f8" stroke="#8a94a0"/>']
    if box is not None:
        x0, y0, x1, y1 = box
        span = max(x1 - x0, y1 - y0, 1.0)
        scale = min((width - 2 * margin) / max(x1 - x0, span * 1e-3, 1.0),
                    (height - 2 * margin) / max(y1 - y0, span * 1e-3, 1.0))
        ox = margin + ((width - 2 * margin) - (x1 - x0) * scale) / 2
        oy = margin + ((height - 2 * margin) - (y1 - y0) * scale) / 2

        def project(x: float, y: float) -> tuple[float, float]:
            return ox + (x - x0) * scale, height - (oy + (y - y0) * scale)

        order = sorted(drawn, key=lambda s: (s.area_id == highlight, s.area_id))
        for shape in order:
            d = _path(shape.polygons, project, min_size)
            style = styles.get(shape.status)
            fill = style.fill if style else "#ccc"
            stroke = ' stroke="#000" stroke-width="3"' if shape.area_id == highlight else \
                ' stroke="#222" stroke-width="0.8"'
            label = esc(shape.label)
            path = (f'<path d="{d}" data-area-id="{esc(shape.area_id)}" data-status="{esc(shape.status)}" '
                    f'fill="{fill}"{stroke} vector-effect="non-scaling-stroke"><title>{label}</title></path>')
            if style and style.pattern:
                path += (f'<path d="{d}" fill="url(#{id_prefix}-{style.pattern})" stroke="none" '
                         f'pointer-events="none" aria-hidden="true"/>')
            if shape.href:
                parts.append(f'<a href="{esc(shape.href)}" class="bm-area" aria-label="{label}">{path}</a>')
            else:
                parts.append(f'<g class="bm-area">{path}</g>')
    parts.append("</svg>")
    return "".join(parts)


def legend_swatch(style: Style, id_prefix: str = "m", size: int = 18) -> str:
    """A small SVG square drawn like the map's areas of `style` (fill plus pattern), for the legend."""
    pattern = (f'<rect width="{size}" height="{size}" fill="url(#{id_prefix}-{style.pattern})"/>'
               if style.pattern else "")
    return (f'<svg width="{size}" height="{size}" aria-hidden="true" focusable="false">'
            f'<rect width="{size}" height="{size}" fill="{style.fill}" stroke="#222"/>{pattern}</svg>')


_PATTERNS = {
    "hatch": '<path d="M0,8 L8,0" stroke="#000" stroke-width="1.4"/>',
    "crosshatch": '<path d="M0,8 L8,0 M0,0 L8,8" stroke="#000" stroke-width="1.2"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="#000"/>',
    "vertical": '<path d="M4,0 L4,8" stroke="#000" stroke-width="1.3"/>',
    "horizontal": '<path d="M0,4 L8,4" stroke="#000" stroke-width="1.3"/>',
}
PATTERNS = tuple(_PATTERNS)


def _defs(styles: Mapping[str, Style], id_prefix: str) -> str:
    used = sorted({s.pattern for s in styles.values() if s.pattern})
    unknown = [p for p in used if p not in _PATTERNS]
    if unknown:
        raise ValueError(f"unknown map patterns {unknown}; use {PATTERNS}")
    defs = "".join(f'<pattern id="{id_prefix}-{p}" width="8" height="8" patternUnits="userSpaceOnUse">'
                   f'{_PATTERNS[p]}</pattern>' for p in used)
    return f"<defs>{defs}</defs>"


def _path(polygons: list[Polygon], project: Callable[[float, float], tuple[float, float]], min_size: float) -> str:
    rings = [[project(x, y) for x, y in ring] for poly in polygons for ring in poly]
    xs = [x for r in rings for x, _ in r]
    ys = [y for r in rings for _, y in r]
    w, h = max(xs) - min(xs), max(ys) - min(ys)
    if max(w, h) < min_size:  # too small to see or click: enlarge around the centre
        cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
        f = min_size / max(w, h, 1e-9)
        rings = [[(cx + (x - cx) * f, cy + (y - cy) * f) for x, y in r] for r in rings]
    return " ".join("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in r) + " Z" for r in rings)
