"""The AWS contract gate: synthesized stacks checked against AWS's own API models and documented rules, offline.

`terraform validate` checks the provider's schema and the emulator accepts
almost anything, so enum values, ranges, identifier shapes and JSON documents
inside strings reach AWS unseen. Three kinds of rules, each as data with its
source (docs/gates.md, "AWS contract gate"):

- api_model.py: Terraform attributes mapped to the API members they become,
  checked against botocore's shapes (enums, numeric ranges, lengths, patterns);
- documented.py: rules AWS documents but does not model (identifier shapes,
  retention values, password exclusions, names);
- documents.py: JSON documents inside strings (DMS task settings and table
  mappings, dashboards, IAM policy documents).

`python -m review.aws_contract PATH...` (PATH: a stack folder holding
cdk.tf.json, or a folder of stack folders) exits 0 when every rule holds, 1
with one line per violation, 2 when an input cannot be read.
"""
