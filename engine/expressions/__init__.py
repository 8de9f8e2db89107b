"""The expression language (see docs/expressions.md).

```python
node = parse(source)                          # AST; raises ExpressionError(line, column)
result = check(source, scope)                 # CheckResult(type, errors): never raises on bad input
compiled = compile_expression(source, scope)  # cached per (source, scope); raises ExpressionError
compiled.evaluate(data, ctx=None)             # data: {field_key: value}; sub-tables: lists of dicts
evaluate(source, data, scope=None, ctx=None)  # one-off
```
"""
from engine.expressions.functions import FUNCTIONS, Param, function_catalog, register
from engine.expressions.compiler import (
    CheckResult, Compiled, check, clear_caches, compile_expression, evaluate, scope_from_data,
)
from engine.expressions.parser import parse
from engine.expressions.runtime import EvalContext
from engine.expressions import limits

__all__ = [
    "parse", "check", "compile_expression", "evaluate", "EvalContext", "FUNCTIONS", "CheckResult",
    "Compiled", "Param", "register", "function_catalog", "clear_caches", "scope_from_data", "limits",
]
