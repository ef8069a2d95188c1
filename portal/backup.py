"""Backups of the whole site — database and media — and their restore.

One archive, ``portal-YYYYmmdd-HHMMSS.tar.gz``, holds:

- ``database.sqlite3`` (SQLite) or ``database.pgdump`` (PostgreSQL,
  ``pg_dump --format=custom``);
- ``media/``: everything under ``MEDIA_ROOT`` except what the site draws again on
  demand — image renditions (``images/``) and posters (``posters/``). The
  rendition rows are left out of the dump too, so a restored site has no row that
  points to a file the archive does not carry;
- ``manifest.json`` (written last, so a cut-off archive has none): when, which
  database, the applied migrations, the counts of pages, images, documents, users
  and sign-ups, the sha256 of the dump and of every media file.

Consistent while the site runs. SQLite: Python's ``sqlite3`` online backup API
copies the database in one step under a read lock (writers keep writing to the
WAL); the counts are then taken from the copy. PostgreSQL: a ``REPEATABLE READ``
transaction exports its snapshot, the counts are read in it and ``pg_dump
--snapshot`` dumps exactly that state. The dump is taken before the media are
read, so every image and document row in it has its file in the archive.

The restore checks the archive completely (manifest, checksums, database vendor,
migrations the code knows) before it changes anything, refuses a database that
already holds content unless forced — and then first saves that content in a
backup of its own — restores the database (SQLite: the backup API into the
configured database; PostgreSQL: ``pg_restore --clean --if-exists --no-owner`` in
one transaction), copies the media and compares the counts with the manifest.

Every user-facing message is in ``BackupError.message``; the management commands
``backup_site`` and ``restore_site`` only print.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import django
import wagtail
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA_DIR = "media"
# Drawn again on first request: image renditions and posters (sharing/store.py).
MEDIA_EXCLUDED = ("images", "posters")
CHUNK = 1024 * 1024
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
COUNT_LABELS = {
    "pages": ("页面", "个"),
    "images": ("图片", "张"),
    "documents": ("文档", "个"),
    "registrations": ("报名", "条"),
    "users": ("用户", "个"),
}


class BackupError(Exception):
    """Anything that stops a backup or a restore; ``message`` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float


@dataclass
class RestoreResult:
    manifest: dict
    counts: dict[str, int]
    seconds: float
    safety_backup: BackupResult | None = None
    pending_migrations: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# What is counted, and where
# ---------------------------------------------------------------------------


def counted_tables() -> dict[str, str]:
    return {
        "pages": Page._meta.db_table,
        "images": get_image_model()._meta.db_table,
        "documents": get_document_model()._meta.db_table,
        "registrations": _registration_model()._meta.db_table,
        "users": get_user_model()._meta.db_table,
    }


def _registration_model():
    # By label: portal sits under the content apps and never imports them.
    from django.apps import apps

    return apps.get_model("events", "Registration")


def count_rows(cursor) -> dict[str, int]:
    """Row counts through any DB-API cursor (the live database, a SQLite copy, a
    PostgreSQL snapshot). Table names come from the models, never from input."""
    counts = {}
    for key, table in counted_tables().items():
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[key] = cursor.fetchone()[0]
    return counts


def file_names(cursor) -> set[str]:
    """The files that image and document rows point to."""
    names = set()
    for model in (get_image_model(), get_document_model()):
        cursor.execute(f'SELECT "file" FROM "{model._meta.db_table}"')
        names.update(row[0] for row in cursor.fetchall())
    return names


def migration_summary(cursor) -> dict[str, dict]:
    """Per app: how many migrations are applied and the latest one."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    summary: dict[str, dict] = {}
    for app, name in cursor.fetchall():
        entry = summary.setdefault(app, {"applied": 0, "latest": name})
        entry["applied"] += 1
        entry["latest"] = max(entry["latest"], name)
    return summary


def describe_counts(counts: dict[str, int]) -> str:
    return "，".join(
        f"{label} {counts.get(key, 0)} {unit}"
        for key, (label, unit) in COUNT_LABELS.items()
    )


def default_backup_dir() -> Path:
    """``BACKUP_DIR`` from the environment, else ``backups/`` in the checkout."""
    return Path(os.environ.get("BACKUP_DIR") or Path(settings.BASE_DIR) / "backups")


def media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise BackupError(
            "媒体文件不在本机文件夹（默认存储不是 FileSystemStorage），"
            "请用存储服务自己的备份功能备份媒体文件。"
        )
    return Path(settings.MEDIA_ROOT)


def vendor_name(vendor: str) -> str:
    return VENDOR_NAMES.get(vendor, vendor)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------


def create_backup(output_dir: Path | None = None, *, label: str = "") -> BackupResult:
    """Write one archive of the database and the media into ``output_dir``
    (default: ``default_backup_dir()``), readable by its owner only — it holds
    residents' names and phone numbers. Raises BackupError."""
    started = time.monotonic()
    media = media_root()
    output_dir = Path(output_dir or default_backup_dir())
    output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = timezone.localtime()
    path = _free_name(output_dir, f"portal-{now:%Y%m%d-%H%M%S}{label}")
    partial = path.with_name(path.name + ".part")
    vendor = connection.vendor
    # The dump is staged next to the archive: the same disk, not a small /tmp.
    with tempfile.TemporaryDirectory(prefix=".portal-backup-", dir=output_dir) as tmp:
        if vendor == "sqlite":
            dump, snapshot = _dump_sqlite(Path(tmp) / SQLITE_FILE)
        elif vendor == "postgresql":
            dump, snapshot = _dump_postgresql(Path(tmp) / PG_FILE)
        else:
            raise BackupError(f"不支持备份 {vendor} 数据库。")
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "site_name": getattr(settings, "WAGTAIL_SITE_NAME", ""),
            "versions": {"django": django.__version__, "wagtail": wagtail.__version__},
            "database": {
                "vendor": vendor,
                "file": dump.name,
                "bytes": dump.stat().st_size,
                "sha256": sha256_file(dump),
            },
            "migrations": snapshot["migrations"],
            "counts": snapshot["counts"],
            "media": {"excluded": [f"{d}/" for d in MEDIA_EXCLUDED], "files": {}},
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with (
                os.fdopen(fd, "wb") as raw,
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
            ):
                tar.add(dump, arcname=dump.name)
                manifest["media"]["files"] = _add_media(tar, media)
                # Rows whose file is not in MEDIA_ROOT (a wrong MEDIA_ROOT, a file
                # deleted by hand): the backup goes on, the operator is told.
                manifest["media"]["missing"] = sorted(
                    snapshot["files"] - set(manifest["media"]["files"])
                )
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
                tar.addfile(info, _BytesReader(data))
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise BackupError(f"写入备份文件 {path} 失败：{error}") from error
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(path, manifest, time.monotonic() - started)


def _free_name(folder: Path, stem: str) -> Path:
    path, n = folder / f"{stem}.tar.gz", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.tar.gz"
    return path


def _dump_sqlite(target: Path) -> tuple[Path, dict]:
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) under one read lock: a consistent copy while the
        # site keeps writing to its WAL.
        connection.connection.backup(copy)
        rendition_table = get_image_model().get_rendition_model()._meta.db_table
        copy.execute(f'DELETE FROM "{rendition_table}"')
        copy.commit()
        # The copy is a single self-contained file, not a WAL database.
        copy.execute("PRAGMA journal_mode=DELETE")
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"数据库副本完整性检查未通过：{check}")
        cursor = copy.cursor()
        snapshot = {
            "counts": count_rows(cursor),
            "migrations": migration_summary(cursor),
            "files": file_names(cursor),
        }
    finally:
        copy.close()
    return target, snapshot


def pg_environment() -> dict[str, str]:
    """libpq environment for pg_dump / pg_restore: the password goes in
    ``PGPASSWORD``, never on a command line that ``ps`` shows."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    for key, var in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 {name}。请安装 PostgreSQL 客户端（Debian：apt-get install "
            "postgresql-client，或 .ci/system-deps postgresql-client）。"
        )
    return found


def _run_pg_tool(command: list[str], what: str) -> None:
    result = subprocess.run(
        command, env=pg_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip() or result.returncode}")


def _dump_postgresql(target: Path) -> tuple[Path, dict]:
    pg_dump = _pg_tool("pg_dump")
    rendition_table = get_image_model().get_rendition_model()._meta.db_table
    # The counts and the dump must describe the same instant: this transaction
    # exports its snapshot and pg_dump reads from it while the transaction stays
    # open.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot_id = cursor.fetchone()[0]
        snapshot = {
            "counts": count_rows(cursor),
            "migrations": migration_summary(cursor),
            "files": file_names(cursor),
        }
        _run_pg_tool(
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot_id}",
                f"--exclude-table-data={rendition_table}",
                f"--file={target}",
            ],
            "pg_dump ",
        )
    return target, snapshot


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, size=-1):
        end = len(self.data) if size is None or size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos : end], min(end, len(self.data))
        return chunk


class _HashingReader:
    """Feeds tarfile and hashes the same bytes, so the checksum is of exactly what
    went into the archive."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size=-1):
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        return chunk


def _add_media(tar: tarfile.TarFile, media: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if not media.is_dir():
        return files
    for folder, dirs, names in os.walk(media):
        here = Path(folder)
        relative_dir = here.relative_to(media)
        if relative_dir == Path("."):
            dirs[:] = [d for d in dirs if d not in MEDIA_EXCLUDED]
        dirs.sort()
        for name in sorted(names):
            source = here / name
            relative = (relative_dir / name).as_posix()
            try:
                handle = open(source, "rb")  # noqa: SIM115
            except FileNotFoundError:
                continue  # deleted while we walked: not in the dump's past either
            with handle:
                info = tar.gettarinfo(arcname=f"{MEDIA_DIR}/{relative}", fileobj=handle)
                if not info.isfile():
                    continue
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                reader = _HashingReader(handle)
                tar.addfile(info, reader)
                files[relative] = reader.digest.hexdigest()
    return files


# ---------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------


def existing_content() -> dict[str, int]:
    """What the configured database holds beyond a freshly migrated one (which
    has Wagtail's root and welcome page and nothing else). Empty dict: no
    tables at all."""
    tables = set(connection.introspection.table_names())
    wanted = counted_tables()
    if not tables & set(wanted.values()):
        return {}
    found = {}
    with connection.cursor() as cursor:
        for key, table in wanted.items():
            if table not in tables:
                continue
            if key == "pages":
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" p JOIN django_content_type c '
                    "ON c.id = p.content_type_id "
                    "WHERE NOT (c.app_label = 'wagtailcore' AND c.model = 'page')"
                )
            else:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            found[key] = cursor.fetchone()[0]
    return found


def restore_backup(
    archive: Path, *, force: bool = False, safety_dir: Path | None = None
) -> RestoreResult:
    """Restore ``archive`` into the configured database and MEDIA_ROOT.

    Preconditions checked before anything changes: the archive is complete and
    every checksum matches its manifest, it comes from the same database vendor,
    the code knows every migration it has applied, and the database holds no
    content — unless ``force``, in which case that content is first saved by
    ``create_backup(safety_dir)``. Media files are added or replaced, never
    deleted. Raises BackupError; also after restoring when the counts differ
    from the manifest."""
    started = time.monotonic()
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"找不到备份文件 {archive}。")
    media = media_root()
    with tempfile.TemporaryDirectory(prefix="portal-restore-") as tmp:
        work = Path(tmp)
        manifest, dump, media_files = _unpack_and_verify(archive, work)
        _check_compatible(manifest)
        safety = None
        try:
            found = existing_content()
        except DatabaseError as error:
            raise BackupError(
                f"无法读取目标数据库（{error}），未做任何更改。"
            ) from error
        if any(found.values()):
            if not force:
                raise BackupError(
                    "目标数据库不是空的（现有"
                    f"{describe_counts(found)}），未做任何更改。恢复会用备份覆盖"
                    "这些数据；确定要覆盖，请加 --force（覆盖前会先把现有数据"
                    "另存为一份备份）。"
                )
            safety = create_backup(safety_dir, label="-before-restore")
        if connection.vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgresql(dump)
        _copy_media(work / MEDIA_DIR, media, media_files)
        with connection.cursor() as cursor:
            counts = count_rows(cursor)
            migrations = migration_summary(cursor)
        _after_restore()
        expected = manifest["counts"]
        if counts != expected or migrations != manifest["migrations"]:
            raise BackupError(
                "恢复后的数据与备份清单不一致：清单为"
                f"{describe_counts(expected)}；数据库中为{describe_counts(counts)}"
                + (
                    "；已应用的迁移也不同"
                    if migrations != manifest["migrations"]
                    else ""
                )
                + "。"
            )
    return RestoreResult(
        manifest,
        counts,
        time.monotonic() - started,
        safety_backup=safety,
        pending_migrations=_pending_migrations(),
    )


def _safe_member_name(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    if path.parts[0] == MEDIA_DIR and len(path.parts) > 1:
        return path
    if len(path.parts) == 1 and name in (MANIFEST, SQLITE_FILE, PG_FILE):
        return path
    return None


def _unpack_and_verify(archive: Path, work: Path) -> tuple[dict, Path, dict]:
    """Unpack into ``work`` and check it against its manifest; nothing outside
    ``work`` is touched. Returns (manifest, dump path, media checksums)."""
    damaged = f"备份文件 {archive.name} 已损坏或不完整"
    hashes: dict[str, str] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                path = _safe_member_name(member.name)
                if path is None or not member.isfile():
                    raise BackupError(f"{damaged}：含有不应出现的条目 {member.name}。")
                target = work.joinpath(*path.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = tar.extractfile(member)
                with open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                hashes[path.as_posix()] = digest.hexdigest()
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise BackupError(f"{damaged}（{error}），未做任何更改。") from error
    if MANIFEST not in hashes:
        raise BackupError(f"{damaged}：没有备份清单 {MANIFEST}，未做任何更改。")
    try:
        manifest = json.loads((work / MANIFEST).read_text("utf-8"))
        database = manifest["database"]
        expected_media = manifest["media"]["files"]
        if not isinstance(manifest["counts"], dict) or not isinstance(
            manifest["migrations"], dict
        ):
            raise TypeError("counts and migrations must be objects")
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{damaged}：备份清单无法读取，未做任何更改。") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"备份格式 {manifest.get('format')} 不受支持（本程序为 {FORMAT}）。"
        )
    if hashes.get(database["file"]) != database["sha256"]:
        raise BackupError(
            f"{damaged}：数据库文件 {database['file']} 的 sha256 校验不符，"
            "未做任何更改。"
        )
    found_media = {
        name.removeprefix(f"{MEDIA_DIR}/"): digest
        for name, digest in hashes.items()
        if name.startswith(f"{MEDIA_DIR}/")
    }
    if found_media != expected_media:
        bad = sorted(
            name
            for name in set(found_media) | set(expected_media)
            if found_media.get(name) != expected_media.get(name)
        )
        raise BackupError(
            f"{damaged}：{len(bad)} 个媒体文件缺失或 sha256 校验不符"
            f"（如 {bad[0]}），未做任何更改。"
        )
    return manifest, work / database["file"], expected_media


def _check_compatible(manifest: dict) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"这份备份来自 {vendor_name(vendor)} 数据库，不能恢复到当前配置的 "
            f"{vendor_name(connection.vendor)} 数据库，未做任何更改。"
        )
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = [
        f"{app}.{entry['latest']}"
        for app, entry in manifest["migrations"].items()
        if (app, entry["latest"]) not in known
    ]
    if unknown:
        raise BackupError(
            "这份备份来自更新的程序版本（当前代码没有迁移 "
            f"{'、'.join(sorted(unknown))}），请先更新代码再恢复。未做任何更改。"
        )


def _restore_sqlite(dump: Path) -> None:
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("恢复不能在数据库事务中进行。")
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        # The backup API writes the whole database under the target's write lock
        # and keeps its journal mode (WAL), so other connections see either the
        # old or the new database — unlike copying a file under a live -wal.
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _restore_postgresql(dump: Path) -> None:
    pg_restore = _pg_tool("pg_restore")
    connection.close()
    _run_pg_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings.DATABASES['default']['NAME']}",
            str(dump),
        ],
        "pg_restore ",
    )


def _copy_media(source: Path, media: Path, files: dict[str, str]) -> None:
    for relative in sorted(files):
        target = media / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.restoring")
        shutil.copyfile(source / relative, temporary)
        os.chmod(temporary, stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(temporary, target)


def _after_restore() -> None:
    """Pages and seats changed under every cache: start new generations."""
    from portal import pagecache

    pagecache.bump(*pagecache.GENERATIONS)


def _pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]
