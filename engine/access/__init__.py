"""Access control: permission rules per role, resolved per actor and form, compiled into SQL.

```
access = form_access(session, actor, form_key)       # FormAccess
require(access, "create")                              # PermissionDenied unless granted
stmt.where(access.read.clause(table))                  # the read scope, in SQL
```
"""
from engine.access.policy import ACTIONS, BoundScope, FormAccess, forget, form_access, require, step_access
from engine.access.rules import Rules, Scope, check_rules, check_target, parse_rules

__all__ = ["ACTIONS", "BoundScope", "FormAccess", "Rules", "Scope", "check_rules", "check_target", "forget",
           "form_access", "parse_rules", "require", "step_access"]
