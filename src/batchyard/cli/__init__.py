"""The ``batchyard`` command line."""
