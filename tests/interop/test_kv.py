"""Key-value commands: every value type round-trips, policies behave as on a
real server (kv-single.txt)."""

import aerospike
import pytest
from aerospike import exception as ex

from conftest import NAMESPACE


def test_every_type_round_trips(client, unique_set):
    key = (NAMESPACE, unique_set, "types")
    bins = {
        "int": 7,
        "neg": -42,
        "max": 2**63 - 1,
        "float": 3.14,
        "str": "hello",
        "unicode": "héllo wörld ✓",
        "empty": "",
        "bytes": bytearray(b"\x00\x01\xff"),
        "bool": True,
        "list": [1, "a", 2.5, None],
        "map": {"x": 1, "y": "z"},
        "nested": {"l": [1, [2, 3]], "m": {"k": {"v": 1}}},
        "geo": aerospike.GeoJSON({"type": "Point", "coordinates": [-122.0, 37.5]}),
    }
    client.put(key, bins)
    _, meta, got = client.get(key)
    assert meta["gen"] == 1
    for name, value in bins.items():
        if name == "geo":
            assert got[name].unwrap() == value.unwrap()
        else:
            assert got[name] == value, name


def test_send_key_and_digest_keys(client, unique_set):
    for k in ["s", 5, bytearray(b"b")]:
        key = (NAMESPACE, unique_set, k)
        client.put(key, {"a": 1}, policy={"key": aerospike.POLICY_KEY_SEND})
        (ns, set_, user_key, digest), _, _ = client.get(key, policy={"key": aerospike.POLICY_KEY_SEND})
        assert (ns, set_, user_key) == (NAMESPACE, unique_set, k)
        assert digest == aerospike.calc_digest(NAMESPACE, unique_set, k)


def test_ttl_generation_and_exists_policies(client, unique_set):
    key = (NAMESPACE, unique_set, "p")
    client.put(key, {"a": 1}, meta={"ttl": 3600})
    _, meta, _ = client.get(key)
    assert 3590 <= meta["ttl"] <= 3600
    # A generation check that fails: rc 3.
    with pytest.raises(ex.RecordGenerationError):
        client.put(key, {"a": 2}, meta={"gen": 5}, policy={"gen": aerospike.POLICY_GEN_EQ})
    client.put(key, {"a": 2}, meta={"gen": 1}, policy={"gen": aerospike.POLICY_GEN_EQ})
    # Create-only on an existing record: rc 5.
    with pytest.raises(ex.RecordExistsError):
        client.put(key, {"a": 3}, policy={"exists": aerospike.POLICY_EXISTS_CREATE})
    # Update-only on a missing record: rc 2.
    with pytest.raises(ex.RecordNotFound):
        client.put((NAMESPACE, unique_set, "nope"), {"a": 1}, policy={"exists": aerospike.POLICY_EXISTS_UPDATE})
    # Replace drops the other bins.
    client.put(key, {"b": 1}, policy={"exists": aerospike.POLICY_EXISTS_REPLACE})
    assert client.get(key)[2] == {"b": 1}
    _, meta = client.exists(key)
    assert meta["gen"] == 3


def test_operate_append_prepend_touch_remove(client, unique_set):
    key = (NAMESPACE, unique_set, "ops")
    client.put(key, {"n": 1, "s": "b"})
    from aerospike_helpers.operations import operations as op

    _, _, bins = client.operate(key, [op.increment("n", 5), op.read("n")])
    assert bins == {"n": 6}
    client.append(key, "s", "c")
    client.prepend(key, "s", "a")
    assert client.get(key)[2]["s"] == "abc"
    client.touch(key, 600)
    assert 590 <= client.get(key)[1]["ttl"] <= 600
    client.remove_bin(key, ["s"])
    assert client.get(key)[2] == {"n": 6}


def test_missing_records_and_durable_delete(client, unique_set):
    key = (NAMESPACE, unique_set, "gone")
    with pytest.raises(ex.RecordNotFound):
        client.get(key)
    with pytest.raises(ex.RecordNotFound):
        client.remove(key)
    client.put(key, {"a": 1})
    edition = list(client.info_all("edition").values())[0][1]
    if "Enterprise" not in edition:
        # Community refuses a durable delete (ENTERPRISE_ONLY, 25).
        with pytest.raises(ex.AerospikeError) as e:
            client.remove(key, policy={"durable_delete": True})
        assert e.value.code == 25
        assert client.exists(key)[1] is not None
    client.remove(key)
    assert client.exists(key)[1] is None


def test_maps_come_back_key_ordered(client, unique_set):
    # An 8.x server stores every map sorted by key, unordered maps and maps
    # nested in lists included (cdt.c cdt_stack_untrusted_rewrite); seen on a
    # real 8.1.2 server.
    key = (NAMESPACE, unique_set, "maporder")
    client.put(
        key,
        {
            "m": {"z": 1, "y": 2, "a": {"c": 1, "b": 2}},
            "l": [{"q": 1, "p": 2}, 5],
        },
    )
    _, _, got = client.get(key)
    assert list(got["m"].keys()) == ["a", "y", "z"]
    assert list(got["m"]["a"].keys()) == ["b", "c"]
    assert list(got["l"][0].keys()) == ["p", "q"]
