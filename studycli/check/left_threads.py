"""Solution modules whose load, as a worker prepared (`zygote._prepare`), left a thread running:
the worker serves no more checks, and the workers started after it do not load them.

No signal ends such a thread, and it runs on in the worker. A device worker runs its checks in
itself: the thread ran beside each, its lines in their output (failing other cards' references
for printing), as a check's own left thread did, after which the worker is retired
(`pool._Pool.release`). A zygote forks each check beside it: a lock the thread held at the fork
(in torch's thread pools, a stream's buffer, the allocator of a C library) stays held in the
child, with no thread to let it go, and every check that took it then hung until its limit.

So the worker says which modules did (`said`), and leaves (a zygote once the checks it forked
have ended, forking no more). The checks it had not started run in a fresh worker (the runner
runs again a check whose worker went before starting it), which is told (`config`) to load
none of those modules, and refuses them as the first did (`loading.REFUSED`): their cards fail
saying so, and their other checks load them in the check (a forked check's thread ends with it;
a device worker's is its check's, and retires it).
"""

from __future__ import annotations

from typing import Any

# (In a worker.) The modules whose load left a thread: [solutions folder, module name]
LEFT: list[list[str]] = []

# (In the command.) What workers said: the modules not to load, and their refusals
_KNOWN: dict[str, Any] = {"skip": [], "refused": {}}


def said(write: Any) -> bool:
    """(In a worker, after `_prepare`.) Whether a module's load left a thread running here;
    if so, say which with `write` (a message to the command, `Worker._relay`: `learn`)."""
    if not LEFT:
        return False
    from . import loading

    names = [loading.solution_name(module) for _, module in LEFT]
    refused = {name: loading.REFUSED[name] for name in names if name in loading.REFUSED}
    write(("strays", 0, {"skip": list(LEFT), "refused": refused}))
    return True


def learn(value: dict[str, Any]) -> None:
    """(In the command.) Take what a worker said (`said`), for the workers started later."""
    skip, refused = value.get("skip"), value.get("refused")
    if isinstance(skip, list):
        _KNOWN["skip"] += [pair for pair in skip if isinstance(pair, list) and len(pair) == 2]
    if isinstance(refused, dict):
        _KNOWN["refused"].update(refused)


def config() -> dict[str, Any]:
    """(In the command.) What a worker started now is told (`apply`)."""
    return {"skip": list(_KNOWN["skip"]), "refused": dict(_KNOWN["refused"])}


def apply(told: dict[str, Any] | None) -> set[tuple[str, str]]:
    """(In a worker, preparing.) Keep the refusals `told` (`config`); the modules not to load,
    each a (solutions folder, module name)."""
    from . import loading

    told = told or {}
    loading.REFUSED.update(told.get("refused", {}))
    return {(folder, name) for folder, name in told.get("skip", ())}
