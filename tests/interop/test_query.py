"""Foreground scans and queries: partition filters, bins, expressions,
max_records (scan-single.txt)."""

from aerospike_helpers import expressions as exp

from conftest import NAMESPACE


def test_partition_filters_and_expressions(client, unique_set):
    for i in range(20):
        client.put((NAMESPACE, unique_set, i), {"i": i, "s": f"v{i}"})
    everything = client.query(NAMESPACE, unique_set).results()
    assert sorted(b["i"] for _, _, b in everything) == list(range(20))
    # Every partition, split in two halves, gives each record once.
    halves = []
    for begin in (0, 2048):
        q = client.query(NAMESPACE, unique_set)
        halves += q.results(policy={"partition_filter": {"begin": begin, "count": 2048}})
    assert sorted(b["i"] for _, _, b in halves) == list(range(20))
    q = client.query(NAMESPACE, unique_set)
    q.select("i")
    picked = q.results(policy={"expressions": exp.LT(exp.IntBin("i"), 5).compile()})
    assert sorted(b["i"] for _, _, b in picked) == [0, 1, 2, 3, 4]
    assert all(set(b) == {"i"} for _, _, b in picked)
    q = client.query(NAMESPACE, unique_set)
    q.max_records = 5
    assert 0 < len(q.results()) <= 5
