"""Examples of product code built on adminapp (not part of the package)."""
