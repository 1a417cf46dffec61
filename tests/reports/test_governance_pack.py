"""The governance pack's headline tiles carry their captions, escaped, as the page shows them."""

from __future__ import annotations

from metrics.reports.governance_pack import governance_pack


def test_headline_tiles_with_captions_are_escaped() -> None:
    """A tile's caption lines follow its value; a two-item tile has none; every text is escaped."""
    pack = governance_pack(
        "Review",
        "Q3",
        [
            ("Follow-up attainment", "96.6 %", ["lowest: severity 1 follow-up 57.7 % (157/272)",
                                                "provisional: 135 still running"]),
            ("Escalations", "14.2 %", ["policy 300 · recorded 758"]),
            ("<b>Dev</b>", "3"),
        ],
        [],
        [],
    )
    assert (
        '<div class="label">Follow-up attainment</div><div class="value">96.6 %</div>'
        '<div class="caption">lowest: severity 1 follow-up 57.7 % (157/272)</div>'
        '<div class="caption">provisional: 135 still running</div></div>'
    ) in pack
    assert '<div class="value">14.2 %</div><div class="caption">policy 300 · recorded 758</div></div>' in pack
    assert '<div class="label">&lt;b&gt;Dev&lt;/b&gt;</div><div class="value">3</div></div>' in pack
