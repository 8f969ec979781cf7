"""Block Kit, readable: as terminal text (buttons numbered, to click by number) and as HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import emoji

from bot import i18n
from bot.i18n import _

_LINK = re.compile(r"<([^|>]+)\|([^>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")


def unescape(text: str) -> str:
    """Slack's escaping (&lt; &gt; &amp;) and links, back to what a person reads."""
    text = _LINK.sub(r"\2", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return unescape(str(obj.get("text", "")))
    return ""


def _element(e: dict[str, Any]) -> str:
    kind = e.get("type")
    if kind == "plain_text_input":
        return f"[{e.get('initial_value') or '…'}]"
    if kind == "datepicker":
        initial = e.get("initial_date")
        shown = i18n.full_day(date.fromisoformat(initial)) if initial else _("pick a date")
        return f"[{shown}]"
    if kind == "static_select":
        init = (e.get("initial_option") or {}).get("text", {}).get("text")
        choose = init or _("choose")
        return f"[{choose} ▾]"
    if kind == "checkboxes":
        chosen = {o["value"] for o in e.get("initial_options") or []}
        return "  ".join(f"{'☑' if o['value'] in chosen else '☐'} {_text_of(o.get('text'))}"
                         for o in e.get("options", []))
    return f"[{kind}]"


def to_text(blocks: Sequence[dict[str, Any]], *, first_button: int = 1) -> tuple[list[str], int]:
    """Lines to print, and how many buttons were numbered."""
    lines: list[str] = []
    n = first_button
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            lines.append(f"## {_text_of(b.get('text'))}")
        elif kind == "section":
            if b.get("text"):
                lines.extend(_text_of(b["text"]).splitlines())
            for f in b.get("fields") or []:
                lines.append("  " + _text_of(f))
            acc = b.get("accessory") or {}
            if acc.get("type") == "button":
                lines.append(f"  [{n}{i18n.colon()}{_text_of(acc.get('text'))}]")
                n += 1
        elif kind == "context":  # smaller grey text in Slack: indented here, every line of it
            lines.extend("  " + line for line in "  ".join(_text_of(e) for e in b.get("elements", [])).splitlines())
        elif kind == "divider":
            lines.append("")
        elif kind == "actions":
            parts = []
            for e in b.get("elements", []):
                if e.get("type") == "button":
                    parts.append(f"[{n}{i18n.colon()}{_text_of(e.get('text'))}]")
                    n += 1
            lines.append("  ".join(parts))
        elif kind == "input":
            optional = (" " if i18n.current() == "en" else "") + _("(optional)") if b.get("optional") else ""
            lines.append(f"▸ {_text_of(b.get('label'))}{optional}{i18n.colon()}{_element(b.get('element') or {})}")
    return lines, n - first_button


# -- HTML --------------------------------------------------------------------------------------

def emojize(text: str) -> str:
    """Slack's emoji codes (``:rocket:``) as the emoji Slack shows; a code Slack doesn't know stays as typed."""
    return emoji.emojize(text, language="alias")


def _mrkdwn_html(text: str) -> str:
    out = html.escape(unescape(text))
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    return emojize(out).replace("\n", "<br>")


def _element_html(e: dict[str, Any]) -> str:
    kind = e.get("type")
    if kind == "checkboxes":
        chosen = {o["value"] for o in e.get("initial_options") or []}
        return "".join(f'<label class="cb"><input type="checkbox" disabled{" checked" if o["value"] in chosen else ""}>'
                       f" {html.escape(_text_of(o.get('text')))}</label>" for o in e.get("options", []))
    return f'<span class="input">{html.escape(_element(e).strip("[]"))}</span>'


def to_html(blocks: Sequence[dict[str, Any]]) -> str:
    parts: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            parts.append(f"<h3>{html.escape(_text_of(b.get('text')))}</h3>")
        elif kind == "section":
            body = _mrkdwn_html(str((b.get("text") or {}).get("text", "")))
            acc = b.get("accessory") or {}
            if acc.get("type") == "button":
                body += f' <span class="btn">{html.escape(_text_of(acc.get("text")))}</span>'
            fields = "".join(f"<div>{_mrkdwn_html(str(f.get('text', '')))}</div>" for f in b.get("fields") or [])
            parts.append(f'<div class="section">{body}{fields}</div>')
        elif kind == "context":
            parts.append('<div class="context">' + " ".join(_mrkdwn_html(str(e.get("text", "")))
                                                           for e in b.get("elements", [])) + "</div>")
        elif kind == "divider":
            parts.append("<hr>")
        elif kind == "actions":
            parts.append('<div class="actions">' + "".join(
                f'<span class="btn{" primary" if e.get("style") == "primary" else ""}">'
                f"{html.escape(_text_of(e.get('text')))}</span>"
                for e in b.get("elements", []) if e.get("type") == "button") + "</div>")
        elif kind == "input":
            parts.append(f'<div class="field"><div class="label">{html.escape(_text_of(b.get("label")))}</div>'
                         f"{_element_html(b.get('element') or {})}</div>")
    return "\n".join(parts)


def view_html(view: dict[str, Any]) -> str:
    """A form as Slack draws it: its title on top, its fields, then Cancel and Submit."""
    title = html.escape(_text_of(view.get("title")))
    close = html.escape(_text_of(view.get("close")) or "Cancel")
    submit = html.escape(_text_of(view.get("submit")) or "Submit")
    return (f'<div class="modal-title">{emojize(title)}</div>{to_html(view.get("blocks") or [])}'
            f'<div class="modal-foot"><span class="btn">{close}</span>'
            f'<span class="btn primary">{submit}</span></div>')


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.45 -apple-system, "Segoe UI", Roboto, {cjk} sans-serif; background: #f4f4f6; margin: 2rem auto;
       max-width: 860px; color: #1d1c1d; }}
.card {{ background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 1rem 1.2rem; margin: 1rem 0; }}
.meta {{ color: #616061; font-size: 13px; margin-bottom: .5rem; }}
.modal {{ border-left: 4px solid #1264a3; }} .errors {{ border-left: 4px solid #e01e5a; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; margin-top: 2rem; }} h3 {{ margin: .2rem 0 .6rem; }}
.context {{ color: #616061; font-size: 13px; }}
.section, .context {{ white-space: pre-wrap; }}  /* Slack keeps every space a message has */
.btn {{ display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 2px 10px; margin: 4px 6px 0 0;
        font-size: 13px; font-weight: 600; }}
.btn.primary {{ background: #007a5a; color: #fff; border-color: #007a5a; }}
.field {{ margin: .5rem 0; }} .label {{ font-weight: 600; font-size: 14px; }}
.input {{ display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 2px 8px; min-width: 12rem;
          color: #616061; }}
.cb {{ display: block; font-size: 14px; }} code {{ background: #f0f0f0; padding: 0 3px; }}
hr {{ border: 0; border-top: 1px solid #eee; }}
.modal-title {{ font-size: 18px; font-weight: 700; padding-bottom: .6rem; margin-bottom: .6rem;
               border-bottom: 1px solid #eee; }}
.modal-foot {{ text-align: right; border-top: 1px solid #eee; margin-top: .8rem; padding-top: .6rem; }}
.meta a {{ color: inherit; }}
</style></head><body>
{body}
</body></html>
"""


# Fonts that draw Simplified Chinese, after the Latin ones (Debian: fonts-noto-cjk).
CJK_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",'


def page(title: str, body: str, *, lang: str = "en") -> str:
    return PAGE.format(title=html.escape(title), body=body, lang=html.escape(lang),
                       cjk=CJK_FONTS if lang.startswith("zh") else "")


def field_label(view: dict[str, Any] | None, block_id: str) -> str:
    """What a person sees for a form field, for error messages keyed by block id."""
    for b in (view or {}).get("blocks", []):
        if b.get("block_id") == block_id and b.get("label"):
            return _text_of(b["label"])
    return block_id
