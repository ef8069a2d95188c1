"""The restore drill: back up a site with content and residents' sign-ups, restore
it into an empty, separate database and media folder, and find every page, image,
document and sign-up again — byte for byte for the files.

Everything runs in subprocesses (``manage.py``) against databases of their own
(SQLite files, or PostgreSQL databases next to CI's ``DATABASE_URL``, see
``tests/server.py``), the way an operator runs ``make backup`` / ``make restore``;
the test database is not used. Also: a database with content is refused without
``--force`` (and saved first with it), a damaged archive is refused, and a backup
taken while residents keep signing up restores to exactly its manifest."""

import io
import json
import os
import shutil
import tarfile
import time
from pathlib import Path

import pytest

from tests.server import DemoServer

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(
    ("postgres://", "postgresql://")
)

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from events import registration
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
index = EventIndexPage.objects.get(slug="activities")
page = ActivityPageFactory(parent=index, title="备份演练·邻里议事会",
    slug="backup-drill", registration_required=True, capacity=3,
    max_party_size=2, waitlist_enabled=True)
occurrence = Occurrence.objects.get(page_id=page.pk)
made = [registration.sign_up(page, occurrence.pk, name=f"演练居民{n}",
            phone=f"1371234{n:04d}", party_size=1 + n % 2,
            household="花园路 {n} 号院", note="带老人").registration
        for n in range(6)]
registration.cancel(made[0].pk)
registration.check_in(made[1].pk, user=get_user_model().objects.get(username="admin"))
get_document_model().objects.create(title="报名须知",
    file=ContentFile("报名须知：请提前十分钟到场。".encode(), name="baoming-xuzhi.txt"))
get_document_model().objects.create(title="议事规则",
    file=ContentFile(b"%PDF-1.4 drill", name="yishi-guize.pdf"))
# A rendition on disk and in the database: the backup leaves both out.
image = get_image_model().objects.order_by("pk").first()
rendition = image.get_rendition("fill-120x120")
print(json.dumps({"rendition": rendition.file.name}))
"""

SNAPSHOT = """
import hashlib, json
from django.core.files.storage import default_storage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page
from events.models import Registration
def digest(name):
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()
def files(model):
    return sorted([o.pk, o.title, o.file.name, digest(o.file.name)]
                  for o in model.objects.all())
print(json.dumps({
    "pages": [list(row) for row in Page.objects.order_by("path").values_list(
        "url_path", "title", "content_type__model", "live")],
    "images": files(get_image_model()),
    "documents": files(get_document_model()),
    "registrations": [[*row[:-1], row[-1] and row[-1].isoformat()]
        for row in Registration.objects.order_by("pk").values_list(
            "code", "token", "name", "phone", "party_size", "household", "note",
            "status", "occurrence_id", "page_id", "checked_in_at")],
}, ensure_ascii=False))
"""

TABLES = """
import json
from django.db import connection
print(json.dumps(connection.introspection.table_names()))
"""

AFTER_RESTORE = """
import json
from django.core.files.storage import default_storage
from django.test import Client
from wagtail.images import get_image_model
image = get_image_model().objects.order_by("pk").first()
renditions_before = image.renditions.count()
rendition = image.get_rendition("fill-120x120")
response = Client().get("/")
activity = Client().get("/activities/backup-drill/")
print(json.dumps({
    "renditions_before": renditions_before,
    "rendition_file": default_storage.exists(rendition.file.name),
    "home": response.status_code,
    "home_has_title": "花园路" in response.content.decode(),
    "activity": activity.status_code,
    "activity_has_title": "备份演练" in activity.content.decode(),
}))
"""

LATE_SIGN_UP = """
import json
from events import registration
from events.models import Occurrence
from wagtail.models import Page
page = Page.objects.get(slug="backup-drill").specific
occurrence = Occurrence.objects.get(page_id=page.pk)
made = registration.sign_up(page, occurrence.pk, name="晚到居民", phone="13912345678")
print(json.dumps({"status": made.registration.status}))
"""

SIGN_UP_STREAM = """
import os, time
from events import registration
from events.models import EventIndexPage, Occurrence
from tests.factories import ActivityPageFactory
index = EventIndexPage.objects.get(slug="activities")
page = ActivityPageFactory(parent=index, title="备份期间的报名", slug="during-backup",
    registration_required=True, capacity=5000, max_party_size=1)
occurrence = Occurrence.objects.get(page_id=page.pk)
n = 0
while not os.path.exists({stop!r}) and n < 5000:
    registration.sign_up(page, occurrence.pk, name=f"持续报名{{n}}",
                         phone=f"1380000{{n:04d}}")
    n += 1
    if n == 1:
        print("started", flush=True)
    time.sleep(0.02)
print(n, flush=True)
"""


def manage(server: DemoServer, *args: str, check: bool = True):
    result = server.manage_output(*args)
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def empty_site(workdir: Path, suffix: str, **extra_env) -> DemoServer:
    """A database with nothing in it (not even migrated) and an empty media
    folder — where a restore drill starts."""
    workdir.mkdir(parents=True, exist_ok=True)
    return DemoServer(workdir, suffix=suffix, extra_env=extra_env, demo=False)


def only_archive(folder: Path) -> Path:
    archives = sorted(folder.glob("portal-*.tar.gz"))
    assert len(archives) == 1, archives
    return archives[0]


def media_files(server: DemoServer) -> list[str]:
    media = Path(server.env["MEDIA_ROOT"])
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    if ON_POSTGRES:
        assert shutil.which("pg_dump") and shutil.which("pg_restore"), (
            "PostgreSQL backups need pg_dump and pg_restore: "
            "apt-get install postgresql-client (make browser-deps does)"
        )
    base = tmp_path_factory.mktemp("backup")
    timings = {}
    (base / "source").mkdir()
    source = DemoServer(
        base / "source", suffix="backup", extra_env={"BACKUP_DIR": str(base / "safety")}
    )
    source.prepare_database()  # the demo, as `make run` loads it
    made = source.python(SETUP)
    assert (Path(source.env["MEDIA_ROOT"]) / made["rendition"]).is_file()
    before = source.python(SNAPSHOT)

    started = time.monotonic()
    backed_up = manage(source, "backup_site", "--output", str(base / "backups"))
    timings["backup"] = time.monotonic() - started
    archive = only_archive(base / "backups")

    target = empty_site(base / "target", "restore")
    started = time.monotonic()
    restored = manage(target, "restore_site", str(archive))
    timings["restore"] = time.monotonic() - started
    after = target.python(SNAPSHOT)
    yield {
        "base": base,
        "source": source,
        "target": target,
        "archive": archive,
        "rendition": made["rendition"],
        "before": before,
        "after": after,
        "backup_output": backed_up.stdout,
        "restore_output": restored.stdout,
        "timings": timings,
    }
    source.stop()
    target.stop()


def test_restore_drill_finds_every_page_image_document_and_sign_up(drill):
    before, after = drill["before"], drill["after"]
    print(
        f"\nrestore drill ({'PostgreSQL' if ON_POSTGRES else 'SQLite'}): "
        f"{len(after['pages'])} pages, {len(after['images'])} images, "
        f"{len(after['documents'])} documents, "
        f"{len(after['registrations'])} sign-ups; backup "
        f"{drill['timings']['backup']:.1f} s, restore "
        f"{drill['timings']['restore']:.1f} s (subprocesses included), "
        f"archive {drill['archive'].stat().st_size / 1024:.0f} KiB"
    )
    print(drill["backup_output"] + drill["restore_output"])
    assert len(before["pages"]) > 50
    assert len(before["images"]) > 20
    assert len(before["documents"]) == 2
    assert len(before["registrations"]) > 20
    # Every original file was present before, so equal lists mean equal bytes.
    for kind in ("images", "documents"):
        assert all(row[3] for row in before[kind]), kind
    assert after["pages"] == before["pages"]
    assert after["images"] == before["images"]
    assert after["documents"] == before["documents"]
    assert after["registrations"] == before["registrations"]
    drill_rows = [r for r in after["registrations"] if r[2].startswith("演练居民")]
    # Cancelled, promoted from the waitlist, still waiting: all kept as they were.
    assert [r[7] for r in drill_rows] == [
        "cancelled",
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
        "waitlisted",
    ]
    assert drill_rows[1][10] is not None  # checked in
    assert "恢复完成" in drill["restore_output"]
    assert "与备份清单核对：一致" in drill["restore_output"]


def test_archive_holds_database_media_and_manifest(drill):
    with tarfile.open(drill["archive"]) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    database = "database.pgdump" if ON_POSTGRES else "database.sqlite3"
    assert names[0] == database and names[-1] == "manifest.json"
    media = {n.removeprefix("media/") for n in names if n.startswith("media/")}
    assert media == set(manifest["media"]["files"])
    assert manifest["media"]["missing"] == []  # every image and document row's file
    assert any(n.startswith("original_images/") for n in media)
    assert {"documents/baoming-xuzhi.txt", "documents/yishi-guize.pdf"} <= media
    # Renditions regenerate; they are left out (files and rows).
    assert drill["rendition"] not in media
    assert not any(n.startswith(("images/", "posters/")) for n in media)
    assert manifest["database"]["vendor"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert manifest["database"]["file"] == database
    assert len(manifest["database"]["sha256"]) == 64
    before = drill["before"]
    assert manifest["counts"]["pages"] == len(before["pages"])
    assert manifest["counts"]["images"] == len(before["images"])
    assert manifest["counts"]["documents"] == len(before["documents"])
    assert manifest["counts"]["registrations"] == len(before["registrations"])
    assert manifest["migrations"]["events"]["applied"] >= 1
    assert manifest["migrations"]["wagtailcore"]["latest"]
    # It holds residents' names and phones: owner only.
    assert drill["archive"].stat().st_mode & 0o077 == 0
    assert "备份完成" in drill["backup_output"]
    assert f"报名 {len(before['registrations'])} 条" in drill["backup_output"]


def test_restored_site_serves_pages_and_draws_renditions_again(drill):
    found = drill["target"].python(AFTER_RESTORE)
    assert found == {
        "renditions_before": 0,
        "rendition_file": True,
        "home": 200,
        "home_has_title": True,
        "activity": 200,
        "activity_has_title": True,
    }


def test_database_with_content_is_refused_without_force(drill):
    source = drill["source"]
    before = source.python(SNAPSHOT)
    media_before = media_files(source)
    refused = manage(source, "restore_site", str(drill["archive"]), check=False)
    assert refused.returncode != 0
    assert "目标数据库不是空的" in refused.stderr
    assert "--force" in refused.stderr
    assert "未做任何更改" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert source.python(SNAPSHOT) == before
    assert media_files(source) == media_before


def test_force_saves_the_current_data_before_restoring(drill, tmp_path):
    safety_dir = tmp_path / "safety"
    site = empty_site(tmp_path / "forced", "force", BACKUP_DIR=str(safety_dir))
    manage(site, "restore_site", str(drill["archive"]))
    assert site.python(LATE_SIGN_UP)["status"] == "waitlisted"
    with_late = site.python(SNAPSHOT)
    assert len(with_late["registrations"]) == len(drill["before"]["registrations"]) + 1

    forced = manage(site, "restore_site", str(drill["archive"]), "--force")
    site.stop()
    assert "覆盖前的数据已另存为" in forced.stdout
    assert site.python(SNAPSHOT) == drill["before"]
    # The sign-up made after the backup is not lost: it is in the safety backup.
    safety = only_archive(safety_dir)
    assert safety.name.endswith("-before-restore.tar.gz")
    with tarfile.open(safety) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["counts"]["registrations"] == len(with_late["registrations"])


def rewrite_archive(source: Path, target: Path, change) -> None:
    """Copy an archive member by member, letting ``change(name, data)`` alter
    the bytes (the manifest is kept as it was)."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for member in old:
            data = old.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def damaged_copies(archive: Path, folder: Path):
    """(what, archive, expected message) for each kind of damage."""

    def rewritten(name, prefix):
        bad = folder / f"portal-{name}.tar.gz"
        rewrite_archive(
            archive,
            bad,
            lambda member, data: (
                flip_last_byte(data) if member.startswith(prefix) else data
            ),
        )
        return bad

    yield "database", rewritten("database", "database."), "sha256 校验不符"
    yield (
        "media",
        rewritten("media", "media/original_images/"),
        "媒体文件缺失或 sha256 校验不符",
    )
    truncated = folder / "portal-truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    yield "truncated", truncated, "已损坏或不完整"
    no_manifest = folder / "portal-no-manifest.tar.gz"
    with tarfile.open(archive) as old, tarfile.open(no_manifest, "w:gz") as new:
        for member in old:
            if member.name != "manifest.json":
                new.addfile(member, old.extractfile(member))
    yield "no manifest", no_manifest, "没有备份清单"


def test_damaged_archive_is_refused_and_changes_nothing(drill, tmp_path):
    site = empty_site(tmp_path / "site", "damaged")
    try:
        for what, bad, expected in damaged_copies(drill["archive"], tmp_path):
            refused = manage(site, "restore_site", str(bad), check=False)
            assert refused.returncode != 0, what
            assert expected in refused.stderr, (what, refused.stderr)
            assert "未做任何更改" in refused.stderr, what
            assert "Traceback" not in refused.stderr, what
        assert site.python(TABLES) == []
        assert media_files(site) == []
    finally:
        site.stop()


def test_backup_while_residents_sign_up_restores_to_its_manifest(drill, tmp_path):
    """Online backup: sign-ups keep arriving from another process from before the
    backup starts until after it ends; the archive is one consistent moment, so
    the restore matches its manifest exactly (restore_site fails otherwise)."""
    source = drill["source"]
    # The only test that writes to the source site.
    before = len(drill["before"]["registrations"])
    stop = tmp_path / "stop"
    writer = source.manage_popen(
        "shell", "--no-imports", "-c", SIGN_UP_STREAM.format(stop=str(stop))
    )
    try:
        assert writer.stdout.readline().strip() == "started"
        manage(source, "backup_site", "--output", str(tmp_path / "backups"))
        time.sleep(0.5)
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    written = int(out.split()[-1])
    codes = [row[0] for row in source.python(SNAPSHOT)["registrations"]]
    assert len(codes) == before + written

    archive = only_archive(tmp_path / "backups")
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    taken = manifest["counts"]["registrations"]
    print(f"\nbackup taken with {taken - before} of {written} concurrent sign-ups")
    assert before < taken < len(codes)

    site = empty_site(tmp_path / "site", "online")
    try:
        manage(site, "restore_site", str(archive))
        restored = site.python(SNAPSHOT)["registrations"]
        assert [row[0] for row in restored] == codes[:taken]
    finally:
        site.stop()
