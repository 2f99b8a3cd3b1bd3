"""Resources that fail alone: the wrapper every fleetlake resource's function runs in.

An error that concerns one list (see `FleetlakeError.stops_run`) ends that resource: it is recorded in
the run's outcomes and the generator ends as if the list were done, so dlt carries on with the other
resources; the runner then takes the resource's partial pages out of the load. An error that concerns
the whole run (a refused key, an unreachable host, a spent quota) is recorded as the reason to stop and
raised, and every other resource stops at its next request. Errors that are not fleetlake's own (a
value no parser expected, a shape no code path foresaw) are described as an unreadable answer of that
resource, naming the URL it last asked.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import requests

from fleetlake.errors import FleetlakeError, RunAbortedError, UnreadableAnswerError
from fleetlake.outcomes import RunOutcomes

logger = logging.getLogger("fleetlake.sources")

P = ParamSpec("P")
T = TypeVar("T")


def resource_error(api: str, resource: str, error: BaseException, url: str | None) -> FleetlakeError | None:
    """The error as one resource's failure, or None when it stops the whole run.

    A failure always names the request it met: one whose message does not (a paging guard's, say)
    gets the resource's last request after its name.
    """
    if isinstance(error, FleetlakeError):
        if error.stops_run:
            return None
        named = f"{api} {resource}"
        if url and url.split(" ")[-1] not in error.message and error.message.startswith(named + " "):
            error.message = f"{named} ({url}){error.message[len(named) :]}"
            error.args = (error.message,)
        return error
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return None  # the host is unreachable for every resource: explained by the CLI
    what = " ".join(f"{type(error).__name__}: {error}".split())[:240]
    where = f" ({url})" if url else ""
    return UnreadableAnswerError(
        f"{api} {resource}{where} answered something fleetlake could not read ({what}). This resource loads "
        f"nothing from this run and keeps its last complete load; the other resources loaded. Run it again with "
        f"`--debug` and report the traceback to fleetlake; meanwhile leave it out with --resources."
    )


def guarded(
    api: str,
    outcomes: RunOutcomes,
    resource: str,
    function: Callable[P, Iterator[T]],
    *,
    parent: str | None = None,
) -> Callable[P, Iterator[T]]:
    """`function` (a resource's generator function, or a transformer's) failing alone as `resource`.

    The wrapper keeps `function`'s signature (dlt reads it for incremental arguments and transformers).
    """
    outcomes.register(resource, parent)

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        if outcomes.down(resource):
            return  # failed already, a parent failed, or the run is stopping: no more requests
        try:
            yield from function(*args, **kwargs)
        except Exception as error:
            problem = resource_error(api, resource, error, outcomes.url_of(resource))
            if problem is None:
                if isinstance(error, FleetlakeError):
                    outcomes.abort(error)
                raise
            if outcomes.strict:
                # all or nothing: the other resources stop at their next request, and the run with them
                outcomes.abort(problem)
                if problem is error:
                    raise
                raise problem from error
            # the run's outcome table says it again, with every other resource's outcome
            logger.info("%s", problem.message)
            logger.debug("%s %s failed", api, resource, exc_info=error)
            outcomes.fail(resource, problem)

    return run


def stop_if_aborted(outcomes: RunOutcomes) -> None:
    """Raise when another resource stopped the run (called before each request of a resource)."""
    if outcomes.aborted is not None:
        raise RunAbortedError(outcomes.aborted)
