"""Static HTML gallery: the leaderboard, then per prompt every model's videos side by side.

One self-contained page (inline CSS, a few lines of inline JS that only mark videos as loaded
or broken). Prompts are arbitrary text, so every string is HTML-escaped; every link is relative
to the page and URL-quoted segment by segment, so the page works from file:// and from any HTTP
server whose root contains both the report folder and the run folders.
"""

from __future__ import annotations

import html
import math
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from repvideo_eval.reporting.formats import (
    MISSING,
    cell_text,
    label_of,
    number,
    reference_label,
    summary_columns,
)
from repvideo_eval.reporting.leaderboard import Leaderboard
from repvideo_eval.reporting.records import RANDOM_WEIGHTS_NOTICE, RecordSet

#: Above this many videos the page stops preloading metadata (a full VBench run has ~10,000).
PRELOAD_LIMIT = 300

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;font-size:.9rem}
tr.reported td{color:#555;font-style:italic;background:#f6f6f6}
.warning{background:#fff3cd;border:2px solid #c90;padding:.6rem;font-weight:bold}
.prompt{margin:1.5rem 0;border-top:2px solid #999}
video{width:240px;display:block;background:#000}
.scores{margin:.25rem 0;padding-left:1rem;font-size:.8rem}
.error{color:#b00}
.missing{color:#b00;font-weight:bold}
"""

SCRIPT = """
document.querySelectorAll('video').forEach(function (video) {
  function mark(state) { video.setAttribute('data-state', state); }
  if (video.readyState >= 1) { mark('loaded'); }
  video.addEventListener('loadedmetadata', function () { mark('loaded'); });
  video.addEventListener('error', function () {
    mark('error');
    var note = document.createElement('p');
    note.className = 'missing';
    note.textContent = 'video could not be loaded: ' + decodeURIComponent(video.getAttribute('src'));
    video.insertAdjacentElement('afterend', note);
  });
});
"""


def esc(text: object) -> str:
    """HTML-escape any value (quotes included, for attributes)."""
    return html.escape(str(text), quote=True)


def relative_url(target: Path, page_dir: Path) -> str:
    """URL of `target` relative to the folder of the page, each path segment percent-quoted."""
    relative = os.path.relpath(Path(target).resolve(), Path(page_dir).resolve())
    return "/".join(quote(part, safe="") for part in Path(relative).parts)


def _leaderboard_table(board: Leaderboard) -> list[str]:
    summaries = summary_columns(board)
    header = [
        "Row",
        "Kind",
        "Videos",
        *(label_of(s) for s in summaries),
        *(label_of(d) for d in board.dimensions),
    ]
    out = [
        '<table id="leaderboard-table">',
        "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>",
        "<tbody>",
    ]
    for row in board.rows:
        kind = "measured (random weights)" if row.random_weights else "measured"
        cells = [
            row.label,
            kind,
            str(row.n_videos),
            *(cell_text(row.summary.get(s)) for s in summaries),
            *(cell_text(row.cells.get(d)) for d in board.dimensions),
        ]
        out.append('<tr class="measured">' + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    for ref in board.reference:
        cells = [
            reference_label(ref),
            "reported",
            MISSING,
            *(number(ref.values.get(s)) for s in summaries),
            *(number(ref.values.get(d)) for d in board.dimensions),
        ]
        out.append(
            f'<tr class="reported" title="{esc(ref.source)}">'
            + "".join(f"<td>{esc(c)}</td>" for c in cells)
            + "</tr>"
        )
    out += ["</tbody>", "</table>"]
    return out


def _video_scores(frame: pd.DataFrame) -> dict[tuple, dict[str, str]]:
    """(row, prompt_index, prompt, sample, seed) -> {dimension: score text or error}."""
    scores: dict[tuple, dict[str, str]] = defaultdict(dict)
    columns = ["row", "prompt_index", "prompt", "sample", "seed", "dimension", "score", "error"]
    for row, p_index, prompt, sample, seed, dimension, score, error in frame[columns].itertuples(
        index=False, name=None
    ):
        key = (row, int(p_index), str(prompt), int(sample), int(seed))
        if error:
            scores[key][dimension] = f"error: {error}"
        else:
            scores[key][dimension] = number(100 * float(score)) if math.isfinite(score) else MISSING
    return scores


class _UrlMaker:
    """Relative, quoted URLs of videos; the run-folder prefix is resolved once per run."""

    def __init__(self, page_dir: Path) -> None:
        self.page_dir = page_dir
        self.prefixes: dict[str, str] = {}

    def __call__(self, run_dir: str, video: str) -> str:
        if run_dir not in self.prefixes:
            self.prefixes[run_dir] = relative_url(Path(run_dir), self.page_dir)
        tail = "/".join(quote(part, safe="") for part in Path(video).parts)
        return (
            f"{self.prefixes[run_dir]}/{tail}" if self.prefixes[run_dir] not in ("", ".") else tail
        )


def _video_cell(video_path: Path, url: str, scores: dict[str, str], preload: str) -> str:
    parts = []
    if not video_path.is_file():
        parts.append(f'<p class="missing">missing file: {esc(url)}</p>')
    parts.append(
        f'<video controls muted loop playsinline preload="{preload}" src="{esc(url)}"></video>'
    )
    parts.append(f'<a href="{esc(url)}">{esc(video_path.name)}</a>')
    items = "".join(
        f'<li class="{"error" if text.startswith("error") else "score"}">{esc(label_of(dim))}: {esc(text)}</li>'
        for dim, text in scores.items()
    )
    parts.append(f'<ul class="scores">{items}</ul>')
    return "".join(parts)


def render_gallery(
    board: Leaderboard,
    records: RecordSet,
    page_dir: Path,
    links: Iterable[Path] = (),
    title: str = "repvideo-eval gallery",
) -> str:
    """The gallery page as HTML text; `links` are report files to link at the top."""
    table = records.table
    scores = _video_scores(table)
    videos = table.drop_duplicates(["row", "prompt_index", "prompt", "sample", "seed"])
    preload = "metadata" if len(videos) <= PRELOAD_LIMIT else "none"
    rows = [row.label for row in board.rows]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if board.random_weights:
        out.append(f'<p class="warning" id="random-weights">{esc(RANDOM_WEIGHTS_NOTICE)}</p>')
    link_items = "".join(
        f'<li><a href="{esc(relative_url(p, page_dir))}">{esc(p.name)}</a></li>' for p in links
    )
    if link_items:
        out.append(f'<ul id="report-files">{link_items}</ul>')
    out += [
        '<section id="leaderboard">',
        "<h2>Leaderboard</h2>",
        f"<p>Scores in percent; brackets: {round(100 * board.method['confidence'])}% bootstrap interval over prompts. "
        "Italic rows are reported (published) numbers, not measured here.</p>",
    ]
    out += _leaderboard_table(board)
    if board.notes:
        out.append("<ul id='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in board.notes) + "</ul>")
    out += ["</section>", '<section id="prompts">', "<h2>Videos by prompt</h2>"]
    by_prompt: dict[tuple[int, str], dict[tuple[int, int], dict[str, tuple[str, str]]]] = (
        defaultdict(lambda: defaultdict(dict))
    )
    for label, p_index, prompt, sample, seed, run_dir, video in videos[
        ["row", "prompt_index", "prompt", "sample", "seed", "run_dir", "video"]
    ].itertuples(index=False, name=None):
        by_prompt[(int(p_index), str(prompt))][(int(sample), int(seed))][label] = (run_dir, video)
    make_url = _UrlMaker(page_dir)
    for p_index, prompt in sorted(by_prompt):
        out.append(f'<article class="prompt" data-prompt-index="{p_index}">')
        out.append(f'<h3>#{p_index}: <span class="prompt-text">{esc(prompt)}</span></h3>')
        out.append(
            '<table class="videos"><thead><tr><th>sample / seed</th>'
            + "".join(f"<th>{esc(r)}</th>" for r in rows)
            + "</tr></thead><tbody>"
        )
        for (sample, seed), by_row in sorted(by_prompt[(p_index, prompt)].items()):
            cells = []
            for label in rows:
                if label not in by_row:
                    cells.append(f"<td>{MISSING}</td>")
                    continue
                run_dir, video = by_row[label]
                key = (label, p_index, prompt, sample, seed)
                cells.append(
                    f"<td>{_video_cell(Path(run_dir) / video, make_url(run_dir, video), scores.get(key, {}), preload)}</td>"
                )
            out.append(f"<tr><th>sample {sample}, seed {seed}</th>{''.join(cells)}</tr>")
        out.append("</tbody></table></article>")
    out += ["</section>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(out)
