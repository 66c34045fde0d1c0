"""``python -m chaos.netproxy [--host H] [--port P]``: serve the control API until stopped."""

from __future__ import annotations

import argparse
import signal
import threading

from chaos.netproxy.server import ProxyServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.netproxy", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="control API address")
    parser.add_argument("--port", type=int, default=8474, help="control API port (Toxiproxy's)")
    parser.add_argument("--seed", type=int, default=None, help="seed for jitter and toxicity")
    args = parser.parse_args(argv)
    try:
        server = ProxyServer(args.host, args.port, seed=args.seed).start()
    except OSError as exc:
        parser.exit(2, f"cannot serve on {args.host}:{args.port}: {exc}\n")
    print(f"netproxy API on {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
