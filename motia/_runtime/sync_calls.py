"""Synchronous calls into the app's async API, from whichever thread a handler runs on.

Motia's SDK has a synchronous module-level API (``Stream("todo").get_group(g)`` returns
a list). A call is answered one of three ways:

- In a worker thread (sync handlers run in one): the call runs on the app's loop and
  the thread waits for it; the loop keeps serving everyone else.
- On the app's loop, when the store never waits (the memory store): the call is
  stepped to completion in place, at no cost.
- On the app's loop otherwise (SQLite, Redis): the loop's thread blocks while a helper
  thread with a loop of its own runs the call against a twin of the store (the same
  data; change hooks are handed back to the app's loop). Nothing else on the app's
  loop runs meanwhile, as in Motia's SDK, where such a call also blocks.

Every wait is bounded by ``Settings.sync_call_timeout``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Protocol, TypeVar

import anyio
import anyio.from_thread

from motia._runtime.state import ChangeHook
from motia.backends.base import Change, Store

__all__ = ["Rebindable", "call_sync", "release_twin", "start_in_place"]

log = logging.getLogger("motia.runtime")
T = TypeVar("T")
R = TypeVar("R", bound="Rebindable")


class Rebindable(Protocol):
    store: Store

    def rebound(self: R, store: Store, wrap: Callable[[ChangeHook], ChangeHook]) -> R: ...


def call_sync(target: R, op: Callable[[R], Awaitable[T]], timeout: float) -> T:
    """``op(target)``'s result, waited for from this thread, whatever it is."""
    if not _on_a_loop():
        return anyio.from_thread.run(_bounded, op, target, timeout)
    store = getattr(target, "store", None)
    if store is None or store.never_suspends:
        return _step_through(op(target))
    return _BRIDGE.run(target, op, timeout)


def start_in_place(work: Awaitable[Any], what: str) -> None:
    """Run ``work`` now, as far as it goes without waiting; the app's loop finishes it.

    Its checks (and their errors) happen in the caller; a failure after that is logged.
    """
    if not _on_a_loop():
        anyio.from_thread.run(_awaited, work)
        return
    if not isinstance(work, Coroutine):
        _keep(asyncio.ensure_future(work), what)
        return
    start: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(_finish_started(work, start))
    task.add_done_callback(lambda _: work.close())  # a no-op unless cancelled mid-way
    try:
        with _as_current(task):
            waiting_on = work.send(None)
    except BaseException as stopped:
        start.set_result(_DONE)
        if isinstance(stopped, StopIteration):
            return
        raise
    start.set_result(waiting_on)
    _keep(task, what)


def release_twin(store: Store) -> Awaitable[None]:
    """Close the helper thread's twin of ``store``, if it made one (at app shutdown)."""
    return _BRIDGE.release(store)


# -- in place -----------------------------------------------------------------------------


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _bounded(op: Callable[[R], Awaitable[T]], target: R, timeout: float) -> T:
    with anyio.fail_after(timeout):
        return await op(target)


async def _awaited(work: Awaitable[T]) -> T:
    return await work


def _step_through(work: Awaitable[T]) -> T:
    coroutine = work if isinstance(work, Coroutine) else _awaited(work)
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("a store that never waits waited: it must not set never_suspends")


_DONE = object()


@contextlib.contextmanager
def _as_current(task: asyncio.Task[Any]) -> Iterator[None]:
    """Make ``task`` the loop's current task while a coroutine is stepped by hand.

    Code that binds itself to ``asyncio.current_task()`` (``asyncio.timeout``, which
    redis-py's socket reads use, cancels that task when it expires) must bind to the
    task that finishes the work, never to the caller's: asyncio's eager tasks swap the
    current task the same way.
    """
    loop = asyncio.get_running_loop()
    caller = asyncio.current_task()
    if caller is not None:
        asyncio.tasks._leave_task(loop, caller)
    asyncio.tasks._enter_task(loop, task)
    try:
        yield
    finally:
        asyncio.tasks._leave_task(loop, task)
        if caller is not None:
            asyncio.tasks._enter_task(loop, caller)


async def _finish_started(coroutine: Coroutine[Any, Any, T], start: asyncio.Future[Any]) -> Any:
    """Finish a coroutine whose first step ran in place, as this task."""
    waiting_on = await start
    if waiting_on is _DONE:
        return None
    return await _finish(coroutine, waiting_on)


async def _finish(coroutine: Coroutine[Any, Any, T], waiting_on: Any) -> T:
    """Drive a coroutine stepped by hand from where it stopped, as a task would."""
    while True:
        try:
            await _wait_for(waiting_on)
        except asyncio.CancelledError as cancelled:
            waiting_on = coroutine.throw(cancelled)
            continue
        try:
            waiting_on = coroutine.send(None)
        except StopIteration as done:
            result: T = done.value
            return result


def _wait_for(waiting_on: Any) -> Awaitable[Any]:
    if waiting_on is None:
        return asyncio.sleep(0)
    return asyncio.wait([waiting_on])


_pending: set[asyncio.Future[Any]] = set()
"""Work started in place: held here until done, since the loop keeps only weak references."""


def _keep(future: asyncio.Future[Any], what: str) -> None:
    _pending.add(future)

    def done(finished: asyncio.Future[Any]) -> None:
        _pending.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.error("%s failed", what, exc_info=finished.exception())

    future.add_done_callback(done)


# -- the helper thread ---------------------------------------------------------------------


class _Bridge:
    """One daemon thread running its own loop, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._twins: dict[int, tuple[Store, Store]] = {}

    def run(self, target: R, op: Callable[[R], Awaitable[T]], timeout: float) -> T:
        app_loop = asyncio.get_running_loop()
        context = contextvars.copy_context()

        def to_app_loop(hook: ChangeHook) -> ChangeHook:
            def handed_back(change: Change) -> None:
                app_loop.call_soon_threadsafe(hook, change)

            return handed_back

        async def on_twin() -> T:
            twin = await self._twin(target.store)
            return await op(target.rebound(twin, to_app_loop))

        future = self._submit(on_twin, context)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"a synchronous call took over {timeout:g}s (sync_call_timeout); "
                "prefer the async ctx API in async handlers"
            ) from None

    async def release(self, store: Store) -> None:
        pair = self._twins.pop(id(store), None)
        if pair is None or pair[1] is store or self._loop is None:
            return
        closing = asyncio.run_coroutine_threadsafe(pair[1].close(), self._loop)
        await asyncio.wrap_future(closing)

    def _submit(
        self, make: Callable[[], Coroutine[Any, Any, T]], context: contextvars.Context
    ) -> concurrent.futures.Future[T]:
        loop = self._running_loop()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = loop.create_task(make(), context=context)
            task.add_done_callback(lambda done: _copy(done, future))

            def cancel_task(given_up: concurrent.futures.Future[T]) -> None:
                if given_up.cancelled():
                    loop.call_soon_threadsafe(task.cancel)

            future.add_done_callback(cancel_task)

        loop.call_soon_threadsafe(start)
        return future

    async def _twin(self, store: Store) -> Store:
        pair = self._twins.get(id(store))
        if pair is not None and pair[0] is store:
            return pair[1]
        twin = store.twin()
        if twin is not store:
            await twin.open()
        self._twins[id(store)] = (store, twin)
        return twin

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="motia-sync-calls", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop


def _copy(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if future.done():
        return
    if task.cancelled():
        future.cancel()
    elif (error := task.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(task.result())


_BRIDGE = _Bridge()
