"""List and map reads return items in the order a real 8.1 server does
(cdt-single.txt)."""

from aerospike_helpers.operations import list_operations as lo
from aerospike_helpers.operations import map_operations as mo
import aerospike

from conftest import NAMESPACE


def _setup(client, unique_set):
    key = (NAMESPACE, unique_set, 1)
    client.put(key, {"l": [1, 2, 3], "m": {"a": 1, "b": 2, "c": 3}})
    return key


def _one(client, key, op):
    return client.operate(key, [op])[2]


def test_list_rank_reads(client, unique_set):
    key = _setup(client, unique_set)
    v = aerospike.LIST_RETURN_VALUE
    assert _one(client, key, lo.list_get_by_value_rank_range_relative("l", 2, -1, v, count=2)) == {"l": [2, 1]}
    assert _one(client, key, lo.list_get_by_value_rank_range_relative("l", 2, 0, v)) == {"l": [2, 3]}
    assert _one(client, key, lo.list_get_by_rank_range("l", -2, v, count=2)) == {"l": [2, 3]}
    assert _one(client, key, lo.list_get_by_index_range("l", 1, v, count=5)) == {"l": [2, 3]}


def test_map_rank_reads(client, unique_set):
    key = _setup(client, unique_set)
    kv = aerospike.MAP_RETURN_KEY_VALUE
    assert _one(client, key, mo.map_get_by_rank("m", 0, kv)) == {"m": ["a", 1]}
    assert _one(client, key, mo.map_get_by_rank_range("m", 1, 2, kv)) == {"m": ["b", 2, "c", 3]}
    assert _one(
        client, key, mo.map_get_by_value_rank_range_relative("m", 2, -1, aerospike.MAP_RETURN_KEY, count=2)
    ) == {"m": ["a", "b"]}
    assert _one(
        client, key, mo.map_get_by_key_index_range_relative("m", "b", 0, aerospike.MAP_RETURN_VALUE, count=2)
    ) == {"m": [2, 3]}
