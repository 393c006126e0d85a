"""rpol: privacy policy decisions for recommendation systems.

Load a policy once with :meth:`Policy.load`, then decide requests
(:meth:`Policy.decide`), check single features, look up retentions, and
enforce the policy on Arrow tables (:meth:`Policy.enforce`) or Spark
DataFrames (:func:`rpol.spark.enforce`). The decisions are the ones
``rpol eval`` and ``rpol serve`` make: one engine, one rule set.
"""

from ._rpol import Enforcer, Mapping, Policy, __version__
from .errors import (
    Diagnostic,
    EnforceError,
    InvalidRequest,
    PolicyError,
    RpolError,
    UnknownKind,
)

__all__ = [
    "Diagnostic",
    "EnforceError",
    "Enforcer",
    "InvalidRequest",
    "Mapping",
    "Policy",
    "PolicyError",
    "RpolError",
    "UnknownKind",
    "__version__",
]
