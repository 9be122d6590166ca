"""Realistic people from the Anny parametric body (optional extra: ``pip install convnextpose[anny]``).

Submodules import ``anny`` only inside functions, so importing this package never needs it.
"""

INSTALL_HINT = "the Anny body model needs the optional extra: pip install convnextpose[anny]"
