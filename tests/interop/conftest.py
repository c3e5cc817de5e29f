"""Fixtures of the interop suite: the official Python client (aerospike 19.3.0,
the C client inside) against standalone embedded clusters.

The clusters are named by AEROSPIKE_INTEROP_SINGLE (one node) and
AEROSPIKE_INTEROP_CLUSTER (three nodes), each a `host:port` seed; `.ci/run`
starts both. Pointed at real servers instead, every test must pass unchanged:
the assertions are what a real Aerospike CE 8.1 server answers (from
shared/fixtures and the server's source), never what the embedded cluster
happens to answer.
"""

import itertools
import os
import time

import aerospike
import pytest

NAMESPACE = "test"
_counter = itertools.count()


def _seed(var):
    value = os.environ.get(var)
    if not value:
        pytest.fail(f"{var} is not set: the interop suite needs a cluster to talk to")
    host, port = value.rsplit(":", 1)
    return host, int(port)


@pytest.fixture(scope="session", params=["single", "cluster"])
def client(request, tmp_path_factory):
    var = {"single": "AEROSPIKE_INTEROP_SINGLE", "cluster": "AEROSPIKE_INTEROP_CLUSTER"}
    # The client keeps a copy of every module it registers in its Lua user
    # path, the working directory by default: keep them out of the checkout.
    lua = tmp_path_factory.mktemp(f"lua-{request.param}")
    config = {"hosts": [_seed(var[request.param])], "lua": {"user_path": str(lua)}}
    c = aerospike.client(config).connect()
    yield c
    c.close()


@pytest.fixture
def unique_set():
    return f"interop_{os.getpid()}_{int(time.time() * 1000) % 100000000}_{next(_counter)}"
