"""A picture of a message (SVG), for the README and the demo's output folder.

It draws what Slack shows: mrkdwn bold, italic and code only where the marks are,
emoji codes as emoji, context blocks small and grey, buttons as buttons. Long lines
wrap at word boundaries, never inside a value (``USD 4,000``) nor before a ``·``;
a wrapped line keeps the style of the words it carries and a bullet's hanging indent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.demo.blocktext import emojize, unescape

WIDTH, PAD = 900, 24
TEXT_X = PAD + 48  # right of the app's avatar
TEXT_WIDTH = WIDTH - TEXT_X - PAD
NBSP = "\u00a0"

# Slack's inline marks: *bold*, _italic_, `code`, each within one line.
_MARK = re.compile(r"(?<![\w*])\*(?!\s)(?P<b>[^*\n]+?)\*(?![\w*])"
                   r"|(?<![\w_])_(?!\s)(?P<i>[^_\n]+?)_(?![\w_])"
                   r"|`(?P<c>[^`\n]+)`")
# Glue that keeps a value whole: "USD 4,000", "(+USD 4,000", and a "·" stays at the end of its line.
_MONEY = re.compile(r"(\b[A-Z]{3}) (?=[\d–-])")
_DOT = re.compile(r" ·(?= )")


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False


@dataclass(frozen=True)
class Style:
    size: float = 15
    color: str = "#1d1c1d"
    leading: float = 22
    bold: bool = False  # the whole line is bold (headers)


BODY = Style()
HEADER = Style(size=18, leading=30, bold=True)
CONTEXT = Style(size=13, color="#616061", leading=19)


def runs(line: str) -> list[Run]:
    """A line of mrkdwn as styled runs, the marks removed and emoji codes drawn."""
    out: list[Run] = []
    at = 0
    for m in _MARK.finditer(line):
        if m.start() > at:
            out.append(Run(line[at:m.start()]))
        if m.group("b") is not None:
            out.append(Run(m.group("b"), bold=True))
        elif m.group("i") is not None:
            out.append(Run(m.group("i"), italic=True))
        else:
            out.append(Run(m.group("c"), code=True))
        at = m.end()
    if at < len(line):
        out.append(Run(line[at:]))
    return [Run(emojize(r.text), r.bold, r.italic, r.code) for r in out if r.text]


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """An estimate of the drawn width of ``text`` in a sans-serif font, generous rather than short."""
    units = 0.0
    for ch in text:
        if ch in "il.,:;'|!()[]ıj" or ch == " " or ch == NBSP:
            units += 0.30
        elif ch in "fJrtI-":
            units += 0.38
        elif ch.isupper() or ch in "mwMW@%":
            units += 0.74
        elif ord(ch) > 0x2000:  # emoji, arrows, CJK: a full square
            units += 1.1
        elif ch.isdigit():  # tabular figures, as wide as DejaVu Sans draws them where Lato is missing
            units += 0.64
        else:
            units += 0.60
    return units * size * (1.07 if bold else 1.0)


def _words(line_runs: list[Run]) -> Iterator[tuple[Run, int]]:
    """Each word with its style, and how many spaces come before it (Slack keeps them all)."""
    spaces = 0
    for r in line_runs:
        text = _DOT.sub(NBSP + "·", _MONEY.sub(r"\1" + NBSP, r.text))
        for n, piece in enumerate(text.split(" ")):
            if n > 0:
                spaces += 1
            if piece:
                yield Run(piece, r.bold, r.italic, r.code), spaces
                spaces = 0


def wrap(line: str, style: Style, width: float) -> list[tuple[float, list[Run]]]:
    """The drawn lines of one text line: (indent, runs). A bullet's continuation lines hang under its text."""
    line_runs = runs(line)
    hang = 0.0
    bullet = re.match(r"^(\s*[•◦▪-] )", line)
    if bullet:
        hang = text_width(bullet.group(1), style.size)
    lines: list[tuple[float, list[Run]]] = []
    current: list[Run] = []
    used, indent = 0.0, 0.0
    for word, spaces in _words(line_runs):
        bold = word.bold or style.bold
        gap = text_width(" " * spaces, style.size) if current else 0.0
        w = text_width(word.text, style.size, bold=bold)
        if current and used + gap + w > width - indent:
            lines.append((indent, current))
            current, used, indent, gap = [], 0.0, hang, 0.0
        if gap:
            current.append(Run(" " * spaces, word.bold and current[-1].bold, word.italic and current[-1].italic))
        current.append(word)
        used += gap + w
    lines.append((indent, current))
    return lines


def _tspans(line: list[Run], style: Style) -> str:
    parts = []
    merged: list[Run] = []
    for r in line:  # neighbours of one style become one tspan
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code) == (r.bold, r.italic, r.code):
            merged[-1] = Run(merged[-1].text + r.text, r.bold, r.italic, r.code)
        else:
            merged.append(r)
    for r in merged:
        attrs = []
        if r.bold and not style.bold:
            attrs.append('font-weight="bold"')
        if r.italic:
            attrs.append('font-style="italic"')
        if r.code:
            attrs.append('font-family="Menlo, Consolas, monospace" fill="#e01e5a"')
        parts.append(f"<tspan {' '.join(attrs)}>{escape(r.text)}</tspan>" if attrs else escape(r.text))
    return "".join(parts)


# Fonts that draw Simplified Chinese, declared after the Latin ones (Debian: fonts-noto-cjk).
CJK_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '


def message_svg(blocks: Sequence[dict[str, Any]], *, sender: str = "Pipeline Coach", when: str = "",
                lang: str = "en") -> str:
    """The message as Slack draws it in a DM, as a standalone SVG."""
    body: list[str] = []
    y = PAD + 30.0

    def text(line: str, style: Style) -> None:
        nonlocal y
        if not line.strip():
            y += style.leading / 2
            return
        for indent, drawn in wrap(line, style, TEXT_WIDTH):
            y += style.leading
            weight = ' font-weight="bold"' if style.bold else ""
            body.append(f'<text x="{TEXT_X + indent:.0f}" y="{y - 6:.0f}" font-size="{style.size:g}" '
                        f'fill="{style.color}"{weight} xml:space="preserve">{_tspans(drawn, style)}</text>')

    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            text(_plain(b.get("text")), HEADER)
        elif kind == "section":
            for line in _plain(b.get("text")).splitlines() or [""]:
                text(line, BODY)
            for f in b.get("fields") or []:
                text(_plain(f), BODY)
        elif kind == "context":
            for line in "  ".join(_plain(e) for e in b.get("elements", [])).splitlines():
                text(line, CONTEXT)
        elif kind == "divider":
            y += 10
            body.append(f'<line x1="{TEXT_X}" x2="{WIDTH - PAD}" y1="{y:.0f}" y2="{y:.0f}" stroke="#e8e8e8"/>')
        elif kind == "actions":
            y += 8
            x = float(TEXT_X)
            for e in b.get("elements", []):
                if e.get("type") != "button":
                    continue
                label = emojize(_plain(e.get("text")))
                w = 28 + text_width(label, 14, bold=True)
                primary = e.get("style") == "primary"
                fill, stroke, ink = ("#007a5a", "#007a5a", "#ffffff") if primary else ("#ffffff", "#bbbbbb", "#1d1c1d")
                body.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="30" rx="4" fill="{fill}" '
                            f'stroke="{stroke}"/><text x="{x + w / 2:.0f}" y="{y + 20:.0f}" text-anchor="middle" '
                            f'font-weight="bold" font-size="14" fill="{ink}">{escape(label)}</text>')
                x += w + 8
            y += 38
    height = int(y + PAD)
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-size="15" xml:lang="{lang}" '
            f"font-family='Lato, Helvetica, Arial, {CJK_FONTS}sans-serif'>",
            f'<rect width="{WIDTH}" height="{height}" rx="10" fill="#ffffff" stroke="#dddddd"/>',
            f'<rect x="{PAD}" y="{PAD}" width="36" height="36" rx="6" fill="#4a154b"/>',
            f'<text x="{PAD + 18}" y="{PAD + 24}" fill="#fff" font-size="16" text-anchor="middle">PC</text>',
            f'<text x="{TEXT_X}" y="{PAD + 14}" font-weight="bold" fill="#1d1c1d">{escape(sender)}'
            f'<tspan fill="#616061" font-weight="normal" font-size="13" dx="8">{escape(when)}</tspan></text>']
    return "\n".join([*head, *body, "</svg>"])


def _plain(obj: Any) -> str:
    return unescape(str(obj.get("text", ""))) if isinstance(obj, dict) else ""
