"""A small TCP fault proxy speaking a subset of Toxiproxy's REST API, and a client for both.

Toxiproxy itself cannot be installed from the registries this project uses; this proxy stands in
for it on local processes, and the same ``ToxiproxyClient`` drives either one.
"""

from chaos.netproxy.client import (
    ProxyApiError,
    ToxiproxyClient,
    measure_connect,
    measure_round_trip,
)
from chaos.netproxy.server import ProxyServer
from chaos.netproxy.toxics import TOXIC_ATTRIBUTES, Toxic, ToxicError

__all__ = [
    "TOXIC_ATTRIBUTES",
    "ProxyApiError",
    "ProxyServer",
    "Toxic",
    "ToxicError",
    "ToxiproxyClient",
    "measure_connect",
    "measure_round_trip",
]
