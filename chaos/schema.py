"""The JSON Schema of scenario files, for editors: ``python -m chaos.schema [--write]``.

Generated from the ``Scenario`` model and shipped as ``scenarios/scenario.schema.json``; each
shipped scenario's first line points the YAML language server at it, so an editor completes
keys, actions and targets and marks bad values while typing. A test checks the committed file
matches the model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from chaos.scenario import Scenario

SCHEMA_FILE = "scenario.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def schema_text() -> str:
    schema = Scenario.model_json_schema()
    schema["properties"].pop("path", None)  # set by the loader, not written in files
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "image-jobs chaos scenario"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.schema", description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write scenarios/{SCHEMA_FILE}")
    args = parser.parse_args(argv)
    if args.write:
        (SCENARIOS / SCHEMA_FILE).write_text(schema_text())
        print(f"wrote {SCENARIOS / SCHEMA_FILE}")
    else:
        print(schema_text(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
