"""The web UI in real headless Chromium against a real `realeyes serve`: upload, verdict, maps, feedback, history,
and the API key dialog.

Playwright never downloads a browser here: it launches Debian's /usr/bin/chromium, and the tests skip without it.
Screenshots go to test-artifacts/ (gitignored), pass or fail.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 30.0
LABELS = {"authentic", "ai-generated", "manipulated", "inconclusive"}


def realeyes_command() -> list[str]:
    """The installed CLI: `python -m realeyes` when the package supports it, else the console script."""
    if importlib.util.find_spec("realeyes.__main__") is not None:
        return [sys.executable, "-m", "realeyes"]
    return [str(Path(sys.executable).with_name("realeyes"))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """One `realeyes serve` process with its own data directory."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"serve-{self.port}.log"

    def cli(self, *args: str) -> str:
        """Run a `realeyes` CLI command on the same data directory; returns its stdout."""
        done = subprocess.run(
            [*realeyes_command(), *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"realeyes {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    def api(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def start(self) -> LiveServer:
        self.log = self.log_path.open("wb")
        command = [*realeyes_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"realeyes serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
        pytest.fail(f"realeyes serve was not healthy after {STARTUP_TIMEOUT_S} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log is not None:
            self.log.close()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """make_server(**env) -> a LiveServer not yet started (run CLI commands first if needed, then .start())."""
    servers: list[LiveServer] = []

    def make(**extra_env: str) -> LiveServer:
        data_dir = tmp_path / f"data-{len(servers)}"
        data_dir.mkdir()
        # The shipped models, like a real deployment (tests/conftest.py points the unit tests at none).
        env = {**os.environ, "REALEYES_DATA_DIR": str(data_dir), "REALEYES_MODELS_DIR": str(REPO / "models")}
        server = LiveServer(data_dir, {**env, **extra_env})
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own context (own sessionStorage); uncaught page errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda error: errors.append(str(error)))
    yield new_page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/ at the repository root (gitignored): screenshots kept after the run, pass or fail."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def photo_jpeg(photo: np.ndarray, tmp_path: Path) -> Path:
    """The shared synthetic photo-like image as a JPEG on disk, as a user would pick it."""
    path = tmp_path / "street-scene.jpg"
    Image.fromarray(photo).save(path, format="JPEG", quality=88)
    return path


def open_app(page: Page, server: LiveServer) -> None:
    # Playwright turns Chromium's file-chooser interception on asynchronously when a listener is added; one added
    # only inside expect_file_chooser() can lose the race with the key press, and the chooser then opens
    # natively and is never reported. Adding one before the page loads makes the interception certain.
    page.on("filechooser", lambda _chooser: None)
    page.goto(server.base_url + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def upload(page: Page, image: Path, keyboard: bool = False, status: int = 201) -> str:
    """Choose a file through the drop zone (its file input, or Enter on the focused zone as a keyboard user
    would), check the API's answer status; returns the id of the analysis shown."""
    posted = page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/v1/analyses"))
    with posted as response:
        if keyboard:
            page.locator("#dropzone").focus()
            with page.expect_file_chooser() as chooser:
                page.keyboard.press("Enter")
            chooser.value.set_files(image)
        else:
            page.locator("#file-input").set_input_files(image)
    assert response.value.status == status
    report = page.locator("#report")
    expect(report).to_be_visible(timeout=20_000)
    expect(page.locator("#report-heading")).to_have_text(image.name)
    analysis_id = report.get_attribute("data-analysis-id")
    assert analysis_id
    return analysis_id


def natural_width(page: Page, selector: str) -> int:
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }", arg=selector
    )
    return int(page.locator(selector).evaluate("img => img.naturalWidth"))


def check_verdict(page: Page, analysis: dict[str, Any]) -> None:
    label = page.locator("#verdict-label")
    assert label.get_attribute("data-label") in LABELS
    assert label.get_attribute("data-label") == analysis["label"]
    expect(label.locator(".verdict-word")).to_have_text(re.compile(rf"^{re.escape(str(analysis['label']))}$", re.I))
    p_fake = float(analysis["p_fake"])
    expect(page.locator("#gauge-value")).to_have_text(f"{round(p_fake * 100)}%")
    expect(page.locator("#gauge-meter")).to_have_attribute("aria-valuenow", str(round(p_fake * 100)))
    expect(page.locator("#reasons li").first).to_be_visible()


def check_maps(page: Page, analysis: dict[str, Any]) -> None:
    maps = analysis["maps"]
    assert isinstance(maps, dict)
    for name, title in (("spectrum", "Spectrum"), ("ela", "ELA"), ("noise", "Noise")):
        assert name in maps, f"the API returned no {name} map: {sorted(maps)}"
        expect(page.get_by_role("tab", name=title)).to_be_visible()
    page.get_by_role("tab", name="ELA").click()
    expect(page.get_by_role("tab", name="ELA")).to_have_attribute("aria-selected", "true")
    assert natural_width(page, "img[data-map='ela']") > 0
    page.keyboard.press("ArrowRight")  # the tabs pattern: arrows move selection and focus
    expect(page.get_by_role("tab", name="Noise")).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Noise")).to_be_visible()
    assert natural_width(page, "img[data-map='noise']") > 0
    assert natural_width(page, "#report-image") > 0


def check_mask(page: Page, analysis: dict[str, Any]) -> None:
    if "mask" not in analysis["maps"]:
        expect(page.locator("#mask-caption")).to_contain_text("No localizer model is loaded")
        expect(page.locator("#mask-opacity")).to_be_hidden()
        return
    expect(page.locator("#mask-canvas")).to_have_attribute("data-ready", "true")
    page.locator("#mask-opacity").fill("25")
    expect(page.locator("#mask-opacity-value")).to_have_text("25%")
    assert page.locator("#mask-canvas").evaluate("c => getComputedStyle(c).opacity") == "0.25"
    localizer = next(e for e in analysis["evidence"] if e["analyzer"] == "localizer")
    percent = math.floor(localizer["score"] * 100 + 0.5)  # as the page's Math.round
    expect(page.locator("#mask-caption")).to_contain_text(f"Confidence that something was edited: {percent}%")


def check_provenance_and_evidence(page: Page, analysis: dict[str, Any]) -> None:
    # A freshly encoded JPEG carries no C2PA manifest: the panel must say so plainly.
    expect(page.get_by_test_id("no-credentials")).to_contain_text("No content credentials")
    evidence = analysis["evidence"]
    assert isinstance(evidence, list)
    rows = page.locator("#evidence-table tbody tr")
    expect(rows).to_have_count(len(evidence))
    for item in evidence:
        expect(page.locator(f"#evidence-table tr[data-analyzer='{item['analyzer']}']")).to_contain_text(item["summary"])


def send_feedback(page: Page) -> None:
    page.get_by_role("button", name="This verdict is wrong").click()
    page.get_by_label("Correct label").select_option("manipulated")
    page.get_by_role("textbox", name="Note").fill("The sky was pasted in from another photo.")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator("#feedback-done")).to_have_text(re.compile(r"Thank you.*Manipulated.*recorded"))


def test_upload_shows_verdict_maps_provenance_feedback_and_history(
    page: Page, make_server: Callable[..., LiveServer], photo_jpeg: Path, artifacts: Path
) -> None:
    server = make_server().start()
    try:
        open_app(page, server)
        analysis_id = upload(page, photo_jpeg, keyboard=True)
        with server.api() as api:
            analysis = api.get(f"/v1/analyses/{analysis_id}").json()

        check_verdict(page, analysis)
        check_maps(page, analysis)
        check_mask(page, analysis)
        check_provenance_and_evidence(page, analysis)
        send_feedback(page)
        with server.api() as api:
            feedback = api.get(f"/v1/analyses/{analysis_id}").json()["feedback"]
        assert [(f["label"], f["note"]) for f in feedback] == [
            ("manipulated", "The sky was pasted in from another photo.")
        ]
    finally:
        page.screenshot(path=artifacts / "ui-verdict.png", full_page=True)

    page.get_by_role("link", name="History").click()
    item = page.locator(f".history-item[data-id='{analysis_id}']")
    expect(item).to_contain_text(photo_jpeg.name)
    expect(item.locator("[data-label]")).to_have_attribute("data-label", analysis["label"])
    assert natural_width(page, f".history-item[data-id='{analysis_id}'] img") > 0
    page.screenshot(path=artifacts / "ui-history.png", full_page=True)

    item.click()  # a stored analysis opens in the verdict view
    expect(page.locator("#report")).to_have_attribute("data-analysis-id", analysis_id)
    expect(page.locator("#feedback-list li")).to_have_count(1)


def test_key_dialog_appears_when_auth_is_required_and_the_key_unlocks_uploads(
    page: Page, make_server: Callable[..., LiveServer], photo_jpeg: Path, artifacts: Path
) -> None:
    server = make_server(REALEYES_AUTH="required")
    key = server.cli("keys", "create", "--name", "e2e", "--scopes", "analyze,admin").strip().splitlines()[-1]
    server.start()
    with server.api() as anonymous:
        assert anonymous.get("/v1/analyzers").status_code == 401

    page.goto(server.base_url + "/")
    dialog = page.get_by_role("dialog", name="API key required")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("textbox", name="API key")).to_be_focused()

    page.get_by_role("textbox", name="API key").fill("not-a-valid-key")
    page.get_by_role("button", name="Use key").click()
    expect(dialog).to_contain_text("rejected")  # asked again, saying why
    page.screenshot(path=artifacts / "ui-key-dialog.png")

    page.get_by_role("textbox", name="API key").fill(key)
    page.get_by_role("button", name="Use key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert page.evaluate("sessionStorage.getItem('realeyes.apiKey')") == key
    assert page.evaluate("localStorage.length") == 0

    analysis_id = upload(page, photo_jpeg)
    assert page.locator("#verdict-label").get_attribute("data-label") in LABELS
    assert natural_width(page, "#report-image") > 0  # images are fetched with the key too
    with server.api(key) as api:
        assert api.get(f"/v1/analyses/{analysis_id}").status_code == 200

    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("sessionStorage.getItem('realeyes.apiKey')") is None


def test_several_files_start_a_batch_job_whose_results_open_their_reports(
    page: Page, make_server: Callable[..., LiveServer], photo: np.ndarray, tmp_path: Path, artifacts: Path
) -> None:
    names = ["first.jpg", "second.png"]
    Image.fromarray(photo).save(tmp_path / names[0], quality=90)
    Image.fromarray(photo[::2, ::2]).save(tmp_path / names[1])
    server = make_server().start()
    open_app(page, server)

    page.locator("#file-input").set_input_files([tmp_path / name for name in names])
    job = page.locator("#job")
    expect(job).to_be_visible()
    expect(job).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(page.locator("#job-status")).to_contain_text("2 of 2 files processed")
    expect(page.get_by_role("button", name="Cancel job")).to_be_hidden()
    rows = page.locator("#job-results tbody tr")
    expect(rows).to_have_count(2)
    for name in names:
        expect(rows.filter(has_text=name).locator("[data-label]")).to_have_count(1)
    page.screenshot(path=artifacts / "ui-batch.png", full_page=True)

    page.get_by_role("link", name=f"Open the report for {names[1]}").click()
    expect(page.locator("#report-heading")).to_have_text(names[1])
    assert page.locator("#verdict-label").get_attribute("data-label") in LABELS


def test_a_file_the_server_rejects_shows_the_api_error_message(
    page: Page, make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("meeting notes, not a picture")
    server = make_server().start()
    open_app(page, server)

    page.locator("#file-input").set_input_files(not_an_image)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("unsupported_media")
    with server.api() as api:
        message = api.post("/v1/analyses", files={"file": ("notes.jpg", b"meeting notes")}).json()["error"]["message"]
    expect(alert).to_contain_text(message)
    expect(page.locator("#report")).to_be_hidden()
    expect(page.locator("#busy")).to_be_hidden()


def test_a_video_becomes_a_job_and_its_report_shows_the_timeline(
    page: Page, make_server: Callable[..., LiveServer], tmp_path: Path, artifacts: Path
) -> None:
    from video.video_media import encode_video

    clip = tmp_path / "interview.mp4"
    clip.write_bytes(encode_video(seconds=3.0, size=(480, 270)))
    server = make_server().start()
    open_app(page, server)

    page.locator("#file-input").set_input_files(clip)
    job = page.locator("#job")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator("#job-status")).to_contain_text("100% of the video analysed")
    page.get_by_role("link", name=f"Open the report for {clip.name}").click()
    expect(page.locator("#report-heading")).to_have_text(clip.name)
    timeline = page.locator("#timeline")
    expect(timeline).to_be_visible()
    expect(timeline.locator("svg[role=img] circle.series-frame")).to_have_count(6)  # 3 s at 2 frames per second
    expect(page.locator("#timeline-meta")).to_contain_text("6 frames sampled at 2 per second")
    expect(page.locator("#timeline-frames img").first).to_be_visible()
    expect(page.locator("#timeline-table-body tr")).to_have_count(6)
    page.screenshot(path=artifacts / "ui-video.png", full_page=True)


@pytest.mark.parametrize(
    ("button", "kind", "filename"),
    [("AI-generated sample", "fake", "webui-parameters.png"), ("Real camera sample", "real", "camera-exif.jpg")],
)
def test_a_sample_button_fetches_the_sample_and_shows_its_verdict(
    page: Page, make_server: Callable[..., LiveServer], artifacts: Path, button: str, kind: str, filename: str
) -> None:
    server = make_server().start()
    open_app(page, server)

    fetched = page.expect_response(lambda r: r.url.endswith(f"/sample/{kind}"))
    posted = page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/v1/analyses"))
    with fetched as sample, posted as response:
        page.get_by_role("button", name=button).click()
    assert sample.value.status == 200 and response.value.status == 201
    analysis = response.value.json()

    expect(page.locator("#report")).to_be_visible(timeout=20_000)
    expect(page.locator("#report-heading")).to_have_text(filename)
    check_verdict(page, analysis)
    if kind == "fake":  # the generator's metadata is decisive
        assert analysis["label"] == "ai-generated"
    page.screenshot(path=artifacts / f"ui-sample-{kind}.png", full_page=True)
