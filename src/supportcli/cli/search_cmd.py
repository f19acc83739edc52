"""``supportcli search``: find tickets by the words in them, best match first; ``list --search`` with the
words as arguments and a limit of its own, so it takes every filter and output option ``list`` does."""

from __future__ import annotations

from typing import Annotated

import typer

from supportcli.cli.filters import FilterValues, filter_options
from supportcli.cli.output_options import Limit, Listing, output_options
from supportcli.cli.views import SortOption, emit_found

DEFAULT_LIMIT = 50


@filter_options(without=("search",))
@output_options(tabular=True, limit=Limit(DEFAULT_LIMIT, "At most this many, the best first."), quiet=True)
def search(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="TEXT",
            help='Words (in any order), "a quoted phrase", or a prefix such as refun*.',
            show_default=False,
        ),
    ],
    *,
    filters: FilterValues,
    sort: SortOption = None,
    listing: Listing,
) -> None:
    """Search tickets: subject, body, updates, customer messages, customer, org, category and tags.

    Every word must appear, in any order, in any of them; a word with a star at its end is a prefix. The
    best match comes first; on a terminal the matching words are highlighted. Every filter of `list`
    narrows the search (see README.md, "Finding a ticket").

    Examples:

      supportcli search refund late

      supportcli search '"old address"' --limit 5

      supportcli search 'refun*' --status open --tag vip --csv

      supportcli search parcel --mine --overdue --json
    """
    filters["search"] = " ".join(words)
    emit_found(ctx.obj, filters, sort, listing)
