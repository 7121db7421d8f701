"""The web page in a real headless Chromium, driven the way a moderator uses it.

Chromium comes from Debian's package (installed by ``scripts/ensure_media_tools.sh chromium``
when missing) and is driven by Playwright's Python package through ``executable_path``. One
server and one store serve the whole walk-through: a generated clip (with an anchored
certificate), an unrelated clip, an undecodable file, a verify-only key that may not screen, and
the Chinese view. Screenshots are kept under ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx

from .conftest import CLI, admin_key, ffmpeg_path, media_tool, provkit_env, running_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

ACTIONS = [
    {"id": "a1", "kind": "human_asset", "at": "2026-01-01T10:00:00Z",
     "details": {"asset_type": "lyrics", "perceptible": True}, "refs": ["a" * 64]},
    {"id": "a2", "kind": "selection", "at": "2026-01-01T10:05:00Z",
     "details": {"chosen": ["take-2"], "rejected": ["take-1", "take-3"]}},
]  # fmt: skip


def _key(env: dict[str, str], cwd: Path, *scopes: str) -> str:
    args = [a for s in scopes for a in ("--scope", s)]
    out = subprocess.run(
        [*CLI, "keys", "create", *args, "--json"],
        env=env, cwd=cwd, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return str(json.loads(out)["key"])


def _unrelated_clip(path: Path) -> None:
    """A clip no one registered: ffmpeg's test pattern with a tone."""
    subprocess.run(
        [ffmpeg_path(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3",
         "-pix_fmt", "yuv420p", "-shortest", str(path)],
        check=True,
    )  # fmt: skip


def _english_left(page: Any) -> list[str]:
    """English texts of the page's table (and of the server's reason table) still visible."""
    found: list[str] = page.evaluate(
        """() => {
        const text = document.body.innerText;
        const en = Object.entries(T.en).filter(([k, v]) => T.zh[k] !== v).map(([, v]) => v);
        const reasons = Object.values(REASONS).map(r => r.en.split("{")[0].trim());
        return [...en, ...reasons].filter(s => /[A-Za-z]{3}/.test(s) && s.length >= 4)
          .filter(s => text.includes(s));
        }"""
    )
    return found


def test_page_walkthrough(tmp_path: Path) -> None:
    chromium = media_tool("chromium")
    from playwright.sync_api import sync_playwright

    env = provkit_env(tmp_path)
    clip, other, broken = tmp_path / "kite.mp4", tmp_path / "pattern.mp4", tmp_path / "broken.mp4"
    receipt = json.loads(
        subprocess.run(
            [*CLI, "generate", "a kite over a beach", "-o", str(clip), "--duration", "4",
             "--width", "320", "--height", "180", "--json"],
            env=env, cwd=tmp_path, check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    _unrelated_clip(other)
    broken.write_bytes(b"this is not a video at all\n" * 40)
    admin = admin_key(env, tmp_path)
    full = _key(env, tmp_path, "verify", "screen")
    verify_only = _key(env, tmp_path, "verify")
    ARTIFACTS.mkdir(exist_ok=True)

    with running_server(env, tmp_path) as base, sync_playwright() as p:
        auth = {"Authorization": f"Bearer {admin}"}
        minted = httpx.post(
            base + "/v1/certificates",
            json={"mark_id": receipt["mark_id"], "actions": ACTIONS},
            headers=auth,
            timeout=30,
        )
        assert minted.status_code == 201, minted.text
        assert httpx.post(base + "/v1/certificates/anchor", headers=auth, timeout=30).json()[
            "anchored"
        ]

        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1200}, locale="en-GB")
        page.goto(base + "/")
        page.fill("#apikey", full)
        page.dispatch_event("#apikey", "change")

        # 1. the generated clip: verdict, file name, time zone, certificate all ✔ and valid
        page.set_input_files("#file", str(clip))
        page.wait_for_selector("[data-verdict]", timeout=60_000)
        assert page.get_attribute("[data-verdict]", "data-verdict") == "generated"
        assert page.inner_text("#vfile") == "kite.mp4"
        assert "watermark decoded" in page.inner_text("#why")
        assert all(re.search(r"(UTC|GMT)", s) for s in page.locator(".time").all_inner_texts())
        assert "human contribution" in page.inner_text("#csummary")
        page.click("#cverify")
        page.wait_for_selector("[data-valid]", timeout=30_000)
        outcomes = page.eval_on_selector_all("[data-check]", "es => es.map(e => e.dataset.outcome)")
        assert outcomes and set(outcomes) == {"pass"}, outcomes
        assert page.inner_text(".checks").count("✔") == len(outcomes)
        assert page.get_attribute("[data-valid]", "data-valid") == "true"
        assert "Certificate valid" in page.inner_text("[data-valid]")
        page.screenshot(path=str(ARTIFACTS / "page-generated.png"), full_page=True)

        # 2. an unrelated clip: a clean "not found", and no signal shown as not checked
        page.set_input_files("#file", str(other))
        page.wait_for_function(
            "() => document.querySelector('#vfile')?.textContent === 'pattern.mp4'"
            " && !!document.querySelector('[data-verdict]')",
            timeout=60_000,
        )
        assert page.get_attribute("[data-verdict]", "data-verdict") == "not_found"
        wm = page.get_attribute("[data-signal=watermark] [data-outcome]", "data-outcome")
        assert wm == "fail"
        assert page.get_attribute("[data-signal=watermark] .pill", "class") == "pill off"

        # 3. an undecodable file: a human message, no class name; picking it again re-runs
        page.set_input_files("#file", str(broken))
        page.wait_for_selector("#vout .error", timeout=30_000)
        err = page.inner_text("#vout .error")
        assert "could not be read as audio or video" in err
        assert not re.search(r"[A-Z][a-z]+(Error|Exception)\b", err), err
        assert page.inner_text("#vfile") == "broken.mp4"
        with page.expect_request(lambda r: r.url.endswith("/v1/verify"), timeout=10_000):
            page.set_input_files("#file", str(broken))  # the same file again: checked again
        page.wait_for_selector("#vout .error", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "page-undecodable.png"), full_page=True)
        page.set_input_files("#file", str(clip))  # a good file clears the stale error
        page.wait_for_selector("[data-verdict]", timeout=60_000)
        assert page.locator("#vout .error").count() == 0
        page.click("#cverify")
        page.wait_for_selector("[data-valid]", timeout=30_000)

        # 4. screening with a verify-only key: the page names the missing scope
        page.fill("#apikey", verify_only)
        page.dispatch_event("#apikey", "change")
        page.fill("#prompt", "用周杰伦的声音唱一首新歌")
        page.click("#screen")
        page.wait_for_selector("#sout .error", timeout=20_000)
        msg = page.inner_text("#sout .error")
        assert "lacks the “screen” scope" in msg and "--scope screen" in msg, msg

        # 5. Chinese: every text from the tables, nothing English left
        page.click("#lang")
        assert "来源核验" in page.inner_text("header")
        assert page.inner_text("[data-verdict]") == "由本平台生成"
        assert "水印" in page.inner_text("#why")
        assert "证书有效" in page.inner_text("[data-valid]")
        assert "缺少“screen”权限" in page.inner_text("#sout .error")
        assert page.eval_on_selector_all("#tier option", "os => os.map(o => o.textContent)") == [
            "免费版", "专业版", "企业版"
        ]  # fmt: skip
        left = _english_left(page)
        assert left == [], left
        page.screenshot(path=str(ARTIFACTS / "page-chinese.png"), full_page=True)

        # the verify-only key still screens once a screen key is given
        page.fill("#apikey", full)
        page.dispatch_event("#apikey", "change")
        page.click("#screen")
        page.wait_for_selector("[data-action]", timeout=20_000)
        assert page.get_attribute("[data-action]", "data-action") in ("deny", "review")
        browser.close()
