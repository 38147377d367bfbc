"""The study database's tables: the one definition shared by `create`, `serve` and `report`.

A study folder holds `study.sqlite3` (SQLite in WAL mode). The plan (raters, videos, pairs, tasks)
is written once by `study create`; `votes` is the only table the server writes, one row per task,
committed before the vote is acknowledged. Ids shown to raters (tokens, task ids, video ids) are
random and unguessable; model names appear only in `videos` and `meta`, never in what raters see.
"""

from __future__ import annotations

DATABASE_NAME = "study.sqlite3"
SCHEMA_VERSION = 1
CHOICES = ("left", "right", "tie")

SCHEMA_SQL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                 -- JSON: models [A, B], criteria, allow_ties, seed, runs, ...
);
CREATE TABLE raters (
    rater_id INTEGER PRIMARY KEY,       -- 0 .. N-1
    token    TEXT NOT NULL UNIQUE       -- secrets.token_urlsafe; the rater's link is /r/<token>
);
CREATE TABLE videos (
    video_id TEXT PRIMARY KEY,          -- random; the only name a video is served by
    model    TEXT NOT NULL,
    prompt   TEXT NOT NULL,
    sample   INTEGER NOT NULL,
    seed     INTEGER NOT NULL,
    path     TEXT NOT NULL              -- resolved path inside one of meta "runs"; served only by video_id
);
CREATE TABLE pairs (
    pair_id  INTEGER PRIMARY KEY,
    prompt   TEXT NOT NULL,
    sample   INTEGER NOT NULL,
    seed     INTEGER NOT NULL,
    video_a  TEXT NOT NULL REFERENCES videos(video_id),   -- model A's video (meta models[0])
    video_b  TEXT NOT NULL REFERENCES videos(video_id)    -- model B's video (meta models[1])
);
CREATE TABLE tasks (
    task_id     TEXT PRIMARY KEY,       -- random
    rater_id    INTEGER NOT NULL REFERENCES raters(rater_id),
    position    INTEGER NOT NULL,       -- order in which the rater sees it (0-based)
    pair_id     INTEGER NOT NULL REFERENCES pairs(pair_id),
    criterion   TEXT NOT NULL,
    left_video  TEXT NOT NULL REFERENCES videos(video_id),
    right_video TEXT NOT NULL REFERENCES videos(video_id),
    repeat_of   TEXT REFERENCES tasks(task_id),           -- set on a repeated pair (self-consistency)
    UNIQUE (rater_id, position)
);
CREATE TABLE votes (
    task_id  TEXT PRIMARY KEY REFERENCES tasks(task_id),  -- one vote per task, never overwritten
    rater_id INTEGER NOT NULL REFERENCES raters(rater_id),
    choice   TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
    voted_at REAL NOT NULL              -- unix time
);
"""
# meta keys (values are JSON): "schema_version", "models" ([A, B]), "criteria" (list), "allow_ties"
# (bool), "seed" (int), "runs" (list of run folders), "admin_token" (str), "created_at" (ISO time),
# "tasks_per_rater" (int), "repeats_per_rater" (int).
