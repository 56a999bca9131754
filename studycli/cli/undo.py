"""The undo command: take back today's latest rating, after the session that gave it ended."""

from __future__ import annotations

import typer

from studycli.errors import StoreUnavailable, StudyError

from .app import app, options, print_prose, stdout
from .context import now, open_study


@app.command()
def undo(ctx: typer.Context) -> None:
    """Take back today's latest rating: its card goes back exactly as it was before it.

    The log marks the rating undone; run it again to take back the one before. (A session
    ends as soon as nothing is due, before its last rating could be undone with u: this takes
    it back.) Imported ratings are not undone here.

    Example: studycli undo
    """
    from studycli.study.api import ReviewMethod
    from studycli.study.labels import RATING_NAMES
    from studycli.study.study_days import study_day_start

    moment = now()
    with open_study(ctx) as study:
        latest = study.history(limit=1)
        if not latest:
            stdout().print("nothing to undo: no rating stands in your review log")
            return
        today = study_day_start(moment, study.settings.day_starts_at)
        # the latest of today's own ratings: one imported since (another machine's) stays
        own = [r for r in study.history(since=today) if r.method != ReviewMethod.IMPORT]
        review = own[0] if own else latest[0]
        when = review.reviewed_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if not own:
            said = f"the latest rating, {review.card_id} {RATING_NAMES[review.rating]} at {when},"
            raise StudyError(
                f"{said} was imported from another review log: undo takes back the ratings "
                "given here today only"
                if review.reviewed_at >= today
                else f"{said} was not given today (today's study day began at "
                f"{today.astimezone():%Y-%m-%d %H:%M}, day_starts_at in settings.toml): undo "
                "takes back today's ratings only (rate the card again in `studycli review` or "
                "`studycli cram` instead)"
            )
        assert review.id is not None
        try:
            study.undo(review.id, moment)
        except StoreUnavailable as exc:  # (busy, a full disk: the same undo works after)
            raise StudyError(
                f"{review.card_id} {RATING_NAMES[review.rating]} at {when} is not undone yet: {exc}"
            ) from exc
        except StudyError as exc:  # its reason says "this rating": say which, and that it stands
            raise StudyError(
                f"cannot undo {review.card_id} {RATING_NAMES[review.rating]} at {when}, which "
                f"stands: {exc}"
            ) from exc
    back = ""
    if review.check_status == "pass":  # the answer put aside with its rating comes back
        from studycli.check.attempt_files import bring_back, rated_path

        if (path := bring_back(review.card_id, _starter_test(ctx, review.card_id))) is not None:
            back = f", and your answer is back in {path}"
        elif rated_path(review.card_id).is_file():  # (an attempt begun since stays)
            back = f"; your answer is kept in {rated_path(review.card_id)}"
    print_prose(
        stdout(),
        f"undone: {review.card_id} {RATING_NAMES[review.rating]} at {when}; the card is back "
        f"as it was before it{back}",
        markup=False,
    )


def _starter_test(ctx: typer.Context, card_id: str):
    """Whether an attempt file of card `card_id` is still its starter (see `bring_back`); a
    card the content no longer has, or cannot read, has none: its attempt is left as it is."""
    from studycli.check.starters import is_untouched

    try:
        content = options(ctx).load()
        card, _ = content.card_of(card_id)
    except StudyError:
        return lambda path: False
    return lambda path: is_untouched(card, content, path)
