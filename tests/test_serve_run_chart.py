"""The run page's SVG (serve/run_chart.py): the status bar spans the rows by their counts,
and the rows answered per interval show a stretch that waited (a throttle) as slow."""

from __future__ import annotations

from bulkedit.serve.run_chart import BUCKETS, RATE, WIDTH, chart


def test_the_status_bar_is_the_rows_by_status_end_to_end():
    drawn = chart({"updated": 6, "conflict": 2, "skipped": 4}, [])
    assert [(s.status, s.count) for s in drawn.segments] == [
        ("conflict", 2), ("skipped", 4), ("updated", 6)]
    assert [s.width for s in drawn.segments] == [100.0, 200.0, 300.0]
    assert [s.x for s in drawn.segments] == [0.0, 100.0, 300.0]
    assert drawn.columns == ()  # no answers yet: no rate to draw


def test_a_stretch_with_no_answers_is_marked_slow():
    # 10 rows a second for 30 s, but nothing from second 10 to 19 (a 429's Retry-After).
    times = [second + tenth / 10 for second in range(30) if not 10 <= second < 20
             for tenth in range(10)]
    drawn = chart({"updated": len(times)}, times)
    assert len(drawn.columns) == BUCKETS and sum(c.count for c in drawn.columns) == len(times)
    slow = [i for i, c in enumerate(drawn.columns) if c.slow]
    assert slow and all(9 <= i <= 20 for i in slow) and len(slow) >= 8
    assert max(c.height for c in drawn.columns) == RATE
    assert drawn.columns[-1].x + drawn.columns[-1].width <= WIDTH
