"""The README's picture of a digest draws what Slack shows."""

from xml.dom import minidom

from bot.demo.picture import BODY, TEXT_WIDTH, message_svg, runs, wrap

LONG = ("*Open pipeline:* 81 deals · USD 1,578,000 + CNY 1,142,000 + GBP 890,000 + EUR 805,000 + AUD 763,000 "
        "(+USD 4,000 vs last week) · *a bold phrase that is long enough to run onto the next line* and more")


def texts(line):
    return "".join(r.text for r in line).replace("\u00a0", " ")


def test_bold_only_where_slack_bolds_and_it_survives_a_wrap():
    assert [(r.text, r.bold) for r in runs("*Open:* 3 deals")] == [("Open:", True), (" 3 deals", False)]
    drawn = wrap(LONG, BODY, 500)
    assert len(drawn) >= 3
    first = drawn[0][1]
    assert "".join(r.text for r in first if r.bold).startswith("Open pipeline:")
    assert not any(r.bold for r in first if r.text.startswith(("81", "deals", "USD")))
    narrow = wrap(LONG, BODY, 300)
    bold_lines = [[r.text for r in line if r.bold and r.text.strip()] for _, line in narrow[1:]]
    assert " ".join(w for line in bold_lines for w in line) == "a bold phrase that is long enough to run onto the next line"
    assert sum(1 for line in bold_lines if line) >= 2  # the phrase wrapped, and is bold on each of its lines


def test_wraps_never_split_a_value_nor_start_with_a_dot():
    for width in range(300, 800, 17):
        for _, line in wrap(LONG, BODY, width):
            text = texts(line)
            assert not text.startswith("·")
            assert not text.rstrip().endswith(("USD", "+USD", "CNY", "GBP", "EUR", "AUD")), text


def test_a_wrapped_bullet_hangs_under_its_text_and_emoji_are_drawn():
    bullet = "• *D-7* 48 days in Project approved (limit 30); missing BANT authority, BANT timeline, economic buyer, coach (Joan Clarke)"
    drawn = wrap(bullet, BODY, 420)
    assert drawn[0][0] == 0 and all(indent > 0 for indent, _ in drawn[1:]) and len(drawn) > 1
    assert texts(runs(":rocket: moved")[0:1]) == "🚀 moved"


def test_the_svg_is_well_formed_with_buttons_and_grey_context():
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Pipeline digest"}},
              {"type": "section", "text": {"type": "mrkdwn", "text": LONG}},
              {"type": "context", "elements": [{"type": "mrkdwn", "text": "small print"}]},
              {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Add"},
                                                "style": "primary", "action_id": "a"}]}]
    svg = message_svg(blocks, when="Fri 09:00")
    doc = minidom.parseString(svg)
    assert 'fill="#616061"' in svg and ">small print<" in svg and ">Add<" in svg
    widths = [float(t.getAttribute("x")) for t in doc.getElementsByTagName("text")]
    assert max(widths) < 900 and TEXT_WIDTH > 700
    assert "*" not in svg  # no mrkdwn marks left
