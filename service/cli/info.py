"""``provkit info``: which store and keys this command line uses, and why."""

from __future__ import annotations

from typing import Any

import click

from service.cli.common import echo_json, load_settings


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def info_cmd(as_json: bool) -> None:
    """Say which store, configuration and key files provkit uses here (and why), the store's
    schema state and what it holds. Creates nothing."""
    from sqlalchemy import func, select

    from provenance.registry.db import make_engine
    from provenance.registry.models import Generation
    from service.schema import current_revisions, head_revisions
    from service.settings import config_file

    s = load_settings()
    cfg = config_file()
    out: dict[str, Any] = {
        "data_dir": str(s.data_dir),
        "data_dir_from": s.data_dir_source(),
        "config_file": str(cfg) if cfg is not None else None,
        "database": s.public()["database_url"],
        "watermark_key": str(s.watermark_key_path),
        "watermark_key_exists": s.watermark_key_path.is_file(),
        "signing_key": str(s.signing_key_path),
        "signing_key_exists": s.signing_key_path.is_file(),
        "schema": "absent",
        "generations": None,
    }
    exists = not s.db_url.startswith("sqlite") or (s.data_dir / "provkit.db").is_file()
    if exists:
        engine = make_engine(s.db_url)
        try:
            current = current_revisions(engine)
            out["schema"] = (
                "up to date" if current == head_revisions() else "needs `provkit db upgrade`"
            )
            if current:
                with engine.connect() as conn:
                    out["generations"] = conn.scalar(select(func.count()).select_from(Generation))
        except Exception as exc:  # unreachable server, no permission
            out["schema"] = f"unavailable ({type(exc).__name__})"
        finally:
            engine.dispose()
    if as_json:
        echo_json(out)
        return
    click.echo(f"store          {out['data_dir']}  (from {out['data_dir_from']})")
    click.echo(f"database       {out['database']}  [{out['schema']}]")
    click.echo(f"config         {out['config_file'] or 'none'}")
    for name in ("watermark_key", "signing_key"):
        state = "present" if out[f"{name}_exists"] else "not created yet"
        click.echo(f"{name.replace('_', ' '):<14} {out[name]}  ({state})")
    if out["generations"] is not None:
        click.echo(f"records        {out['generations']} generations")
