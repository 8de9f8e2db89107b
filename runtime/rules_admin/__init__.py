"""Admin pages for rules (blueprint ``rules_admin``): the rule list, publishing a rule as JSON,
one rule with its history and inbound-webhook URL (:mod:`.views`), and the run log with retry
(:mod:`.runs`)."""
from runtime.rules_admin import runs  # noqa: F401  (routes)
from runtime.rules_admin.views import bp

__all__ = ["bp"]
