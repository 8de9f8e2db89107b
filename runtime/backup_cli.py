"""``qms backup`` and ``qms restore``: the database, uploaded files and secret key in one archive.

Both read ``DATABASE_URL`` / ``QMS_DATA_DIR`` from the environment (engine.settings) without
starting the web app, so a restore works even when the current database is broken. Stop the web
processes and workers before restoring. A refusal prints a bilingual message and exits with 1.
"""
from __future__ import annotations

from pathlib import Path

import click

from engine.services import backup
from engine.services.backup import BackupError
from engine.settings import load_settings
from runtime.cli import _fail


def _settings():
    try:
        return load_settings()
    except ValueError as exc:      # e.g. PORT is not a number
        click.echo(f"Error / 错误: {exc}", err=True)
        raise click.exceptions.Exit(1)


@click.command("backup")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Archive file or directory (default: ./qms-backup-<UTC time>.tar.gz) / 备份文件或目录")
def backup_command(output: Path | None) -> None:
    """Back up the database (SQLite copy or pg_dump), the uploaded files and the secret key."""
    settings = _settings()
    if output is None or output.is_dir():
        output = (output or Path.cwd()) / backup.default_archive_name()
    try:
        manifest = backup.make_backup(settings.database_url, settings.data_dir, output)
    except BackupError as exc:
        _fail(exc.message)
    rows = sum(manifest["tables"].values())
    click.echo(f"Backup written / 备份已写入: {output}")
    click.echo(f"  {manifest['dialect']}, migration {manifest['alembic_revision']}, {len(manifest['tables'])} tables, "
               f"{rows} rows, {manifest['uploads']} uploaded files / 个表、行、上传文件")


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Overwrite a database / uploads directory that holds data (kept aside) / 覆盖已有数据（原数据保留副本）")
def restore_command(archive: Path, force: bool) -> None:
    """Verify ARCHIVE, then restore it into DATABASE_URL and QMS_DATA_DIR (stop QMS first)."""
    settings = _settings()
    try:
        result = backup.restore_backup(archive, settings.database_url, settings.data_dir, force=force)
    except BackupError as exc:
        _fail(exc.message)
    manifest = result.manifest
    click.echo(f"Restored / 已恢复: {archive} (created {manifest['created_at']}, "
               f"version {manifest['product_version']}, migration {manifest['alembic_revision']})")
    expected, restored = sum(manifest["tables"].values()), sum(result.counts.get(t, 0) for t in manifest["tables"])
    click.echo(f"  rows / 行数: {restored} restored of {expected} in the backup, {len(manifest['tables'])} tables; "
               f"{manifest['uploads']} uploaded files / 个上传文件")
    for table, before, now in result.mismatches:
        click.echo(f"  MISMATCH / 不一致: {table}: backup {before}, restored {now}", err=True)
    if result.extra_tables:
        click.echo(f"  tables not in the backup, left as they are / 备份中没有的表（未改动）: "
                   f"{', '.join(result.extra_tables)}", err=True)
    if result.upgraded:
        click.echo(f"  migrated from {result.upgraded_from} to the current schema / 已迁移到当前版本")
    for path in result.kept:
        click.echo(f"  previous data kept at / 原数据保留于: {path}")
    if result.mismatches:
        raise click.exceptions.Exit(1)
