"""Video consultation between two Chromium contexts (patient, doctor) through the real REST
join and /consult signaling: waiting room, admission, video both ways, chat, hang-up.

Not collected on its own (no `test_` prefix): tests/e2e/test_consultation.py runs it inside a
network namespace with loopback only, where Chromium's peers meet on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Route,
    WebSocketRoute,
    async_playwright,
    expect,
)

from tests.conftest import EngineUrls
from tests.e2e.conftest import CHROMIUM, NETNS_FLAG, WEBRTC_ARGS, Contexts, LiveServer, serve
from tests.e2e.demo import TELE_HOURS, Demo, Doctor, Patient
from tests.e2e.helpers import axe_violations, in_french, sign_in

if os.environ.get(NETNS_FLAG) != "1":
    pytest.skip("run through tests/e2e/test_consultation.py", allow_module_level=True)

JOIN_EARLY_S = 6 * 3600
SESSION_API = "/api/v1/teleconsultation/session"
# Socket.IO retries with a growing delay, up to 5 s between attempts; an attempt made while
# offline may hang until its 20 s connect timeout.
RECONNECT_MS = 30_000
SOCKET_IO = re.compile(r"/socket\.io/")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=WEBRTC_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def live(
    web_dist: Path,
    engine_urls: EngineUrls,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("consult")
    async with serve(engine_urls, template_db, data_dir, consult_join_early_s=JOIN_EARLY_S) as s:
        assert s.settings.stun_urls == [] and s.settings.turn_urls == [], "tests use no ICE server"
        yield s


async def _booked_teleconsultation(demo: Demo, doctor: Doctor, patient: Patient) -> str:
    """Booked and left unconfirmed ("scheduled", as every new booking is), in its window."""
    slots = await demo.slots(doctor, days=2)
    soon = datetime.now(UTC) + timedelta(seconds=JOIN_EARLY_S - 600)
    slot = next(s for s in slots if datetime.fromisoformat(s["start"]) < soon)
    appointment = await demo.book(patient, doctor, slot)
    assert appointment["status"] == "scheduled", appointment
    return str(appointment["id"])


async def _confirmed_teleconsultation(demo: Demo, doctor: Doctor, patient: Patient) -> str:
    appointment = {"id": await _booked_teleconsultation(demo, doctor, patient)}
    confirmed = await demo.http.post(
        f"/api/v1/appointments/{appointment['id']}/confirm", headers=doctor.account.headers
    )
    assert confirmed.status_code == 200, confirmed.text  # opens the consultation's session
    return str(appointment["id"])


class SocketCutter:
    """Passes a context's Socket.IO traffic through, until told to cut it: open WebSockets
    close (like a dropped network) and new attempts fail until `restore`."""

    def __init__(self) -> None:
        self.open: list[WebSocketRoute] = []
        self.blocked = False

    @classmethod
    async def install(cls, context: BrowserContext) -> SocketCutter:
        cutter = cls()
        await context.route_web_socket(SOCKET_IO, cutter._socket)
        await context.route(SOCKET_IO, cutter._polling)
        return cutter

    async def _socket(self, ws: WebSocketRoute) -> None:
        if self.blocked:
            await ws.close()
            return
        ws.connect_to_server()
        self.open.append(ws)

    async def _polling(self, route: Route) -> None:
        await (route.abort() if self.blocked else route.continue_())

    async def cut(self) -> None:
        self.blocked = True
        dropped, self.open = self.open, []
        for ws in dropped:
            await ws.close()

    def restore(self) -> None:
        self.blocked = False


def status_of(page: Page) -> Locator:
    return page.locator(".call-status")


async def plays(page: Page, video: Locator) -> None:
    """The <video> shows decoded frames: it has a size and its clock moves on."""
    handle = await video.element_handle()
    await page.wait_for_function("v => v.videoWidth > 0 && v.currentTime > 0", arg=handle)
    start = await video.evaluate("v => v.currentTime")
    await page.wait_for_function("([v, t]) => v.currentTime > t + 0.3", arg=[handle, start])


async def say(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_patient_and_doctor_meet_by_video_and_the_doctor_ends_it_for_both(
    contexts: Contexts, demo: Demo, screenshots: Path
) -> None:
    doctor = await demo.doctor("Claire", "Lefèvre", hours=TELE_HOURS, time_zone="UTC")
    patient = await demo.patient("Jeanne", "Martin")
    appointment_id = await _confirmed_teleconsultation(demo, doctor, patient)

    doctor_page = await contexts.new_page(inject_scripts=True)
    await sign_in(doctor_page, doctor.account)  # lands on the agenda
    await expect(doctor_page.get_by_text("Live: new bookings")).to_be_visible()

    # The patient, on a phone, previews the camera and enters the waiting room.
    patient_page = await contexts.new_page(phone=True, inject_scripts=True)
    cutter = await SocketCutter.install(patient_page.context)
    await sign_in(patient_page, patient.account)
    await patient_page.goto("/appointments")
    await patient_page.get_by_role("link", name="Join the video consultation").click()
    await expect(status_of(patient_page)).to_contain_text("Check your camera and microphone")
    await plays(patient_page, patient_page.locator(".video-self video"))
    await patient_page.get_by_role("button", name="Enter the waiting room").click()
    await expect(status_of(patient_page)).to_contain_text("The doctor is not here yet")
    # The pre-call check: microphone meter, test sound, network probe with a plain verdict.
    await expect(patient_page.get_by_label("Microphone level")).to_be_visible()
    # Device pickers: choosing a camera restarts the preview with it.
    camera = patient_page.get_by_label("Camera", exact=True)
    await expect(camera.locator("option")).not_to_have_count(0)
    chosen = await camera.locator("option").first.get_attribute("value")
    await camera.select_option(chosen)
    await plays(patient_page, patient_page.locator(".video-self video"))
    await patient_page.get_by_role("button", name="Play a test sound").click()
    await patient_page.get_by_role("button", name="Check my connection").click()
    verdict = patient_page.locator(".precall-verdict")
    await expect(verdict).to_contain_text("Good: your connection is ready for video.")
    await expect(verdict).to_contain_text("Mbit/s")
    assert await axe_violations(patient_page) == []
    width = await patient_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the waiting room scrolls sideways on a phone ({width}px wide)"

    # The doctor's agenda shows who waits, live; the doctor goes in and admits.
    waiting = doctor_page.locator(".waiting-room")
    await expect(waiting).to_contain_text("Jeanne Martin is in the video waiting room")
    await waiting.get_by_role("link", name="Open the video room").click()
    await doctor_page.get_by_role("button", name="Open the consultation room").click()
    await expect(status_of(doctor_page)).to_contain_text("Jeanne Martin is in the waiting room")
    await expect(status_of(patient_page)).to_contain_text("The doctor is here")
    await expect(doctor_page.locator(".precall-patient")).to_contain_text(
        "Jeanne Martin’s pre-call check: Good"
    )
    await doctor_page.get_by_role("button", name="Let Jeanne Martin in").click()

    # Video both ways, peer to peer.
    await expect(status_of(doctor_page)).to_contain_text("in the consultation with Jeanne Martin")
    await expect(status_of(patient_page)).to_contain_text(f"in the consultation with {doctor.name}")
    await plays(doctor_page, doctor_page.locator(".video-remote video"))
    await plays(patient_page, patient_page.locator(".video-remote video"))

    # One chat message each way, beside the video.
    await say(patient_page, "Bonjour docteur, vous m'entendez ?")
    await expect(doctor_page.locator(".messages")).to_contain_text("vous m'entendez ?")
    await say(doctor_page, "Très bien, je vous vois aussi.")
    await expect(patient_page.locator(".messages")).to_contain_text("je vous vois aussi.")

    # Microphone and camera switch off and on again, in words.
    await patient_page.get_by_role("button", name="Mute microphone").click()
    await expect(status_of(patient_page)).to_contain_text("Your microphone is muted.")
    await patient_page.get_by_role("button", name="Unmute microphone").click()
    await doctor_page.get_by_role("button", name="Turn camera off").click()
    await expect(doctor_page.get_by_text("Your camera is off")).to_be_attached()
    await doctor_page.get_by_role("button", name="Turn camera on").click()

    # Both sides show the link's quality, theirs and the other's (getStats, via call.media).
    await expect(patient_page.locator(".call-quality")).to_contain_text("Your connection: ")
    peer_quality = doctor_page.locator(".call-quality")
    await expect(peer_quality).to_contain_text("Jeanne Martin’s connection: ")
    # Audio only by hand, told on both sides, then video again.
    await patient_page.get_by_role("button", name="Audio only").click()
    await expect(patient_page.locator(".call-link")).to_contain_text("Your video is paused")
    await expect(doctor_page.locator(".call-link")).to_contain_text(
        "Jeanne Martin switched to audio only."
    )
    await patient_page.get_by_role("button", name="Turn video back on").click()
    await expect(doctor_page.locator(".call-audio-only")).to_have_count(0)
    await expect(patient_page.locator(".call-audio-only")).to_have_count(0)
    await plays(doctor_page, doctor_page.locator(".video-remote video"))

    for page in (patient_page, doctor_page):
        assert await axe_violations(page) == []
    width = await patient_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the consultation room scrolls sideways on a phone ({width}px wide)"
    await doctor_page.screenshot(path=str(screenshots / "consultation-desktop.png"), full_page=True)
    await patient_page.screenshot(path=str(screenshots / "consultation-phone.png"), full_page=True)

    # The patient's network drops (offline, and its open sockets with it): explained; what the
    # doctor writes meanwhile comes back from the stored chat; then the page comes back by
    # itself, nobody presses anything, and the call resumes.
    await patient_page.context.set_offline(True)
    await cutter.cut()
    await expect(status_of(patient_page)).to_contain_text("Connection to Markini lost")
    await say(doctor_page, "Vous m'entendez toujours ?")
    await patient_page.context.set_offline(False)
    cutter.restore()
    back = f"in the consultation with {doctor.name}"
    await expect(status_of(patient_page)).to_contain_text(back, timeout=RECONNECT_MS)
    await expect(status_of(doctor_page)).to_contain_text("in the consultation with Jeanne Martin")
    await expect(patient_page.locator(".messages")).to_contain_text("Vous m'entendez toujours ?")
    await plays(patient_page, patient_page.locator(".video-remote video"))
    await plays(doctor_page, doctor_page.locator(".video-remote video"))
    await say(patient_page, "Je suis de retour.")
    await expect(doctor_page.locator(".messages")).to_contain_text("Je suis de retour.")

    # A reloaded page (lost tab) comes back without waiting again, and the video with it.
    await patient_page.reload()
    await patient_page.get_by_role("button", name="Enter the waiting room").click()
    await expect(status_of(patient_page)).to_contain_text(f"in the consultation with {doctor.name}")
    await plays(patient_page, patient_page.locator(".video-remote video"))
    await expect(patient_page.locator(".messages")).to_contain_text("je vous vois aussi.")
    await plays(doctor_page, doctor_page.locator(".video-remote video"))

    # The doctor's hang-up ends the consultation for both.
    await doctor_page.get_by_role("button", name="End the consultation").click()
    for page in (doctor_page, patient_page):
        await expect(status_of(page)).to_contain_text("The consultation has ended.")
        await expect(page.locator(".video-remote")).to_have_count(0)
    session = await demo.http.get(
        SESSION_API, params={"appointment_id": appointment_id}, headers=patient.account.headers
    )
    assert session.json()["status"] == "completed", session.text


REFUSE_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


async def test_a_refused_camera_is_explained_and_the_waiting_room_still_opens_in_french_too(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Refus", hours=TELE_HOURS, time_zone="UTC")
    patient = await demo.patient("Paul", "Durand")
    appointment_id = await _confirmed_teleconsultation(demo, doctor, patient)

    page = await contexts.new_page()
    await page.add_init_script(REFUSE_CAMERA)
    await sign_in(page, patient.account)
    await page.goto(f"/consult/{appointment_id}")
    await expect(page.get_by_role("alert")).to_contain_text(
        "Markini may not use your camera or microphone"
    )
    await expect(page.get_by_role("button", name="Turn on camera and microphone")).to_be_visible()
    await page.get_by_role("button", name="Enter the waiting room").click()
    await expect(status_of(page)).to_contain_text("The doctor is not here yet")
    await page.get_by_role("button", name="Check my connection").click()
    await expect(page.locator(".precall-verdict")).to_contain_text(
        "Audio only advised. The camera is not available."
    )

    await in_french(page)
    await expect(page.locator(".precall-verdict")).to_contain_text("Audio seulement conseillé.")
    await expect(status_of(page)).to_contain_text("Le médecin n’est pas encore là")
    await expect(page.get_by_role("alert")).to_contain_text("n’a pas accès à votre caméra")
    await expect(page.get_by_role("button", name="Quitter la salle d’attente")).to_be_visible()


# Every camera, microphone and remote track the page ever gets, to count the live ones.
TRACK_TRACKS = """
(() => {
  const seen = [];
  window.liveTracks = () => seen.filter((t) => t.readyState === "live").length;
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await ask(constraints);
    seen.push(...stream.getTracks());
    return stream;
  };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("track", (event) => seen.push(event.track));
    }
  };
})();
"""


async def test_an_unconfirmed_booking_reaches_a_waiting_room_the_doctor_sees_at_once(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Non", "Confirmé", hours=TELE_HOURS, time_zone="UTC")
    patient = await demo.patient("Lucie", "Bernard")
    appointment_id = await _booked_teleconsultation(demo, doctor, patient)

    doctor_page = await contexts.new_page()
    await sign_in(doctor_page, doctor.account)  # lands on the agenda
    await expect(doctor_page.get_by_text("Live: new bookings")).to_be_visible()
    patient_page = await contexts.new_page(phone=True)
    await sign_in(patient_page, patient.account)
    await patient_page.goto(f"/consult/{appointment_id}")
    await patient_page.get_by_role("button", name="Enter the waiting room").click()
    # No "not opened yet" dead end: the patient's arrival opens the session.
    await expect(status_of(patient_page)).to_contain_text("The doctor is not here yet")
    await expect(doctor_page.locator(".waiting-room")).to_contain_text(
        "Lucie Bernard is in the video waiting room"
    )
    await (
        doctor_page.locator(".waiting-room").get_by_role("link", name="Open the video room").click()
    )
    await doctor_page.get_by_role("button", name="Open the consultation room").click()
    await doctor_page.get_by_role("button", name="Let Lucie Bernard in").click()
    await expect(status_of(patient_page)).to_contain_text(f"in the consultation with {doctor.name}")
    await plays(doctor_page, doctor_page.locator(".video-remote video"))


async def test_the_end_reaches_a_patient_who_left_the_call_and_stops_their_camera(
    contexts: Contexts, demo: Demo
) -> None:
    doctor = await demo.doctor("Fin", hours=TELE_HOURS, time_zone="UTC")
    patient = await demo.patient("Marc", "Petit")
    appointment_id = await _confirmed_teleconsultation(demo, doctor, patient)

    patient_page = await contexts.new_page(phone=True)
    await patient_page.add_init_script(TRACK_TRACKS)
    await sign_in(patient_page, patient.account)
    await patient_page.goto(f"/consult/{appointment_id}")
    await patient_page.get_by_role("button", name="Enter the waiting room").click()
    doctor_page = await contexts.new_page()
    await sign_in(doctor_page, doctor.account)
    await doctor_page.goto(f"/consult/{appointment_id}")
    await doctor_page.get_by_role("button", name="Open the consultation room").click()
    await doctor_page.get_by_role("button", name="Let Marc Petit in").click()
    await plays(patient_page, patient_page.locator(".video-remote video"))

    # The patient steps out of the call; the page stays open with its camera preview.
    await patient_page.get_by_role("button", name="Leave the call").click()
    await expect(patient_page.get_by_role("button", name="Rejoin the call")).to_be_visible()
    assert await patient_page.evaluate("liveTracks()") == 2  # camera and microphone
    await doctor_page.get_by_role("button", name="End the consultation").click()

    await expect(status_of(patient_page)).to_contain_text("The consultation has ended.")
    await expect(patient_page.get_by_role("button", name="Rejoin the call")).to_have_count(0)
    await expect(patient_page.locator("video")).to_have_count(0)
    await patient_page.wait_for_function("liveTracks() === 0")

    # Opened again later, the page says it is over, offers nothing to join, starts no camera.
    await patient_page.reload()
    await expect(status_of(patient_page)).to_contain_text("The consultation has ended.")
    await expect(patient_page.get_by_role("button", name="Enter the waiting room")).to_have_count(0)
    await expect(patient_page.get_by_role("link", name="Back to my appointments")).to_be_visible()
    assert await patient_page.evaluate("liveTracks()") == 0


async def test_an_invited_interpreter_joins_a_three_way_call_and_its_chat(
    contexts: Contexts, demo: Demo
) -> None:
    """docs/realtime.md, "Third participant": the patient invites, the invitee (no account)
    waits, the doctor admits; video both ways on every pair of the mesh; the same chat."""
    doctor = await demo.doctor("Trois", "Voies", hours=TELE_HOURS, time_zone="UTC")
    patient = await demo.patient("Nadia", "Haddad")
    appointment_id = await _confirmed_teleconsultation(demo, doctor, patient)
    patient_page = await contexts.new_page(phone=True)
    await sign_in(patient_page, patient.account)
    await patient_page.goto(f"/consult/{appointment_id}")
    await patient_page.get_by_role("button", name="Enter the waiting room").click()
    doctor_page = await contexts.new_page()
    await sign_in(doctor_page, doctor.account)
    await doctor_page.goto(f"/consult/{appointment_id}")
    await doctor_page.get_by_role("button", name="Open the consultation room").click()
    await doctor_page.get_by_role("button", name="Let Nadia Haddad in").click()
    await plays(patient_page, patient_page.locator(".video-remote video"))
    await say(patient_page, "Avant l'interprète : mes antécédents")

    await patient_page.get_by_role("button", name="Invite a third participant").click()
    link = await patient_page.get_by_label("Invitation link").input_value()
    assert "/invite/" in link

    guest_page = await contexts.new_page(phone=True, inject_scripts=True)  # nobody signed in
    await guest_page.goto(link[link.index("/invite/") :])
    # The day too, not only the time: a link may be opened days before.
    await expect(
        guest_page.get_by_text(re.compile(f"Consultation with {doctor.name} on \\w+day, .+ at "))
    ).to_be_visible()
    await guest_page.get_by_label("Your name").fill("Amina")
    await guest_page.get_by_label("You are joining as").select_option("interpreter")
    await guest_page.get_by_role("button", name="Enter the waiting room").click()
    await expect(status_of(guest_page)).to_contain_text("You are in the waiting room")
    await expect(doctor_page.locator(".guest-waiting")).to_contain_text(
        "Amina (interpreter) is waiting to join."
    )
    await expect(patient_page.locator(".guest-waiting")).to_have_count(0)
    await doctor_page.get_by_role("button", name="Let Amina in").click()

    await expect(status_of(guest_page)).to_contain_text(
        f"You are in the consultation with {doctor.name}"
    )
    await plays(guest_page, guest_page.locator(".video-doctor video"))
    await plays(guest_page, guest_page.locator(".video-patient video"))
    await plays(doctor_page, doctor_page.locator(".video-guest video"))
    await plays(patient_page, patient_page.locator(".video-guest video"))
    await plays(doctor_page, doctor_page.locator(".video-remote:not(.video-guest) video"))
    await expect(patient_page.locator(".guest-in")).to_contain_text("Amina (interpreter)")

    # The same chat, from the admission on; nothing said before, nothing of the patient.
    await say(guest_page, "Bonjour, je suis l'interprète.")
    await expect(doctor_page.locator(".messages")).to_contain_text("je suis l'interprète.")
    await expect(patient_page.locator(".messages")).to_contain_text("je suis l'interprète.")
    await say(doctor_page, "Merci Amina.")
    await expect(guest_page.locator(".messages")).to_contain_text("Merci Amina.")
    text = await guest_page.locator("main").inner_text()
    assert "antécédents" not in text and "Nadia" not in text and "Haddad" not in text
    width = await guest_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the invitee's page scrolls sideways on a phone ({width}px wide)"
    assert await axe_violations(guest_page) == []
