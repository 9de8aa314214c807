"""Watching registry sources: re-read them cheaply, notice changes by content hash, and keep each
source's last good registry when it turns unreadable or invalid (an error never deletes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import requests
import structlog

from controller.registry import errors as registry_errors
from controller.registry import model
from controller.sources import fetching

log = structlog.get_logger()


@dataclasses.dataclass
class _State:
    fetched: fetching.Fetched | None = None  # the last content read, valid or not
    registry: model.Registry | None = None  # the last content that parsed
    read_error: str = ""  # the source cannot be read now
    parse_error: str = ""  # the content last read is not a valid registry

    @property
    def error(self) -> str:
        return self.read_error or self.parse_error


class Watch:
    """The sources of one `run`; `poll()` re-reads them and says if the desired state changed."""

    def __init__(
        self, locations: Sequence[str], *, timeout: float = fetching.TIMEOUT_SECONDS
    ) -> None:
        self.locations = tuple(locations)
        self._timeout = timeout
        self._session = requests.Session()
        self._states = {location: _State() for location in self.locations}

    @property
    def registries(self) -> list[model.Registry]:
        """The last good registry of every source that ever had one."""
        states = (self._states[location] for location in self.locations)
        return [state.registry for state in states if state.registry is not None]

    @property
    def errors(self) -> dict[str, str]:
        """Sources whose current content is not in use, and why."""
        return {location: state.error for location, state in self._states.items() if state.error}

    def poll(self) -> bool:
        """Re-read every source; True when some source's registry changed."""
        changed = False
        for location in self.locations:
            changed = self._poll_one(location, self._states[location]) or changed
        return changed

    def close(self) -> None:
        self._session.close()

    def _poll_one(self, location: str, state: _State) -> bool:
        try:
            fetched = fetching.fetch(
                location, previous=state.fetched, session=self._session, timeout=self._timeout
            )
        except fetching.SourceError as error:
            if state.read_error != str(error):  # log transitions, not every poll
                log.error(
                    "registry_unreadable",
                    source=location,
                    error=error.message,
                    kept_last_good=state.registry is not None,
                )
            state.read_error = str(error)
            return False
        state.read_error = ""
        if state.fetched is not None and fetched.digest == state.fetched.digest:
            state.fetched = fetched  # its newer stat spares the next polls reading it again
            return False  # same bytes, same verdict as last time
        state.fetched = fetched
        try:
            registry = fetching.parse(fetched)
        except registry_errors.RegistryError as error:
            state.parse_error = str(error)
            log.error(
                "registry_invalid",
                source=location,
                digest=fetched.digest[:12],
                errors=[f"{e.path}: {e.message}" for e in error.errors],
                kept_last_good=state.registry is not None,
            )
            return False
        state.parse_error = ""
        previous, state.registry = state.registry, registry
        log.info(
            "registry_loaded",
            source=location,
            digest=fetched.digest[:12],
            scheduler_jobs=len(registry.scheduler_jobs),
            subscriptions=len(registry.subscriptions),
        )
        return previous != registry
