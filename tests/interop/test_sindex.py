"""Secondary indexes created, polled and queried by the official client
(sindex-client-single.txt): numeric, string, list and geo."""

import aerospike
from aerospike import predicates as p

from conftest import NAMESPACE


def _load(client, set_name):
    for i in range(20):
        client.put(
            (NAMESPACE, set_name, i),
            {
                "n": i,
                "str": f"k{i % 3}",
                "lst": [i, 10 * i],
                "loc": aerospike.GeoJSON({"type": "Point", "coordinates": [-122.0 + 0.01 * i, 37.5]}),
            },
        )


def _ids(query):
    return sorted(bins["n"] for _, _, bins in query.results())


def test_indexes_and_their_queries(client, unique_set):
    _load(client, unique_set)
    names = [f"{unique_set}_{x}" for x in "nslg"]
    # Each create returns once the client's sindex-stat polling sees load_pct=100.
    client.index_integer_create(NAMESPACE, unique_set, "n", names[0])
    client.index_string_create(NAMESPACE, unique_set, "str", names[1])
    client.index_list_create(NAMESPACE, unique_set, "lst", aerospike.INDEX_NUMERIC, names[2])
    client.index_geo2dsphere_create(NAMESPACE, unique_set, "loc", names[3])
    try:
        q = client.query(NAMESPACE, unique_set)
        q.where(p.between("n", 5, 9))
        assert _ids(q) == [5, 6, 7, 8, 9]
        q = client.query(NAMESPACE, unique_set)
        q.where(p.equals("str", "k1"))
        assert _ids(q) == [1, 4, 7, 10, 13, 16, 19]
        q = client.query(NAMESPACE, unique_set)
        q.where(p.contains("lst", aerospike.INDEX_TYPE_LIST, 50))
        assert _ids(q) == [5]
        q = client.query(NAMESPACE, unique_set)
        q.where(p.geo_within_radius("loc", -122.0, 37.5, 2500))
        assert _ids(q) == [0, 1, 2]
        polygon = aerospike.GeoJSON(
            {
                "type": "Polygon",
                "coordinates": [[[-122.005, 37.4], [-121.935, 37.4], [-121.935, 37.6], [-122.005, 37.6], [-122.005, 37.4]]],
            }
        )
        q = client.query(NAMESPACE, unique_set)
        q.where(p.geo_within_geojson_region("loc", polygon.dumps()))
        assert _ids(q) == [0, 1, 2, 3, 4, 5, 6]
        stat = client.info_all(f"sindex-stat:namespace={NAMESPACE};indexname={names[2]}")
        entries = 0
        for _, (err, v) in stat.items():
            assert err is None
            values = dict(kv.split("=", 1) for kv in v.split("\t")[-1].strip().split(";"))
            assert values["load_pct"] == "100"
            entries += int(values["entries"])
        # lst = [i, 10 i]: 39 distinct (value, record) pairs (i = 0 gives one),
        # on every copy of each record.
        assert entries in (39, 78)
    finally:
        for name in names:
            client.index_remove(NAMESPACE, name)
