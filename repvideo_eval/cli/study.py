"""The user study (paper Table II): create a blind pairwise study from runs, serve it, report it.

  study create RUN_DIR [RUN_DIR ...] --models A,B [--criteria ...] [--raters N]
               [--tasks-per-rater K] [--repeats R] [--pairs P] [--allow-ties] [--seed S]
               [--output STUDY_DIR]
  study serve STUDY_DIR [--host 127.0.0.1] [--port 8765]
  study report STUDY_DIR

`create` pairs the two models' videos by prompt, sample and seed, plans who judges what (seeded),
and writes everything, with one secret link per rater and an admin link, into
STUDY_DIR/study.sqlite3. `serve` runs the rater page and JSON API (uvicorn); every vote is on disk
before it is acknowledged. `report` writes study.csv/.md/.json and a plot into STUDY_DIR.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from repvideo_eval.errors import UserError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_RATERS = 3
DEFAULT_STUDIES_DIR = Path("results/studies")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `study` and its three subcommands."""
    from repvideo_eval.study.criteria import DEFAULT_CRITERIA

    sub = parser.add_subparsers(dest="action", metavar="{create,serve,report}", required=True)
    create = sub.add_parser("create", help="build a study from existing runs")
    create.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    create.add_argument("--models", required=True, help="the two models, baseline first: A,B")
    create.add_argument(
        "--criteria",
        default=",".join(DEFAULT_CRITERIA),
        help=f"comma-separated criteria (default {','.join(DEFAULT_CRITERIA)})",
    )
    create.add_argument(
        "--raters",
        type=int,
        default=DEFAULT_RATERS,
        help=f"number of raters (default {DEFAULT_RATERS})",
    )
    create.add_argument(
        "--tasks-per-rater",
        type=int,
        default=None,
        help="judgements per rater, repeats not counted (default: every pair-criterion, "
        "but at most 50 x the number of criteria: the paper's 50 comparisons per criterion)",
    )
    create.add_argument(
        "--repeats",
        type=int,
        default=0,
        help="repeated pairs per rater, sides swapped, for self-consistency (default 0)",
    )
    create.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="use this many of the shared pairs, drawn at random with --seed (default: all)",
    )
    create.add_argument("--allow-ties", action="store_true", help="offer 'about the same'")
    create.add_argument("--seed", type=int, default=0, help="plan seed (default 0)")
    create.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"study folder (default {DEFAULT_STUDIES_DIR}/A-vs-B)",
    )
    create.add_argument(
        "--base-url",
        default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
        help="address raters will open, for the printed links (default: the local server)",
    )
    serve = sub.add_parser("serve", help="run the rater page and JSON API")
    serve.add_argument("study_dir", type=Path, metavar="STUDY_DIR")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"bind address (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    report = sub.add_parser("report", help="write study.csv/.md/.json and a plot")
    report.add_argument("study_dir", type=Path, metavar="STUDY_DIR")


def execute(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand."""
    return {"create": _create, "serve": _serve, "report": _report}[args.action](args)


def _create(args: argparse.Namespace) -> int:
    from repvideo_eval.study.create import StudySettings, create_study
    from repvideo_eval.study.criteria import parse_criteria
    from repvideo_eval.study.links import parse_base_url
    from repvideo_eval.study.runs import parse_models

    base = parse_base_url(args.base_url)
    models = parse_models(args.models)
    settings = StudySettings(
        run_dirs=tuple(args.run_dirs),
        models=models,
        criteria=tuple(parse_criteria(args.criteria)),
        raters=args.raters,
        tasks_per_rater=args.tasks_per_rater,
        repeats=args.repeats,
        allow_ties=args.allow_ties,
        seed=args.seed,
        pairs=args.pairs,
    )
    output = args.output or DEFAULT_STUDIES_DIR / f"{models[0]}-vs-{models[1]}"
    created = create_study(settings, output)
    print(
        f"study {output}: {created.pairs} pairs, {created.tasks} tasks for "
        f"{len(created.rater_tokens)} raters (database {created.database})"
    )
    for rater, token in enumerate(created.rater_tokens):
        print(f"rater {rater}: {base}/r/{token}")
    print(f"admin: {base}/admin/{created.admin_token}")
    print(f"serve it with: python run_eval.py study serve {output}", file=sys.stderr)
    return 0


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before starting uvicorn, so a busy port or bad address is a one-line error."""
    if not 0 <= port <= 65535:  # getaddrinfo would silently wrap it
        raise UserError(
            f"cannot listen on {host}:{port} (a port is 0-65535)", "Pick a free port with --port."
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _type, _proto, _name, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except (OSError, OverflowError) as exc:
        raise UserError(
            f"cannot listen on {host}:{port} ({exc})",
            "Pick a free port with --port, or a local address with --host.",
        ) from None
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from repvideo_eval.study.app import create_app
    from repvideo_eval.study.database import open_study, read_meta
    from repvideo_eval.study.serve_lock import hold_serve_lock

    app = create_app(args.study_dir)  # validates the folder before the port is taken
    connection = open_study(args.study_dir)
    admin_token = read_meta(connection)["admin_token"]
    connection.close()
    lock = hold_serve_lock(args.study_dir)  # released when this process ends, at the latest
    try:
        sock = bind_socket(args.host, args.port)
        base = f"http://{args.host}:{sock.getsockname()[1]}"
        print(
            f"serving {args.study_dir} on {base}/ (Ctrl-C stops; no vote is lost)", file=sys.stderr
        )
        print(f"admin page with every rater's link: {base}/admin/{admin_token}", file=sys.stderr)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        lock.close()
    return 0


def _report(args: argparse.Namespace) -> int:
    from repvideo_eval.study.database import open_study
    from repvideo_eval.study.report import write_study_report

    open_study(args.study_dir).close()  # a one-line error for a folder that is not a study
    for path in write_study_report(args.study_dir):
        print(f"wrote {path}")
    return 0
