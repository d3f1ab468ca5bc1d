"""The sample batch generator and the committed demo batch (``samples/batch-demo/``).

``shinsei samples generate`` (:mod:`samples.cli`) plans a batch
(:func:`samples.generator.plan_batch`), builds each envelope
(:func:`samples.generator.build_envelope`) and writes the scan files with
their ``truth.jsonl``; see ``samples/README.md``.
"""
