"""The pure core: the field schema, the sheet grammar, validation, planning, the wire
protocol (sans-I/O) and the retry policy.

No I/O here and nothing from the layers above: values in, values out, tested with
literals. tests/test_lint.py checks the imports.
"""
