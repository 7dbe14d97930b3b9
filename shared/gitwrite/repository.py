"""The dulwich repository GitWrite opens: configuration read once per change, and an index
written without ``fsync``.

dulwich re-reads and re-parses every configuration file (the repository's, the user's and
the system's) each time it needs one setting; a save needed them three times, a third of
its time on a 61-chapter project. `Repository` keeps the parsed files until one of them
changes on disk (its size, modification time or inode).

The index is only a cache of file stats (status compares the disk with the last save, not
with the index), so like git by default it is written without ``fsync``; refs keep
dulwich's ``fsync``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dulwich.config import StackedConfig, get_xdg_config_home_path
from dulwich.file import GitFile
from dulwich.index import IndexChecksumWriter, write_index_dict
from dulwich.repo import Repo

if TYPE_CHECKING:
    from dulwich.config import ConfigFile
    from dulwich.index import Index

_Stamp = tuple[tuple[int, int, int] | None, ...]


def _stamp(paths: list[str]) -> _Stamp:
    out: list[tuple[int, int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def _user_and_system_config_paths() -> list[str]:
    """The files `StackedConfig.default_backends` reads, found the same way."""
    env = os.environ
    if "GIT_CONFIG_GLOBAL" in env:
        paths = [env["GIT_CONFIG_GLOBAL"]]
    else:
        paths = [os.path.expanduser("~/.gitconfig"), get_xdg_config_home_path("git", "config")]
    if "GIT_CONFIG_SYSTEM" in env:
        paths.append(env["GIT_CONFIG_SYSTEM"])
    elif "GIT_CONFIG_NOSYSTEM" not in env:
        paths.append("/etc/gitconfig")
    return paths


class Repository(Repo):
    """A `dulwich.repo.Repo` whose configuration is parsed once per change on disk."""

    _config: ConfigFile | None = None
    _config_stamp: _Stamp = ()
    _stack: StackedConfig | None = None
    _stack_stamp: _Stamp = ()

    def _local_config_paths(self) -> list[str]:
        return [os.path.join(self.controldir(), "config")]

    def get_config(self) -> ConfigFile:
        stamp = _stamp(self._local_config_paths())
        if self._config is None or stamp != self._config_stamp:
            self._config = super().get_config()
            self._config_stamp = stamp
        return self._config

    def get_config_stack(self) -> StackedConfig:
        paths = self._local_config_paths() + _user_and_system_config_paths()
        stamp = _stamp(paths)
        if self._stack is None or stamp != self._stack_stamp:
            self._stack = super().get_config_stack()
            self._stack_stamp = stamp
        return self._stack


def write_index(index: Index) -> None:
    """Write ``index`` as `Index.write` does, without ``fsync`` (it is a rebuildable cache)."""
    f = GitFile(index.path, "wb", fsync=False)
    try:
        writer = IndexChecksumWriter(f)
        entries = dict(index.items())
        write_index_dict(writer, entries, version=getattr(index, "_version", None))
        writer.close()
    except BaseException:
        f.abort()
        raise
