"""Realistic people from the Anny parametric body (optional extra: ``pip install convnextpose[anny]``).

Submodules import ``anny`` only inside functions, so importing this package never needs it.
"""
