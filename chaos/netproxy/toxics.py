"""Toxics: what a proxy does to the bytes of a connection, with Toxiproxy's names and meanings.

A toxic applies to one stream of a connection: ``upstream`` (client to server) or ``downstream``
(server to client, Toxiproxy's default). ``toxicity`` is the share of connections it applies to,
drawn once per connection. Attributes and their units are Toxiproxy's:

- ``latency``: ``latency`` ms added to each chunk, +/- ``jitter`` ms;
- ``bandwidth``: at most ``rate`` KB/s;
- ``slicer``: chunks cut to ``average_size`` +/- ``size_variation`` bytes, ``delay`` us apart;
- ``timeout``: no data passes; the connection is closed after ``timeout`` ms (0: held open);
- ``reset_peer``: the connection is reset (TCP RST) after ``timeout`` ms;
- ``limit_data``: the connection is closed once ``bytes`` bytes have passed.

``down`` is not a toxic: it is the proxy disabled (``enabled: false``), which refuses new
connections and cuts open ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STREAMS = ("upstream", "downstream")

# type -> {attribute: default}; every attribute is a non-negative integer.
TOXIC_ATTRIBUTES: dict[str, dict[str, int]] = {
    "latency": {"latency": 0, "jitter": 0},
    "bandwidth": {"rate": 0},
    "slicer": {"average_size": 0, "size_variation": 0, "delay": 0},
    "timeout": {"timeout": 0},
    "reset_peer": {"timeout": 0},
    "limit_data": {"bytes": 0},
}


class ToxicError(ValueError):
    """Raised when a toxic's description is invalid; the message names the bad value."""


@dataclass(frozen=True)
class Toxic:
    name: str
    type: str
    stream: str = "downstream"
    toxicity: float = 1.0
    attributes: dict[str, int] = field(default_factory=dict)

    def attr(self, key: str) -> int:
        return self.attributes.get(key, TOXIC_ATTRIBUTES[self.type][key])

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: object) -> Toxic:
        """A toxic from its REST/JSON form, or ToxicError naming what is wrong."""
        if not isinstance(data, dict):
            raise ToxicError(f"a toxic is a JSON object, got {data!r}")
        kind = data.get("type")
        if kind not in TOXIC_ATTRIBUTES:
            raise ToxicError(f"unknown toxic type {kind!r} (known: {', '.join(TOXIC_ATTRIBUTES)})")
        stream = data.get("stream", "downstream")
        if stream not in STREAMS:
            raise ToxicError(f"stream {stream!r} is not one of {', '.join(STREAMS)}")
        toxicity = data.get("toxicity", 1.0)
        if isinstance(toxicity, bool) or not isinstance(toxicity, (int, float)):
            raise ToxicError(f"toxicity {toxicity!r} is not a number")
        if not 0.0 <= toxicity <= 1.0:
            raise ToxicError(f"toxicity {toxicity!r} is not between 0 and 1")
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise ToxicError(f"attributes {attributes!r} is not a JSON object")
        known = TOXIC_ATTRIBUTES[kind]
        for key, value in attributes.items():
            if key not in known:
                raise ToxicError(
                    f"{kind} has no attribute {key!r} (known: {', '.join(known) or 'none'})"
                )
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ToxicError(f"{kind} attribute {key}={value!r} is not a non-negative integer")
        name = data.get("name") or f"{kind}_{stream}"
        if not isinstance(name, str):
            raise ToxicError(f"toxic name {name!r} is not a string")
        return cls(name, kind, stream, float(toxicity), dict(attributes))
