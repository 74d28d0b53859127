"""Evaluates JSONata expressions of a Step Functions definition, for tests/it/runner.rs.

Reads a JSON list of {"expression": "{% ... %}", "bindings": {"states": ..., "config": ...}} from
standard input and prints the list of results as JSON: each expression evaluated by jsonata-python
(the reference implementation's port the emulator already uses for Step Functions) with the
bindings as variables, as Step Functions binds $states and the workflow's variables.
"""

import json
import sys

import jsonata


def evaluate(case):
    text = case["expression"].strip()
    if not (text.startswith("{%") and text.endswith("%}")):
        raise ValueError(f"not a JSONata expression: {text!r}")
    expression = jsonata.Jsonata(text[2:-2])
    for name, value in case["bindings"].items():
        expression.assign(name, value)
    return expression.evaluate(None)


if __name__ == "__main__":
    json.dump([evaluate(case) for case in json.load(sys.stdin)], sys.stdout)
