"""Features of the server, one folder each: a thin controller, a service owning the
session, schemas. Services raise `gitwrite_sync.errors` only."""
