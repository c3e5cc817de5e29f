"""Info commands clients and tools read, answered as a real 8.1 server does
(info-extra-single.txt, the server's thr_info.c)."""

import pytest
from aerospike import exception as ex

from conftest import NAMESPACE


def _values(client, command):
    return [v for _, (err, v) in client.info_all(command).items() if err is None]


def test_sets_of_a_written_set(client, unique_set):
    for i in range(10):
        client.put((NAMESPACE, unique_set, i), {"i": i})
    answers = _values(client, f"sets/{NAMESPACE}/{unique_set}")
    # Every node holding a copy counts it; the copies add up to the records
    # times the replication factor (1 or 2 here, at most the node count).
    counted = 0
    for text in answers:
        value = text.split("\t")[-1].strip()
        if not value:
            continue
        assert value.endswith(";")
        fields = [kv.split("=", 1)[0] for kv in value.rstrip(";").split(":")]
        assert fields == [
            "objects", "tombstones", "data_used_bytes", "truncate_lut", "sindexes",
            "index_populating", "truncating", "default-read-touch-ttl-pct", "default-ttl",
            "disable-eviction", "enable-index", "stop-writes-count", "stop-writes-size",
        ]
        counted += int(value.split(":")[0].split("=")[1])
    assert counted in (10, 20)
    listing = " ".join(_values(client, "sets"))
    assert f"ns={NAMESPACE}:set={unique_set}:objects=" in listing


def test_unknown_names(client):
    assert all(v.split("\t")[-1].strip() == "" for v in _values(client, f"sets/{NAMESPACE}/never_written_set"))
    assert all(v.split("\t")[-1].strip() == "type=unknown" for v in _values(client, "namespace/nosuchns"))
    assert all(v.split("\t")[-1].strip() == "ns_type=unknown" for v in _values(client, "sets/nosuchns"))
    # The client turns ERROR:<code>:<text> into an exception (as captured).
    with pytest.raises(ex.NamespaceNotFound) as e:
        client.info_all("sindex-list:ns=nosuchns")
    assert e.value.code == 20
    assert e.value.msg.startswith("namespace not found on node;ERROR:20:namespace not found on node")
    with pytest.raises(ex.IndexNotFound) as e:
        client.info_all(f"sindex-stat:namespace={NAMESPACE};indexname=interop_missing")
    assert e.value.code == 201
    assert e.value.msg.startswith("no index")
    for v in _values(client, "truncate:namespace=nosuchns;set=x"):
        assert v.split("\t")[-1].strip() == "ok"


def test_tend_and_tool_commands(client):
    nodes = client.get_nodes()
    for v in _values(client, "statistics"):
        stats = dict(kv.split("=", 1) for kv in v.split("\t")[-1].strip().split(";") if "=" in kv)
        assert int(stats["cluster_size"]) == len(nodes)
    for v in _values(client, "build"):
        assert v.split("\t")[-1].strip().startswith("8.")
    for v in _values(client, f"get-config:context=namespace;id={NAMESPACE}"):
        config = dict(kv.split("=", 1) for kv in v.split("\t")[-1].strip().split(";"))
        assert config["replication-factor"] in ("1", "2")
        assert "nsup-period" in config and "default-ttl" in config
    for v in _values(client, "namespaces"):
        assert NAMESPACE in v.split("\t")[-1].strip().split(";")
