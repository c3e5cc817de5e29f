"""Batch reads and writes (batch-single.txt): one result per key, in order,
with each key's result code."""

from aerospike_helpers.batch import records as br
from aerospike_helpers.operations import operations as op

from conftest import NAMESPACE


def _load(client, set_name):
    for i in range(5):
        client.put((NAMESPACE, set_name, i), {"a": i, "b": f"v{i}", "l": [i, i + 1]})


def test_batch_read(client, unique_set):
    _load(client, unique_set)
    keys = [(NAMESPACE, unique_set, k) for k in (0, 1, 2, 7, 3)]
    got = client.batch_read(keys)
    assert [r.result for r in got.batch_records] == [0, 0, 0, 2, 0]
    assert got.batch_records[1].record[2] == {"a": 1, "b": "v1", "l": [1, 2]}
    got = client.batch_read(keys, ["a"])
    assert [r.record[2] if r.record else None for r in got.batch_records] == [
        {"a": 0}, {"a": 1}, {"a": 2}, None, {"a": 3}
    ]


def test_batch_write_and_remove(client, unique_set):
    _load(client, unique_set)
    k = lambda i: (NAMESPACE, unique_set, i)  # noqa: E731
    ops = br.BatchRecords(
        [
            br.Read(k(0), [op.read("a")]),
            br.Write(k(1), [op.increment("a", 10), op.read("a")]),
            br.Write(k(8), [op.write("a", 80)]),
            br.Remove(k(2)),
            br.Read(k(9), [op.read("a")]),
        ]
    )
    got = client.batch_write(ops)
    assert [r.result for r in got.batch_records] == [0, 0, 0, 0, 2]
    assert got.batch_records[1].record[2] == {"a": 11}
    removed = client.batch_remove([k(3), k(7)])
    assert [r.result for r in removed.batch_records] == [0, 2]


UDF = """
function bump(rec, n)
  rec['c'] = (rec['c'] or 0) + n
  if aerospike:exists(rec) then aerospike:update(rec) else aerospike:create(rec) end
  return rec['c']
end
function boom(rec)
  error('boom')
end
"""


def test_batch_apply_and_apply(client, unique_set, tmp_path):
    path = tmp_path / f"{unique_set}.lua"
    path.write_text(UDF)
    client.udf_put(str(path))
    module = unique_set
    k = lambda i: (NAMESPACE, unique_set, i)  # noqa: E731
    try:
        assert client.apply(k(0), module, "bump", [5]) == 5
        got = client.batch_apply([k(0), k(1)], module, "bump", [1])
        assert [r.result for r in got.batch_records] == [0, 0]
        assert [r.record[2] for r in got.batch_records] == [{"SUCCESS": 6}, {"SUCCESS": 1}]
        failed = client.batch_apply([k(0)], module, "boom", [])
        # UDF_BAD_RESPONSE (the server also sends the error text in a FAILURE
        # bin, which this client does not show for batch records).
        assert failed.batch_records[0].result == 100
        assert client.get(k(0))[2] == {"c": 6}
    finally:
        client.udf_remove(f"{module}.lua")
