"""`study serve` and `study report` refuse bad input with one line and exit code 2."""

from __future__ import annotations

import socket

from repvideo_eval.cli.main import main


def one_line_error(capsys, code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_serve_a_folder_that_is_not_a_study(tmp_path, capsys):
    err = one_line_error(capsys, main(["study", "serve", str(tmp_path)]))
    assert "is not a study folder" in err and "study create" in err


def test_serve_on_a_busy_port(make_study, small_run, capsys):
    study = make_study("--raters", "2", run=small_run)
    capsys.readouterr()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        err = one_line_error(capsys, main(["study", "serve", str(study), "--port", str(port)]))
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_serve_on_an_impossible_port(make_study, small_run, capsys):
    study = make_study("--raters", "2", run=small_run)
    capsys.readouterr()
    err = one_line_error(capsys, main(["study", "serve", str(study), "--port", "70000"]))
    assert "cannot listen" in err


def test_report_on_a_folder_that_is_not_a_study(tmp_path, capsys):
    err = one_line_error(capsys, main(["study", "report", str(tmp_path)]))
    assert "is not a study folder" in err
    assert list(tmp_path.iterdir()) == []


def test_study_needs_a_subcommand(capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_info:
        main(["study"])
    assert exit_info.value.code == 2
    assert "required" in capsys.readouterr().err


def test_a_second_server_on_the_same_study_is_refused_until_the_first_dies(
    make_study, small_run, tmp_path, capsys
):
    """One `study serve` per folder (it is the only writer): a second one stops with one line
    while a real server process holds the folder, and kill -9 of that server frees it."""
    from repvideo_eval.study.process import ServerProcess, free_port
    from repvideo_eval.study.serve_lock import hold_serve_lock

    study = make_study("--raters", "2", run=small_run)
    capsys.readouterr()
    server = ServerProcess(study, log=tmp_path / "server.log").start()
    try:
        port = free_port()
        err = one_line_error(capsys, main(["study", "serve", str(study), "--port", str(port)]))
        assert "already being served" in err and "stop it first" in err
        with socket.socket() as probe:  # the refused server never took its port
            probe.bind(("127.0.0.1", port))
    finally:
        server.kill()
    hold_serve_lock(study).close()  # the kernel released the dead server's lock
