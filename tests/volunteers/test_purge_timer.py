"""The daily purge (deploy/portal-purge-personal-data.service, started by its
timer) also runs ``purge_volunteer_data``: departed volunteers' names and phones
go after the same retention period as sign-ups'. Each command the unit runs is a
management command of this project, run the way the unit runs it."""

from io import StringIO

import pytest
from django.core.management import call_command, get_commands

from tests.server import ROOT

UNIT = ROOT / "deploy" / "portal-purge-personal-data.service"
TIMER = ROOT / "deploy" / "portal-purge-personal-data.timer"
PYTHON = "/srv/portal/.venv/bin/python manage.py "


def exec_starts() -> list[str]:
    lines = UNIT.read_text().splitlines()
    return [line.partition("=")[2] for line in lines if line.startswith("ExecStart=")]


def test_the_daily_purge_runs_both_commands_in_order():
    commands = exec_starts()
    assert commands == [PYTHON + "purge_personal_data", PYTHON + "purge_volunteer_data"]
    known = get_commands()
    for command in commands:
        assert command.removeprefix(PYTHON).split()[0] in known
    assert "Type=oneshot" in UNIT.read_text()  # ExecStart lines run one by one
    assert "OnCalendar=" in TIMER.read_text()


@pytest.mark.django_db
def test_the_volunteer_purge_runs_as_the_unit_calls_it():
    out = StringIO()
    call_command("purge_volunteer_data", stdout=out)
    assert out.getvalue().strip()
