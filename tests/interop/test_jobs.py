"""Background jobs and UDF modules through the official client: start,
job_info until done, the records changed (bg-ops-single.txt,
bg-udf-single.txt)."""

import time

import aerospike
from aerospike_helpers import expressions as exp
from aerospike_helpers.operations import operations as op

from conftest import NAMESPACE

UDF = """
function set_bin(rec, name, value)
  rec[name] = value
  aerospike:update(rec)
end
"""


def _wait(client, job_id, module):
    deadline = time.time() + 30
    while time.time() < deadline:
        info = client.job_info(job_id, module)
        if info["status"] == aerospike.JOB_STATUS_COMPLETED:
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_background_ops_with_a_filter(client, unique_set):
    for i in range(100):
        client.put((NAMESPACE, unique_set, i), {"i": i, "active": i % 2 == 0})
    q = client.query(NAMESPACE, unique_set)
    q.add_ops([op.write("done", 1), op.increment("i", 1000)])
    policy = {"expressions": exp.Eq(exp.BoolBin("active"), True).compile()}
    job = q.execute_background(policy)
    info = _wait(client, job, aerospike.JOB_QUERY)
    assert info["progress_pct"] == 100
    changed = [b for _, _, b in client.query(NAMESPACE, unique_set).results() if b.get("done") == 1]
    assert len(changed) == 50
    assert all(b["i"] >= 1000 and b["active"] for b in changed)


def test_udf_module_and_background_udf(client, unique_set, tmp_path):
    module = f"{unique_set}.lua"
    path = tmp_path / module
    path.write_text(UDF)
    client.udf_put(str(path))
    try:
        assert any(m["name"] == module for m in client.udf_list())
        for i in range(20):
            client.put((NAMESPACE, unique_set, i), {"i": i})
        q = client.query(NAMESPACE, unique_set)
        q.apply(unique_set, "set_bin", ["u", 7])
        _wait(client, q.execute_background(), aerospike.JOB_QUERY)
        assert all(b.get("u") == 7 for _, _, b in client.query(NAMESPACE, unique_set).results())
        # The same module as a record UDF on one key.
        key = (NAMESPACE, unique_set, 0)
        assert client.apply(key, unique_set, "set_bin", ["v", "x"]) is None
        assert client.get(key)[2]["v"] == "x"
    finally:
        client.udf_remove(module)
    assert not any(m["name"] == module for m in client.udf_list())
