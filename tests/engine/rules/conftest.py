from tests.engine.rules.support import world  # noqa: F401  (fixture)
