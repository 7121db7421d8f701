"""The web page in a real headless Chromium: upload a generated file, see the verdict.

Chromium comes from Debian's package (installed by ``scripts/ensure_media_tools.sh chromium``
when missing) and is driven by Playwright's Python package through ``executable_path``. The
screenshot is kept under ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _chromium() -> str:
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_media_tools.sh"), "chromium"], check=False
    )
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("*** chromium unavailable and could not be installed: browser test skipped ***")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_page_verifies_an_upload(tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "PROVKIT_DATA_DIR": str(tmp_path / "var"), "PROVKIT_PORT": str(port),
           "PROVKIT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}  # fmt: skip
    env.pop("PROVKIT_DATABASE_URL", None)
    cli = [sys.executable, "-m", "service.cli"]
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [*cli, "generate", "a kite over a beach", "-o", str(clip), "--duration", "5", "--width", "320", "--height", "180"],
        env=env, cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    key = subprocess.run(
        [*cli, "keys", "create", "--scope", "verify", "--scope", "screen"],
        env=env, cwd=tmp_path, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    proc = subprocess.Popen(
        [*cli, "serve"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                if httpx.get(url + "readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(url)
            page.fill("#apikey", key)
            page.dispatch_event("#apikey", "change")
            page.set_input_files("#file", str(clip))
            page.wait_for_selector("[data-verdict]", timeout=60_000)
            assert page.get_attribute("[data-verdict]", "data-verdict") == "generated"
            page.fill("#prompt", "用周杰伦的声音唱一首新歌")
            page.click("#screen")
            page.wait_for_selector("[data-action]", timeout=20_000)
            assert page.get_attribute("[data-action]", "data-action") in ("deny", "review")
            page.click("#lang")
            assert "来源核验" in page.inner_text("header")
            assert page.inner_text("[data-verdict]") == "由本平台生成"  # results re-rendered
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "verify-page.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
