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
a device worker's is its check's, and retires it). Each is known with the stamp of its file as
loaded (`loading.file_stamp`): one fixed since (`solve --watch` checks at every save) is loaded
by the workers started later, as any other.
"""

from __future__ import annotations

from typing import Any

# (In a worker.) The modules whose load left a thread: [solutions folder, module name]
LEFT: list[list[str]] = []

# (In the command.) What workers said: the modules not to load, each [solutions folder, module
# name, its file's stamp as loaded], and their refusals
_KNOWN: dict[str, Any] = {"skip": [], "refused": {}}


def said(write: Any) -> bool:
    """(In a worker, after `_prepare`.) Whether a module's load left a thread running here;
    if so, say which with `write` (a message to the command, `Worker._relay`: `learn`)."""
    if not LEFT:
        return False
    from . import loading

    names = [loading.solution_name(module) for _, module in LEFT]
    refused = {name: loading.REFUSED[name] for name in names if name in loading.REFUSED}
    skip = [[folder, module, _stamp_loaded(folder, module)] for folder, module in LEFT]
    write(("strays", 0, {"skip": skip, "refused": refused}))
    return True


def _stamp_loaded(folder: str, module: str) -> list | None:
    """The stamp of solution module `module`'s file as this worker loaded it: its refusal's
    (`loading.refuse`), else (its load raised) the file's now."""
    from . import loading

    refused = loading.REFUSED.get(loading.solution_name(module))
    stamp = refused[0] if refused is not None else loading.solution_stamp(folder, module)
    return list(stamp) if stamp is not None else None


def learn(value: dict[str, Any]) -> None:
    """(In the command.) Take what a worker said (`said`), for the workers started later: a
    module known already is known once, with the stamp said last (each worker that loaded it
    says so)."""
    skip, refused = value.get("skip"), value.get("refused")
    if isinstance(skip, list):
        for entry in skip:
            if isinstance(entry, list) and len(entry) == 3:
                known = [old for old in _KNOWN["skip"] if old[:2] != entry[:2]]
                _KNOWN["skip"] = [*known, entry]
    if isinstance(refused, dict):
        _KNOWN["refused"].update(refused)


def config() -> dict[str, Any]:
    """(In the command.) What a worker started now is told (`apply`)."""
    return {"skip": list(_KNOWN["skip"]), "refused": dict(_KNOWN["refused"])}


def apply(told: dict[str, Any] | None) -> set[tuple[str, str]]:
    """(In a worker, preparing.) Keep the refusals `told` (`config`); the modules not to load,
    each a (solutions folder, module name): those whose file is as it was when its load left
    a thread (one changed since is loaded, and its stamp, another, refused no more)."""
    from . import loading

    told = told or {}
    loading.REFUSED.update(told.get("refused", {}))
    return {
        (folder, name)
        for folder, name, stamp in told.get("skip", ())
        if stamp is not None and loading.solution_stamp(folder, name) == tuple(stamp)
    }
