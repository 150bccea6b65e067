"""Drug discovery: chemical language models, optimizers, scoring and benchmark metrics.

Needs the ``molecules`` extra (RDKit, SELFIES, torch): ``pip install 'hygeia[molecules]'``.
"""
