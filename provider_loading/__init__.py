"""The fast load of the AWS provider: the one step of synth that reads files and the environment before the constructs.

`fast_import.enable_fast_provider_import()` (called by main.py, tests/conftest.py and bench/synth.py before anything
imports `modules.aws`) registers a light stand-in for the provider package; `lazy_index` makes the provider's
JavaScript index in the jsii kernel lazy (`lazy_provider_index.js`). Outside `modules/`, whose constructs read
neither files nor the environment. Layer: imports contract and plumbing only (tests/test_layers.py).
"""
