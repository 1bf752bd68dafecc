"""batchyard: a self-hosted batch platform that speaks AWS's APIs.

See ``ARCHITECTURE.md`` in the docs for how the packages fit together.
"""

__version__ = "0.1.0"
