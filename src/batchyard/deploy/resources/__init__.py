"""One module per kind of resource deploy manages: how each is read, compared and changed."""
