"""Logs Insights in Chromium: a query returns rows, the histogram counts matching events over
time, and saved queries survive a reload (they are in the state store)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.web.conftest import Console, Watched

GROUP = "/console/insights"


@pytest.fixture(scope="module")
def events(console: Console) -> Iterator[int]:
    logs = console.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="web")
    now = int(time.time() * 1000)
    messages = [
        {"timestamp": now - (40 - i) * 60_000, "message": f'{{"job": "nightly", "n": {i}}}'}
        for i in range(40)
    ]
    messages += [{"timestamp": now - 5_000, "message": "unrelated line"}]
    logs.put_log_events(logGroupName=GROUP, logStreamName="web", logEvents=messages)
    yield 40


def run(web: Watched, query: str) -> None:
    web.page.select_option("#groups", GROUP)
    web.page.fill("#query", query)
    web.page.click("#run")
    web.page.wait_for_function("() => !document.querySelector('#run').disabled")


def test_a_query_returns_rows_and_a_histogram(web: Watched, events: int) -> None:
    web.goto("/ui/insights")
    run(web, 'fields @timestamp, job, n | filter job = "nightly" | sort n desc | limit 5')
    header = web.page.locator("#results thead th").all_inner_texts()
    assert header == ["#", "@timestamp", "job", "n"]
    cells = web.page.locator("#results tbody tr td:nth-child(4)").all_inner_texts()
    assert cells == ["39", "38", "37", "36", "35"]
    assert "40 records matched" in web.page.locator("#stats").inner_text()
    # The histogram counts every matching event (not just the 5 rows shown) per bin.
    assert web.page.locator("#histogram-panel").is_visible()
    bars = web.page.locator("#histogram svg rect.bar")
    assert bars.count() > 1
    titles = bars.evaluate_all("bs => bs.map(b => b.querySelector('title').textContent)")
    assert sum(int(t.split(": ")[1].split()[0]) for t in titles) == events


def test_a_stats_query_has_no_histogram(web: Watched, events: int) -> None:
    web.goto("/ui/insights")
    run(web, "stats count(*) as total by job")
    rows = web.page.locator("#results tbody tr")
    texts = {tuple(r.locator("td").all_inner_texts()[1:]) for r in rows.all()}
    assert ("nightly", "40") in texts
    assert web.page.locator("#histogram-panel").is_hidden()


def test_a_malformed_query_shows_the_error(events: int, web: Watched) -> None:
    web.goto("/ui/insights")
    run(web, "fields @message | filter (")
    assert "MalformedQueryException" in web.page.locator("#notice").inner_text()
    # The 400 the browser logged is the answer this test asked for.
    web.problems[:] = [p for p in web.problems if "status of 400" not in p]


def test_saved_queries_are_kept(web: Watched, events: int) -> None:
    web.goto("/ui/insights")
    web.page.select_option("#groups", GROUP)
    web.page.fill("#query", "fields n | filter n > 30")
    web.page.fill("#save-name", "late runs")
    web.page.click("#save")
    web.page.wait_for_function("() => document.querySelector('#saved').selectedIndex > 0")

    web.goto("/ui/insights")  # a fresh page: the query comes back from the store
    web.page.wait_for_selector("#saved option:nth-child(2)", state="attached")
    web.page.select_option("#saved", label="late runs")
    assert web.page.input_value("#query") == "fields n | filter n > 30"
    web.page.click("#run")
    web.page.wait_for_function("() => !document.querySelector('#run').disabled")
    assert web.page.locator("#results tbody tr").count() == 9

    web.page.click("#delete-saved")
    web.page.wait_for_function("() => document.querySelector('#saved').options.length === 1")


def test_a_histogram_bar_narrows_the_time_range(web: Watched, events: int) -> None:
    web.goto("/ui/insights")
    run(web, 'fields n | filter job = "nightly"')
    bars = web.page.locator("#histogram svg rect.bar")
    assert bars.count() > 1
    label = bars.last.get_attribute("aria-label") or ""
    count = int(label.split()[0])
    assert 0 < count < events
    bars.last.click()
    web.page.wait_for_function(
        f"() => document.querySelectorAll('#results tbody tr').length === {count}"
    )
    assert web.page.input_value("#range") == "custom"
    assert f"{count} records matched" in web.page.locator("#stats").inner_text()


def test_custom_range_fields_show_only_for_a_custom_range(web: Watched) -> None:
    web.goto("/ui/insights")
    assert web.page.locator("#from").is_hidden()
    web.page.select_option("#range", "custom")
    assert web.page.locator("#from").is_visible() and web.page.locator("#to").is_visible()
