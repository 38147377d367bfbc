"""Server-rendered HTML: the admin progress page and short notice pages (all text escaped)."""

from __future__ import annotations

from html import escape
from typing import Any

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<link rel="stylesheet" href="/static/study.css">'
)


def plain_page(title: str, message: str) -> str:
    """A page with a heading and one sentence."""
    return (
        f'{_HEAD}<title>{escape(title)}</title></head><body><main class="notice">'
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>"
    )


def admin_page(progress: dict[str, Any]) -> str:
    """Progress per rater with each rater's link; refreshes itself every 15 s."""
    rows = "".join(
        "<tr>"
        f"<td>{r['rater_id']}</td>"
        f'<td class="num">{r["done"]} / {r["total"]}</td>'
        f'<td><progress max="{r["total"]}" value="{r["done"]}"></progress></td>'
        f"<td>{escape(r['last_vote'] or '-')}</td>"
        f'<td><a href="{escape(r["link"])}">{escape(r["link"])}</a></td>'
        "</tr>"
        for r in progress["raters"]
    )
    return (
        f'{_HEAD}<meta http-equiv="refresh" content="15"><title>Study progress</title></head>'
        '<body><main class="admin"><h1>Study progress</h1>'
        f'<p id="summary">{progress["votes"]} of {progress["tasks"]} judgements recorded; '
        f"{progress['finished_raters']} of {len(progress['raters'])} raters finished.</p>"
        "<table><thead><tr><th>Rater</th><th>Done</th><th>Progress</th><th>Last vote (UTC)</th>"
        f"<th>Link</th></tr></thead><tbody>{rows}</tbody></table></main></body></html>"
    )
