"""Desktop services below the widgets: no Qt here (a test checks), so all of it runs headless.

* `desktop.Desktop`: the core as one object, a writer thread and a reader thread;
  submit `operations` to it and get callbacks with what changed (`changes.Changes`).
* `worker`: one thread running a queue of operations (callbacks, cancelling, errors).
* `context`: what operations run with; the writer's owns every open project.
* `workspace`: the writer's projects and sync accounts (``workspace.json``).
* `cache`, `cache_schema`: the SQLite cache file, its schema versions and upgrades;
  `textindex` and `search`, `annotation_index`, `words`, `syncstate` keep and read its
  parts; `indexer` refreshes and rebuilds them from the repositories.
* `recovery`: the lease on an open project, and cleaning up after a killed GitWrite.
* `credentials`: tokens in the system keyring or a private file; `Session`.
* `errors`: the desktop's errors, all `gitwrite.errors.GitWriteError` for the writer.
"""
