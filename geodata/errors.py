"""The one error the geodata readers raise; its message is safe to show to whoever loads a layer."""

from __future__ import annotations


class ReadError(RuntimeError):
    """A source cannot be read as the named layer: the message says why, in plain words."""
