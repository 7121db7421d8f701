"""The web page in a real headless Chromium: upload a generated file, see the verdict.

Chromium comes from Debian's package (installed by ``scripts/ensure_media_tools.sh chromium``
when missing) and is driven by Playwright's Python package through ``executable_path``. The
screenshot is kept under ``test-artifacts/``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import CLI, media_tool, provkit_env, running_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _chromium() -> str:
    return media_tool("chromium")


def test_page_verifies_an_upload(tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    env = provkit_env(tmp_path)
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [*CLI, "generate", "a kite over a beach", "-o", str(clip), "--duration", "5", "--width", "320", "--height", "180"],
        env=env, cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    key = subprocess.run(
        [*CLI, "keys", "create", "--scope", "verify", "--scope", "screen"],
        env=env, cwd=tmp_path, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    with running_server(env, tmp_path) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.goto(base + "/")
        page.fill("#apikey", key)
        page.dispatch_event("#apikey", "change")
        page.set_input_files("#file", str(clip))
        page.wait_for_selector("[data-verdict]", timeout=60_000)
        assert page.get_attribute("[data-verdict]", "data-verdict") == "generated"
        assert "watermark decoded" in page.inner_text("#why")
        page.fill("#prompt", "用周杰伦的声音唱一首新歌")
        page.click("#screen")
        page.wait_for_selector("[data-action]", timeout=20_000)
        assert page.get_attribute("[data-action]", "data-action") in ("deny", "review")
        page.click("#lang")
        assert "来源核验" in page.inner_text("header")
        assert page.inner_text("[data-verdict]") == "由本平台生成"  # results re-rendered
        assert "水印" in page.inner_text("#why")  # the reasons too, from their codes
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "verify-page.png"), full_page=True)
        browser.close()
