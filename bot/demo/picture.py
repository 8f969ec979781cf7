"""A picture of a message (SVG), for the README and the demo's output folder."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from html import escape
from typing import Any

from bot.demo.blocktext import to_text

WIDTH, PAD, LINE, WRAP = 900, 24, 21, 100


def message_svg(blocks: Sequence[dict[str, Any]], *, sender: str = "Pipeline Coach", when: str = "") -> str:
    lines, _ = to_text(blocks)
    rows: list[tuple[str, str]] = []  # (style, text)
    for line in lines:
        plain = line.replace("*", "").replace("_", "")
        if line.startswith("## "):
            rows.append(("h", plain[3:]))
        elif line.startswith("[") and line.endswith("]"):
            rows.append(("b", plain))
        elif not plain.strip():
            rows.append(("gap", ""))
        else:
            style = "s" if line.startswith("*") and line.count("*") >= 2 else "t"
            # Bold text runs wider: wrap it sooner.
            for n, part in enumerate(textwrap.wrap(plain, WRAP - 12 if style == "s" else WRAP) or [""]):
                rows.append((style if n == 0 else "t", ("    " if n else "") + part))
    height = PAD * 2 + 34 + sum(8 if s == "gap" else 30 if s == "b" else LINE for s, _ in rows)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="Lato, Helvetica, Arial, sans-serif" font-size="14">',
           f'<rect width="{WIDTH}" height="{height}" rx="10" fill="#ffffff" stroke="#dddddd"/>',
           f'<rect x="{PAD}" y="{PAD}" width="36" height="36" rx="6" fill="#4a154b"/>',
           f'<text x="{PAD + 18}" y="{PAD + 24}" fill="#fff" font-size="16" text-anchor="middle">PC</text>',
           f'<text x="{PAD + 48}" y="{PAD + 14}" font-weight="bold" fill="#1d1c1d">{escape(sender)}'
           f'<tspan fill="#616061" font-weight="normal" dx="8">{escape(when)}</tspan></text>']
    y = PAD + 40
    for style, text in rows:
        x = PAD + 48
        if style == "gap":
            y += 8
            continue
        if style == "b":
            x0 = x
            for label in (p.strip("[]").split(": ", 1)[-1] for p in text.split("]  [")):
                w = 16 + 7.5 * len(label)
                out.append(f'<rect x="{x0}" y="{y}" width="{w:.0f}" height="24" rx="4" fill="#fff" stroke="#bbbbbb"/>'
                           f'<text x="{x0 + w / 2:.0f}" y="{y + 16}" text-anchor="middle" font-weight="bold" '
                           f'fill="#1d1c1d" font-size="13">{escape(label)}</text>')
                x0 += w + 8
            y += 30
            continue
        y += LINE
        weight = ' font-weight="bold"' if style in ("h", "s") else ""
        size = ' font-size="17"' if style == "h" else ""
        out.append(f'<text x="{x}" y="{y - 5}"{weight}{size} fill="#1d1c1d">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out)
