"""The platform's CrossGuard policies, grouped by the rule they enforce.

Importing this package builds the policy objects but starts nothing: `policies/__main__.py` hands `POLICIES` to
`PolicyPack`, which serves them over gRPC, and the tests import the same objects to call their checks directly.

Modules (one per rule of the platform's security baseline; see the README for the table of policies):
  hardcoded_secrets  1. no hardcoded secrets                      (mandatory)
  public_exposure    2. nothing reachable from the internet       (mandatory)
  root_use           3. no root, no long-lived credentials        (mandatory)
  permissions        4. no excessive IAM or RBAC permissions      (mandatory)
  iam_definitions    4. IAM documents checked against AWS's own IAM definitions (mandatory)
  encryption         5. TLS and encryption everywhere             (mandatory)
  data_loss          6. nothing lost in prod                      (mandatory, prod only)
  pod_security       7. Pod Security Standards, baseline and restricted (mandatory)
  namespaces         8. namespaces enforce the restricted standard (mandatory)
  resilience         9. nothing in prod rests on one zone, node or replica (mandatory, prod only)
  hygiene            cost and hygiene                             (advisory)
  documented_exceptions  findings accepted by a documented exception (advisory; see `exceptions`; runs last)
"""

from . import data_loss, encryption, hardcoded_secrets, hygiene, permissions, public_exposure, root_use
from . import documented_exceptions, namespaces, pod_security, resilience
from .core import REGISTRY
from . import iam_definitions  # noqa: E402,I001 (kept apart: the IAM checks against AWS's data)

PACK_NAME = "platform-policies"

POLICIES = [
    *hardcoded_secrets.POLICIES,
    *public_exposure.POLICIES,
    *root_use.POLICIES,
    *permissions.POLICIES,
    *iam_definitions.POLICIES,
    *encryption.POLICIES,
    *data_loss.POLICIES,
    *pod_security.POLICIES,
    *namespaces.POLICIES,
    *resilience.POLICIES,
    *hygiene.POLICIES,
    # Last: it reports what the documented exceptions accepted in the policies before it.
    *documented_exceptions.POLICIES,
]

__all__ = ["PACK_NAME", "POLICIES", "REGISTRY"]
