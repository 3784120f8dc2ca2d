"""The benchmarks still run against the app: small sizes, failures only (no timing asserted)."""

from __future__ import annotations

from bench import growth


def test_growth_benchmark_runs_every_query_on_books_it_wrote_itself():
    # growth.measure writes books (and their shelf index) straight to the database, then checks
    # the API counts exactly the shelf it wrote before timing each query.
    figures = growth.measure(sizes=(20, 120), others=200)

    assert set(figures.latencies) == set(growth.QUERIES)
    for query, row in figures.latencies.items():
        assert set(row) == {20, 120}, query
        assert [latency.failure for latency in row.values()] == [None, None], query
