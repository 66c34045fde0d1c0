"""The editor schema: committed, equal to the model's, referenced by every shipped scenario."""

from __future__ import annotations

import json

import jsonschema
import yaml

from chaos import schema


def committed() -> dict:
    return json.loads((schema.SCENARIOS / schema.SCHEMA_FILE).read_text())


def test_the_committed_schema_is_the_models_run_python_m_chaos_schema_write():
    assert (schema.SCENARIOS / schema.SCHEMA_FILE).read_text() == schema.schema_text()


def test_every_shipped_scenario_names_the_schema_and_conforms_to_it():
    shipped = sorted(schema.SCENARIOS.glob("*.yaml"))
    assert shipped
    for path in shipped:
        text = path.read_text()
        assert text.splitlines()[0] == schema.MODELINE, path
        jsonschema.validate(yaml.safe_load(text), committed())


def test_the_schema_refuses_what_the_loader_refuses():
    bad = {"name": "x", "faults": [{"at": 1, "action": "kil"}], "workerz": 2}
    errors = list(jsonschema.Draft202012Validator(committed()).iter_errors(bad))
    messages = " ".join(e.message for e in errors)
    assert "'kil' is not one of" in messages and "'workerz' was unexpected" in messages
