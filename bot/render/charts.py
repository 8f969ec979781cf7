"""Charts as PNG (matplotlib, no display needed): the funnel, the week's waterfall, plan vs actual.

Each chart is drawn from a small plain-data object (built by ``bot.services.charts``),
sized to stay readable in Slack's preview (about 360 px wide in a message, larger
when opened), with every bar labelled with its number, amounts in the viewer's currency.
"""

from __future__ import annotations

import io
import logging
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # a bare Figure needs no display and no pyplot state: safe in threads

from bot import i18n
from bot.domain.charts import ActivityData, ChartSpec, FunnelData, FunnelStage, WaterfallData
from bot.i18n import _, ngettext

# Chinese labels draw from a CJK font, glyph by glyph after the Latin one (matplotlib >= 3.6 falls back
# along font.family). The package brings its own: Noto Sans SC (SIL OFL 1.1) from the
# `pylopdf-fonts-zh-cn` dependency. A system font is used if that is missing (on Debian
# `apt-get install fonts-noto-cjk` or fonts-wqy-zenhei); a font cache built before such fonts were
# installed does not know them, so they are added from the system's font files.
CJK_FONTS = ("Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Droid Sans Fallback")
CJK_FILES = ("SansCJK", "SourceHanSans", "wqy-", "DroidSansFallback")  # where those fonts' files are named so
NO_CJK_FONT = ("Pipeline Coach: no CJK font found, so Chinese chart labels will show as boxes; "
               "install the pylopdf-fonts-zh-cn package (a dependency) or a system CJK font such as fonts-noto-cjk")

log = logging.getLogger(__name__)


def _bundled_cjk_font() -> None:
    """Register the Noto Sans SC that the ``pylopdf-fonts-zh-cn`` package ships, if it is installed."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return
    path = pylopdf_fonts_zh_cn.sans_path()
    if path.is_file():
        try:
            font_manager.fontManager.addfont(str(path))
        except (OSError, RuntimeError, ValueError):  # an unreadable font file: do without it
            return


def _cjk_fonts() -> list[str]:
    _bundled_cjk_font()
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not known & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if any(part in path for part in CJK_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # an unreadable font file: do without it
                    continue
        known = {f.name for f in font_manager.fontManager.ttflist}
    found = [name for name in CJK_FONTS if name in known]
    if not found:
        log.warning(NO_CJK_FONT)
    return found[:1]  # one is enough: each further one is searched for every missing glyph


matplotlib.rcParams["font.family"] = ["DejaVu Sans", *_cjk_fonts()]

__all__ = ["ActivityData", "ChartFile", "FunnelData", "FunnelStage", "WaterfallData", "activity_png", "drawn",
           "funnel_png", "waterfall_png"]

WIDTH, HEIGHT, DPI = 8.0, 5.0, 120  # 960 x 600 px: text stays legible scaled down to Slack's preview
NOTE_WIDTH = 100  # characters per line of the note under a chart
INK, MUTED, GRID = "#1d1c1d", "#616061", "#dddddd"
BLUE, GREEN, RED, GREY, AMBER = "#1264a3", "#2eb67d", "#e01e5a", "#9e9ea6", "#ecb22e"


def short_amount(value: Decimal | float) -> str:
    """``1.2M``, ``340k``, ``950``: short enough to sit on a bar."""
    v = float(value)
    return ("−" if v < 0 else "") + i18n.short_number(abs(v))


def _money(value: Decimal | float, currency: str) -> str:
    """An amount on a chart in the reader's language: ``AUD 1.2M`` / ``约120万澳元`` (bot.i18n.short_money)."""
    return i18n.short_money(value, currency)


def _figure() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    ax = fig.add_subplot()
    fig.patch.set_facecolor("white")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GRID)
    ax.tick_params(colors=INK, labelsize=12, length=0)
    return fig, ax


def _png(fig: Figure, title: str, note: str) -> bytes:
    fig.suptitle(title, x=0.02, y=0.97, ha="left", fontsize=16, fontweight="bold", color=INK)
    wide = sum(1 for ch in note if unicodedata.east_asian_width(ch) in "WF")  # a CJK glyph is two columns wide
    width = NOTE_WIDTH if not wide else max(20, NOTE_WIDTH * len(note) // (len(note) + wide))
    note = i18n.tidy(note)  # notes joined with a space read as one text in Chinese too
    lines = textwrap.wrap(note, width) if note else []
    if lines:
        fig.text(0.02, 0.015, "\n".join(lines), fontsize=10.5, color=MUTED, ha="left", va="bottom", linespacing=1.3)
    fig.tight_layout(rect=(0, 0.015 + 0.04 * len(lines), 1, 0.92))
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def funnel_png(data: FunnelData) -> bytes:
    """Horizontal bars, widest stage on top, centred like a funnel; count and amount on each,
    the conversion to the next stage between bars."""
    fig, ax = _figure()
    n = len(data.stages)
    widest = max((s.count for s in data.stages), default=0) or 1
    for i, s in enumerate(data.stages):
        y = n - 1 - i
        w = max(s.count / widest, 0.02)
        ax.barh(y, w, left=(1 - w) / 2, height=0.62, color=BLUE if s.count else GRID, zorder=2)
        label = f"{s.count} · {_money(s.amount, data.currency)}" if s.count else "0"
        inside = w > 0.42
        ax.text(0.5 if inside else (1 + w) / 2 + 0.015, y, label, va="center", ha="center" if inside else "left",
                fontsize=12.5, fontweight="bold", color="white" if inside else INK, zorder=3)
        if i < len(data.conversions):
            went, reached = data.conversions[i]
            if reached:
                onto = " " + _("won") if i == n - 1 else ""
                of = _("%(to)s of %(of)s") % {"to": went, "of": reached}
                text = f"↓ {went / reached:.0%}{onto} " + i18n.aside(of)
                ax.text(0.5, y - 0.5, text, va="center", ha="center", fontsize=10.5, color=MUTED, zorder=3,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    ax.set_yticks(range(n), [s.name for s in reversed(data.stages)], fontsize=12.5)
    ax.set_xticks([])
    ax.set_xlim(-0.02, 1.3)
    ax.set_ylim(-0.6, n - 0.4)
    ax.spines["bottom"].set_visible(False)
    return _png(fig, data.title, data.note)


def _floor(levels: Sequence[float]) -> float:
    """Where the amount axis starts: zero, unless the movements would be slivers on tall bars;
    then low enough under the lowest level that they get about a third of the height."""
    low, high = min(levels), max(levels)
    span = high - low
    if low <= 0 or span <= 0 or low < 2 * span:
        return 0.0
    floor = low - 1.5 * span
    digits = 10 ** max(0, len(str(int(floor))) - 2)  # two significant digits, rounded down
    return float(int(floor // digits) * digits)


def waterfall_png(data: WaterfallData) -> bytes:
    """Last week's open pipeline, each movement as a floating bar (green up, red down), this week's.

    When the movements are small against the totals, the axis starts above zero (said on the
    chart, and the totals' bars are marked as cut) so the movements can be seen.
    """
    fig, ax = _figure()
    labels = [_("Last week"), *[s[0] for s in data.steps], _("This week")]
    running = [float(data.start)]
    for _label, amount, _count in data.steps:
        running.append(running[-1] + float(amount))
    floor = _floor([*running, float(data.end)])
    bottoms, heights, colours = [floor], [float(data.start) - floor], [GREY]
    texts = [_money(data.start, data.currency)]
    for (_label, amount, count), level in zip(data.steps, running, strict=False):
        a = float(amount)
        bottoms.append(level if a >= 0 else level + a)
        heights.append(abs(a))
        colours.append(GREEN if a > 0 else RED if a < 0 else GRID)
        sign = "+" if a > 0 else ""
        moved = i18n.short_money(a, "", approx=False)
        texts.append(f"{sign}{moved}\n" + ngettext("%(num)s deal", "%(num)s deals", count) % {"num": count}
                     if count else "0")
    bottoms.append(floor)
    heights.append(float(data.end) - floor)
    colours.append(BLUE)
    texts.append(_money(data.end, data.currency))
    xs = range(len(labels))
    ax.bar(xs, heights, bottom=bottoms, color=colours, width=0.62, zorder=2)
    top = max(b + h for b, h in zip(bottoms, heights, strict=True))
    room = (top - floor) or 1
    for x, b, h, t in zip(xs, bottoms, heights, texts, strict=True):
        ax.text(x, b + h + room * 0.02, t, ha="center", va="bottom", fontsize=11.5, fontweight="bold", color=INK)
    for x, level in enumerate(running):  # connectors at the running level between bars
        ax.plot([x + 0.31, x + 0.69], [level, level], color=MUTED, linewidth=0.8, zorder=1)
    ax.set_xticks(list(xs), labels, fontsize=12)
    ax.set_yticks([])
    ax.set_ylim(floor, top + room * 0.25)
    note = data.note
    if floor:
        for x in (0, len(labels) - 1):  # the cut: the totals' bars do not start at zero
            ax.text(x, floor + room * 0.06, "≈", ha="center", va="center", fontsize=20, color="white", zorder=3)
        note = _("The scale starts at %(amount)s, not 0, so the movements show.") % {
            "amount": _money(floor, data.currency)} + " " + note
    return _png(fig, data.title, note)


def activity_png(data: ActivityData) -> bytes:
    """Pairs of bars per activity: what the plan needs in a week, and what was done last week."""
    fig, ax = _figure()
    xs = list(range(len(data.labels)))
    width = 0.36
    planned = [p if p is not None else 0 for p in data.planned]
    actual = [a if a is not None else 0 for a in data.actual]
    ax.bar([x - width / 2 for x in xs], planned, width, color=GREY, label=_("Plan, per week"), zorder=2)
    colours = [GREEN if a >= p else AMBER for a, p in zip(actual, planned, strict=True)]
    ax.bar([x + width / 2 for x in xs], actual, width, color=colours, label=_("Done last week"), zorder=2)
    top = max([*planned, *actual, 1])
    for x, p, a, raw in zip(xs, planned, actual, data.actual, strict=True):
        ax.text(x - width / 2, p + top * 0.015, f"{p:g}", ha="center", va="bottom", fontsize=12, color=INK)
        ax.text(x + width / 2, a + top * 0.015, "–" if raw is None else f"{a}", ha="center", va="bottom",
                fontsize=12, fontweight="bold", color=INK)
    ax.set_xticks(xs, data.labels, fontsize=13)
    ax.set_yticks([])
    ax.set_ylim(0, top * 1.2)
    ax.legend(frameon=False, fontsize=11.5, loc="upper left")
    return _png(fig, data.title, data.note)


@dataclass(frozen=True)
class ChartFile:
    """A drawn chart, ready to upload."""

    kind: str
    filename: str
    title: str
    alt: str
    data: bytes  # PNG


def drawn(specs: Sequence[ChartSpec]) -> list[ChartFile]:
    """Each chart drawn as a PNG file."""
    out = []
    for c in specs:
        if isinstance(c.data, FunnelData):
            png = funnel_png(c.data)
        elif isinstance(c.data, WaterfallData):
            png = waterfall_png(c.data)
        else:
            png = activity_png(c.data)
        out.append(ChartFile(c.kind, c.filename, c.title, c.alt, png))
    return out
