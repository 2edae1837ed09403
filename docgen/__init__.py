"""Generated documentation: the README's configuration and alarm tables (`python -m docgen.reference --write README.md`).

Layer: reads the config model, the alarm specs and the light half of the stack adapters (stacks/alarm_props.py),
never the provider classes (tests/docgen/test_docs.py).
"""
