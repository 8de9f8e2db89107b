"""The QMS platform engine: a pure-Python library (no Flask) that the web layers call.

Layers (a lower layer never imports a higher one):
0. ``errors``, ``registry``, ``i18n``, ``types``
1. ``expressions``, ``fields``, ``quality``
2. ``definitions``
3. ``forms``, ``flows``, ``rules``, ``reports`` (later issues)
4. ``storage``
5. ``services``
"""
