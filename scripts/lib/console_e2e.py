#!/usr/bin/env python3
"""The Rahat console in headless Chromium (scripts/console-e2e runs this).

Each scenario drives the console as a person would and screenshots every step. Every screen a
scenario reaches is also checked: axe-core finds no serious or critical WCAG 2.2 A/AA violation,
the page and its assets weigh under 100 KB on the wire before caching, and at 360 px wide nothing
scrolls sideways. Failures are collected and reported together; the exit status is 1 if any.
"""

import argparse
import http.server
import json
import os
import pathlib
import re
import sys
import threading
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

PAGE_BUDGET = 100_000
PASSWORD = "a console scenario passphrase"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_source():
    import axe_playwright_python

    path = pathlib.Path(axe_playwright_python.__file__).with_name("axe.min.js")
    return path.read_text(encoding="utf-8")


class Failure(Exception):
    pass


class API:
    """The public API, for setting up what a scenario starts from and checking what it did."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, (json.loads(text) if text else None)

    def must(self, method, path, body=None, token=None, expect=(200, 201, 202, 204)):
        status, answer = self.call(method, path, body, token)
        if status not in expect:
            raise Failure(f"{method} {path}: {status} {answer}")
        return answer

    def user(self, token, email, role, project=None):
        """A user holding `role` (for `project` only, when given); their id."""
        assignment = {"role": role}
        if project:
            assignment["projectId"] = project
        answer = self.must("POST", "/v1/users", {
            "name": email.split("@")[0].replace(".", " ").title(), "email": email,
            "password": PASSWORD, "roles": [assignment]}, token)
        return answer["id"]

    def project(self, token, name):
        project = self.must("POST", "/v1/projects", {"name": name, "type": "c2c", "asset": "NPR", "assetScale": 2}, token)
        self.must("POST", f"/v1/projects/{project['id']}/activate", token=token)
        return project["id"]

    def people(self, token, project, count, prefix):
        # Phone numbers are unique across the run: every call takes the next block of them.
        self.phones = getattr(self, "phones", 0) + 1
        items = [{"name": f"{prefix} {index}", "birthDate": "1980-02-03", "gender": "female",
                  "phone": f"+97798{self.phones:02d}{index:06d}"} for index in range(count)]
        answer = self.must("POST", "/v1/beneficiaries/batch", {"items": items}, token)
        ids = [item["id"] for item in answer["items"]]
        self.must("POST", f"/v1/projects/{project}/beneficiaries", {"beneficiaryIds": ids}, token)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            stats = self.must("GET", f"/v1/projects/{project}/stats", token=token)
            if stats["byVerificationStatus"].get("verified", 0) >= count:
                return ids
            time.sleep(0.5)
        raise Failure(f"{count} people were not verified in time: {stats}")

    def login(self, email, password):
        status, body = self.call("POST", "/v1/auth/login", {"email": email, "password": password})
        if status != 200:
            raise Failure(f"API sign-in of {email} failed: {status} {body}")
        return body["accessToken"]


class Console:
    """One browser, and the checks every screen it reaches must pass."""

    def __init__(self, run, name):
        self.run = run
        self.name = name
        options = webdriver.ChromeOptions()
        options.binary_location = run.chromium
        if not run.headed:
            options.add_argument("--headless=new")
        options.add_argument("--no-sandbox")
        options.add_argument("--disable-dev-shm-usage")
        options.add_argument("--window-size=1280,900")
        options.add_argument("--lang=en-GB")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.downloads = run.screenshots / "downloads" / name
        self.downloads.mkdir(parents=True, exist_ok=True)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(self.downloads.resolve()), "download.prompt_for_download": False})
        self.driver = webdriver.Chrome(options=options, service=Service(run.chromedriver))
        self.driver.set_script_timeout(60)
        self.step = 0

    def close(self):
        self.driver.quit()

    # Navigation

    def open(self, path):
        self.driver.get(self.run.base + path)
        return self

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def fill(self, label, value):
        """Types into the control the visible label names, as a person finds it."""
        field = self.driver.find_element(By.XPATH, f"//label[normalize-space(.)={xpath_text(label)}]")
        control = self.driver.find_element(By.ID, field.get_attribute("for"))
        if control.tag_name == "select":
            control.find_element(By.XPATH, f".//option[@value={xpath_text(value)} or normalize-space(text())={xpath_text(value)}]").click()
        else:
            control.clear()
            control.send_keys(value)

    def press(self, text):
        """Clicks the button with this text and waits for the next page."""
        button = self.driver.find_element(By.XPATH, f"//button[normalize-space(.)={xpath_text(text)}]")
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()
        try:
            alert = WebDriverWait(self.driver, 1).until(expected_conditions.alert_is_present())
            alert.accept()
        except TimeoutException:
            pass
        WebDriverWait(self.driver, 30).until(expected_conditions.staleness_of(old))

    def follow(self, text):
        link = self.driver.find_element(By.XPATH, f"//a[normalize-space(.)={xpath_text(text)}]")
        link.click()

    def wait_until_settled(self, text, timeout=120):
        """Waits for a live page to show `text` and to have reloaded itself for the last time (the
        final page follows no stream); elements of a page being replaced are read again."""
        WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: d.execute_script("return document.querySelector('[data-progress-stream]') === null")
            and text in d.find_element(By.TAG_NAME, "main").text)

    def read(self, css):
        """The text of `css`, read again while a live page is replacing itself."""
        return WebDriverWait(
            self.driver, 10, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException]
        ).until(lambda d: d.find_element(By.CSS_SELECTOR, css).text)

    def heading(self):
        return self.read("h1")

    def main_text(self):
        return self.read("main")

    def expect(self, condition, message):
        if not condition:
            raise Failure(f"{self.name}: {message} (at {self.driver.current_url})")

    def sign_in(self, email, password):
        self.open("/console/sign-in")
        self.fill("Email address (required)", email)
        self.fill("Password (required)", password)
        self.press("Sign in")

    # The checks of every screen

    def check(self, title):
        """Screenshots the screen and holds it to accessibility, weight and width."""
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.name}-{self.step:02d}-{title}".lower()).strip("-")
        self.driver.save_screenshot(str(self.run.screenshots / f"{slug}.png"))
        self.run.screens += 1
        self.check_accessibility(slug)
        self.check_weight(slug)
        self.check_narrow(slug)

    def check_accessibility(self, slug):
        self.driver.execute_script(self.run.axe)
        violations = self.driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: "tag", values: arguments[0]}}).then(result => done(
                result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))
            )).catch(error => done([{id: "axe-error", impact: "critical", help: String(error), targets: []}]));
            """,
            AXE_TAGS,
        )
        blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
        for violation in violations:
            self.run.axe_findings.append((slug, violation))
        self.expect(not blocking, f"{slug}: accessibility violations {json.dumps(blocking, ensure_ascii=False)}")

    def check_weight(self, slug):
        weight = self.driver.execute_script(
            """
            const navigation = performance.getEntriesByType("navigation")[0];
            const resources = performance.getEntriesByType("resource");
            const size = entry => Math.max(entry.encodedBodySize || 0, entry.transferSize || 0);
            return size(navigation) + resources.reduce((sum, entry) => sum + size(entry), 0);
            """
        )
        self.run.weights.append((slug, weight))
        self.expect(weight < PAGE_BUDGET, f"{slug} weighs {weight} bytes")

    def check_narrow(self, slug):
        size = self.driver.get_window_size()
        self.driver.set_window_size(360, 740)
        try:
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            self.driver.save_screenshot(str(self.run.screenshots / f"{slug}-360px.png"))
            self.expect(overflow <= 0, f"{slug} scrolls sideways by {overflow} px at 360 px")
        finally:
            self.driver.set_window_size(size["width"], size["height"])


def xpath_text(text):
    if "'" not in text:
        return f"'{text}'"
    return "concat('" + text.replace("'", "', \"'\", '") + "')"


class Run:
    def __init__(self, arguments):
        self.base = arguments.base
        self.admin = (arguments.admin_email, arguments.admin_password)
        self.screenshots = pathlib.Path(arguments.screenshots)
        self.data = pathlib.Path(arguments.data)
        self.headed = arguments.headed
        self.chromium = next(p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p))
        self.chromedriver = next(p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if os.path.exists(p))
        self.axe = axe_source()
        self.api = API(self.base)
        self.screens = 0
        self.weights = []
        self.axe_findings = []

    def browser(self, name):
        return Console(self, name)


# Scenarios


def admin_creates_a_project(run):
    """An admin signs in, gets the form wrong once, creates a project and finds it listed."""
    console = run.browser("admin")
    try:
        console.open("/console")
        console.expect(console.driver.current_url.endswith("/console/sign-in"), "signing in comes first")
        console.check("sign-in")
        console.sign_in(*run.admin)
        console.expect(console.heading() == "Welcome, Administrator", f"home page: {console.heading()}")
        console.check("home")
        console.follow("Projects")
        console.check("projects")
        console.follow("New project")
        console.check("new-project")
        console.fill("Name (required)", "Koshi flood response")
        console.fill("Asset (required)", "")
        console.press("Create project")
        summary = console.find("#error-summary")
        console.expect(console.driver.switch_to.active_element == summary, "the error summary takes the focus")
        console.expect("Asset: Enter a value." in summary.text, f"the summary names the field: {summary.text}")
        asset = console.find("#field-asset")
        console.expect(asset.get_attribute("aria-invalid") == "true", "the field is marked invalid")
        console.check("new-project-errors")
        console.fill("Asset (required)", "NPR")
        console.fill("Default country", "NP")
        console.press("Create project")
        console.expect(console.heading() == "Koshi flood response", f"the project's page: {console.heading()}")
        console.expect("Project Koshi flood response was created." in console.main_text(), "a confirmation")
        console.check("project-created")
        console.press("Activate project")
        console.expect("The project is active." in console.main_text(), "activated")
        console.check("project-active")
        console.follow("Funding")
        console.fill("Amount (required)", "12,000.00")
        console.fill("Grant or transfer reference (required)", "ECHO-2026-17")
        console.press("Record funding")
        console.expect("12,000.00 NPR recorded under ECHO-2026-17." in console.main_text(), "funding is recorded")
        console.check("project-funding")
        console.follow("Approvers")
        console.find("input[name=userIds]").click()
        console.fill("Approvals required (required)", "1")
        console.press("Save")
        console.expect("1 of these 1 must approve" in console.main_text(), f"approvers: {console.main_text()[:300]}")
        console.check("project-approvers")
        console.follow("Settlement schedule")
        console.fill("How often (required)", "monthly")
        console.fill("Day of the month", "5")
        console.press("Save")
        console.expect("On day 5 of every month" in console.main_text(), f"scheduled: {console.main_text()[:300]}")
        console.check("project-schedule")
        console.follow("Vendors")
        console.check("vendors")
        console.follow("Projects")
        console.expect("Koshi flood response" in console.main_text(), "the new project is listed")
        console.follow("Users")
        console.check("users")
        console.follow("New user")
        console.check("user-new")
        console.fill("Name (required)", "Gita Thapa")
        console.fill("Email address (required)", "gita@example.org")
        console.fill("Password (required)", PASSWORD)
        console.fill("Role", "field_agent")
        console.fill("In", "Koshi flood response")
        console.press("Create the user")
        console.expect("field_agent in Koshi flood response" in console.main_text(), f"the user: {console.main_text()[:300]}")
        console.check("user")
        console.follow("Roles")
        console.check("roles")
        console.follow("API keys")
        console.fill("Name (required)", "registry sync")
        # An administrator's own permissions are offered; the first will do.
        console.find("input[name=permissions]").click()
        console.press("Create the key")
        key = console.find("#new-key").get_attribute("value")
        console.expect(len(key) > 20, "the new key is shown")
        console.check("api-key-created")
        request = urllib.request.Request(run.base + "/v1/users")
        request.add_header("X-API-Key", key)
        with urllib.request.urlopen(request, timeout=30) as response:
            console.expect(response.status == 200, "the key works")
        console.follow("API keys")
        console.expect(key not in console.driver.page_source, "the key is not shown again")
    finally:
        console.close()


def nepali_and_keyboard(run):
    """The console in Nepali, chosen in the footer and kept with the user; the first Tab reaches the skip link."""
    token = run.api.login(*run.admin)
    run.api.user(token, "sita.nepali@example.org", "auditor")
    console = run.browser("nepali")
    try:
        console.sign_in("sita.nepali@example.org", PASSWORD)
        console.find("body").send_keys(Keys.TAB)
        active = console.driver.switch_to.active_element
        console.expect(active.get_attribute("href").endswith("#main"), "the first Tab reaches 'skip to content'")
        console.fill("Language", "ne")
        console.press("Change")
        console.expect(console.find("html").get_attribute("lang") == "ne", "the page says it is Nepali")
        console.expect(console.heading().startswith("स्वागत छ"), f"a Nepali greeting: {console.heading()}")
        console.check("home-ne")
        console.open("/console/projects")
        console.check("projects-ne")
        console.open("/console/account")
        console.check("account-ne")
    finally:
        console.close()
    # The choice follows the user to another browser, whose own language is English.
    elsewhere = run.browser("nepali-elsewhere")
    try:
        elsewhere.sign_in("sita.nepali@example.org", PASSWORD)
        elsewhere.expect(elsewhere.find("html").get_attribute("lang") == "ne", "the user's language follows them")
    finally:
        elsewhere.close()


# Chrome's "Regular 3G": what a field office's mobile connection gives on a fair day.
THREE_G = {"offline": False, "latency": 100, "downloadThroughput": 750 * 1000 / 8, "uploadThroughput": 250 * 1000 / 8}
THREE_G_BUDGET_MS = 3000


def field_office_on_3g(run):
    """Over a throttled 3G link with an empty cache, each screen of a manager's day is usable within 3 s."""
    token = run.api.login(*run.admin)
    project = run.api.project(token, "Hill district winter support")
    run.api.people(token, project, 30, "Hill resident")
    console = run.browser("3g")
    try:
        console.driver.execute_cdp_cmd("Network.enable", {})
        console.driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        console.driver.execute_cdp_cmd("Network.emulateNetworkConditions", THREE_G)
        console.sign_in(*run.admin)
        timings = []
        for path in ("/console", "/console/projects", f"/console/projects/{project}",
                     f"/console/beneficiaries?projectId={project}", "/console/disbursements", "/console/ledger"):
            console.open(path)
            # From the request to the load event: the page, its stylesheet and its script arrived.
            loaded = console.driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;")
            timings.append((path, round(loaded)))
            console.expect(loaded < THREE_G_BUDGET_MS, f"{path} took {loaded:.0f} ms on 3G")
        console.check("3g-ledger")
        print("console-e2e: on Regular 3G, cold: " + ", ".join(f"{path} {ms} ms" for path, ms in timings))
    finally:
        console.close()


def csrf_is_refused(run):
    """A forged form: another site's page posting to the console, and a tampered token."""
    console = run.browser("csrf")
    token = run.api.login(*run.admin)
    evil = EvilSite(run.base)
    try:
        console.sign_in(*run.admin)
        before = len(run.api.call("GET", "/v1/projects?limit=100", token=token)[1]["items"])
        # Another site's page that posts a form to the console as soon as it loads.
        console.driver.get(evil.url)
        WebDriverWait(console.driver, 30).until(lambda d: "/console" in d.current_url)
        forged = console.main_text()
        console.expect(
            "sent from another site" in forged or "Sign in" in console.heading(),
            f"the forged form is refused: {forged[:200]}",
        )
        # The console's own form with its token altered.
        console.open("/console/projects/new")
        console.fill("Name (required)", "Tampered")
        console.fill("Asset (required)", "NPR")
        console.driver.execute_script("document.querySelector('form[action=\"/console/projects\"] input[name=_csrf]').value = 'forged'")
        console.press("Create project")
        console.expect(console.heading().startswith("This form has expired"), f"refused: {console.heading()}")
        after = len(run.api.call("GET", "/v1/projects?limit=100", token=token)[1]["items"])
        console.expect(after == before, f"no project was created ({before} before, {after} after)")
    finally:
        evil.close()
        console.close()


def csp_blocks_inline_script(run):
    """An inline script put in a page does not run; the policy reports it."""
    console = run.browser("csp")
    try:
        console.sign_in(*run.admin)
        ran = console.driver.execute_script(
            """
            window.inlineRan = false;
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.head.appendChild(script);
            const handler = document.createElement("div");
            handler.setAttribute("onclick", "window.inlineRan = true");
            document.body.appendChild(handler);
            handler.click();
            return window.inlineRan;
            """
        )
        console.expect(ran is False, "an inline script ran")
        logs = console.driver.get_log("browser")
        console.expect(
            any("Content Security Policy" in entry["message"] for entry in logs),
            f"the browser reported the policy's refusal: {logs}",
        )
        framed = console.driver.execute_script(
            """
            const frame = document.createElement("iframe");
            frame.src = "/console";
            document.body.appendChild(frame);
            return new Promise(resolve => setTimeout(() => {
                try { resolve(!!frame.contentDocument && frame.contentDocument.querySelector("a.brand") !== null); }
                catch (e) { resolve(false); }
            }, 1500));
            """
        )
        console.expect(framed is False, "the console rendered inside a frame")
    finally:
        console.close()


class EvilSite:
    """A page on another origin that posts a form to the console when it loads."""

    def __init__(self, target):
        page = f"""<!doctype html><html><body>
<form id="f" method="post" action="{target}/console/projects">
<input name="name" value="Forged"><input name="type" value="c2c"><input name="asset" value="NPR">
<input name="assetScale" value="2"><input name="_csrf" value="guess"></form>
<script>document.getElementById("f").submit()</script></body></html>""".encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *arguments):
                pass

        # localhost, not 127.0.0.1: another site in the browser's eyes.
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def supervisor_imports_a_file(run):
    """A field supervisor imports a CSV, follows it to the end and downloads the rejected rows."""
    token = run.api.login(*run.admin)
    run.api.user(token, "supervisor@example.org", "field_agent")
    rows = ["name,phone,gender,birthDate"]
    rows += [f"Ward four {index},+9779700{index:06d},female,1985-01-0{1 + index % 9}" for index in range(40)]
    rows += [",+9779711111111,female,1990-01-01", "Bad Date,+9779722222222,male,1990-13-45"]
    upload = run.screenshots / "ward-4.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    console = run.browser("supervisor")
    try:
        console.sign_in("supervisor@example.org", PASSWORD)
        console.follow("Imports")
        console.check("imports")
        console.find("#field-file").send_keys(str(upload.resolve()))
        console.press("Upload")
        # The page may already have reloaded itself at the end of the import, without the notice.
        console.expect(console.heading() == "Import: ward-4.csv", f"the import's page: {console.heading()}")
        console.wait_until_settled("Completed")
        console.expect(console.find("[data-progress-created]").text == "40", "40 people registered")
        console.expect(console.find("[data-progress-rejected]").text == "2", "2 rows rejected")
        console.check("import-completed")
        console.follow("Download the rejected rows (CSV)")
        target = console.downloads / f"import-{console.driver.current_url.rstrip('/').split('/')[-1]}-rejects.csv"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not target.exists():
            time.sleep(0.2)
        console.expect(target.exists(), f"the rejects were downloaded to {target}")
        text = target.read_text(encoding="utf-8")
        console.expect(text.startswith("line,column,reason") and ",name," in text and ",birthDate," in text, f"rejects: {text}")
        console.follow("Jobs")
        console.fill("Status", "completed")
        console.press("Filter")
        console.expect("imports" in console.main_text(), "the import's job is listed")
        console.check("jobs")
    finally:
        console.close()


def reviewer_decides_a_case(run):
    """A reviewer opens the queue and rejects a watch-list match with a note."""
    token = run.api.login(*run.admin)
    run.api.user(token, "reviewer@example.org", "manager")
    request = urllib.request.Request(
        run.base + "/v1/verification/watch-list?fileName=court.csv", method="PUT",
        data=b"nationalId,reason\n77-1234-5678,court order 4/2026\n")
    request.add_header("Content-Type", "text/csv")
    request.add_header("Authorization", "Bearer " + token)
    urllib.request.urlopen(request, timeout=30).read()
    person = run.api.must("POST", "/v1/beneficiaries", {
        "name": "Pemba Sherpa", "nationalId": "7712345678", "birthDate": "1990-05-01"}, token)
    deadline = time.monotonic() + 60
    while run.api.must("GET", f"/v1/beneficiaries/{person['id']}", token=token)["verificationStatus"] == "pending":
        if time.monotonic() > deadline:
            raise Failure("the check did not run")
        time.sleep(0.3)
    console = run.browser("reviewer")
    try:
        console.sign_in("reviewer@example.org", PASSWORD)
        console.follow("Review queue")
        console.check("queue")
        console.driver.find_element(By.XPATH, "//tr[td[normalize-space(.)='Pemba Sherpa']]//a").click()
        console.expect("matches watch-list" in console.main_text(), "the run says why it needs review")
        console.check("case")
        console.press("Reject")
        console.expect("Say why" in console.main_text(), "a decision needs a note")
        console.expect(console.driver.switch_to.active_element.get_attribute("id") == "error-summary", "the error takes the focus")
        console.check("case-no-note")
        console.fill("Note (required)", "Listed person; the ID card matches.")
        console.press("Reject")
        console.expect("The beneficiary is rejected." in console.main_text(), "the decision is recorded")
        status = run.api.must("GET", f"/v1/beneficiaries/{person['id']}", token=token)["verificationStatus"]
        console.expect(status == "rejected", f"the API agrees: {status}")
    finally:
        console.close()


def settlement_file_for_the_bank(run):
    """An admin registers a vendor; its shop redeems with the SMS code; the admin settles and downloads pain.001."""
    token = run.api.login(*run.admin)
    project = run.api.project(token, "Bazaar vouchers")
    people = run.api.people(token, project, 2, "Bazaar shopper")
    run.api.must("POST", f"/v1/projects/{project}/funding", {"amount": 1_000_000, "reference": "DONOR-3"}, token)
    approvers = [run.api.user(token, f"bazaar.approver{index}@example.org", "manager", project) for index in (1, 2)]
    run.api.must("PUT", f"/v1/projects/{project}/approvers", {"userIds": approvers, "required": 2}, token)
    draft = run.api.must("POST", "/v1/disbursements", {"projectId": project, "name": "Vouchers", "amountPerBeneficiary": 10_000}, token)
    run.api.must("POST", f"/v1/disbursements/{draft['id']}/submit", token=token)
    for index in (1, 2):
        approver = run.api.login(f"bazaar.approver{index}@example.org", PASSWORD)
        run.api.must("POST", f"/v1/disbursements/{draft['id']}/approve", {}, approver)
    deadline = time.monotonic() + 60
    while run.api.must("GET", f"/v1/disbursements/{draft['id']}", token=token)["status"] != "completed":
        if time.monotonic() > deadline:
            raise Failure("the vouchers were not paid")
        time.sleep(0.3)
    shopper = run.api.must("GET", f"/v1/beneficiaries/{people[0]}", token=token)
    admin = run.browser("vendor")
    try:
        admin.sign_in(*run.admin)
        admin.follow("Vendors")
        admin.follow("Register a vendor")
        admin.check("vendor-new")
        admin.fill("Name (required)", "Bazaar Grocer")
        admin.fill("Email address (required)", "grocer@example.org")
        admin.fill("Password (required)", PASSWORD)
        admin.fill("Paid by (required)", "mobile_money")
        admin.fill("Provider", "eSewa")
        admin.fill("Mobile money number", "+9779811112222")
        admin.press("Save")
        admin.expect("Bazaar Grocer is registered." in admin.main_text(), f"registered: {admin.main_text()[:300]}")
        admin.fill("Project", project)
        admin.press("Assign")
        admin.expect("The vendor now serves the project." in admin.main_text(), "the vendor is assigned")
        admin.check("vendor")
        admin.follow("Edit")
        admin.check("vendor-edit")
        admin.follow("Redemptions")
        admin.check("redemptions-all")
    finally:
        admin.close()
    shop = run.browser("shop")
    try:
        shop.sign_in("grocer@example.org", PASSWORD)
        shop.follow("Redemptions")
        shop.check("redemptions")
        shop.follow("Redeem")
        shop.check("redeem")
        shop.fill("Beneficiary's phone (required)", shopper["phone"])
        shop.fill("Amount (required)", "40.00")
        shop.press("Send the code")
        shop.expect("A code was sent to" in shop.main_text(), f"a code was sent: {shop.main_text()[:300]}")
        shop.check("code")
        messages = [json.loads(line) for line in (run.data / "sms.jsonl").read_text(encoding="utf-8").splitlines() if line]
        body = [m for m in messages if m["to"] == shopper["phone"]][-1]["body"]
        code = next(word for word in re.findall(r"\d+", body) if len(word) == 6)
        shop.fill("Code (required)", code)
        shop.press("Confirm")
        shop.expect("Confirmed: the amount is now the vendor's." in shop.main_text(), f"confirmed: {shop.main_text()[:300]}")
        shop.check("redeemed")
        shop.follow("Settlements")
        shop.check("shop-settlements")
    finally:
        shop.close()
    console = run.browser("settlement")
    try:
        console.sign_in(*run.admin)
        console.follow("Settlements")
        console.fill("Project", project)
        console.press("Show")
        console.check("settlements")
        console.press("Settle with vendors now")
        console.expect("1 settlements were started" in console.main_text(), f"a run started: {console.main_text()[:300]}")
        console.follow("Bazaar Grocer")
        console.check("settlement")
        settlement = console.driver.current_url.rstrip("/").split("/")[-1]
        target = console.downloads / f"settlement-{settlement}.pain.001.xml"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not target.exists():
            console.driver.refresh()
            console.follow("Download pain.001 (ISO 20022)")
            time.sleep(1)
        console.expect(target.exists(), f"the payout file was downloaded to {target}")
        text = target.read_text(encoding="utf-8")
        console.expect("pain.001.001.09" in text and "40.00" in text, f"a pain.001 for 40.00: {text[:300]}")
        console.fill("Bank's payout reference", "ESEWA-5521")
        console.press("Record as paid")
        console.expect("Recorded as paid." in console.main_text(), "the bank's answer is recorded")
        console.check("settlement-paid")
    finally:
        console.close()


def two_of_three_approve_and_it_pays(run):
    """A manager drafts from a dry run; two of three approvers approve; live progress ends completed."""
    token = run.api.login(*run.admin)
    project = run.api.project(token, "Koshi cash transfer")
    run.api.people(token, project, 300, "Koshi resident")
    run.api.must("POST", f"/v1/projects/{project}/funding", {"amount": 10_000_000, "reference": "DONOR-1"}, token)
    approvers = [run.api.user(token, f"approver{index}@example.org", "manager", project) for index in (1, 2, 3)]
    run.api.must("PUT", f"/v1/projects/{project}/approvers", {"userIds": approvers, "required": 2}, token)
    manager_id = run.api.user(token, "manager@example.org", "manager", project)
    manager = run.browser("manager")
    try:
        manager.sign_in("manager@example.org", PASSWORD)
        manager.follow("Disbursements")
        manager.follow("New disbursement")
        manager.fill("Project (required)", project)
        manager.fill("Name (required)", "December transfer")
        manager.fill("Amount for each person", "250.00")
        manager.check("new-disbursement")
        manager.press("Preview")
        text = manager.main_text()
        manager.expect("75,000.00 NPR" in text and "300" in text, f"the dry run shows the total: {text[:400]}")
        manager.check("dry-run")
        manager.press("Create the draft")
        manager.press("Submit for approval")
        manager.expect("0 of 2 approvals; 2 more needed." in manager.main_text(), "waiting for two approvals")
        manager.check("submitted")
        detail = manager.driver.current_url
    finally:
        manager.close()
    for index, note in ((1, "Matches the roster."), (2, "")):
        approver = run.browser(f"approver{index}")
        try:
            approver.sign_in(f"approver{index}@example.org", PASSWORD)
            approver.driver.get(detail)
            if index == 1:
                approver.check("to-approve")
            if note:
                approver.fill("Note (optional)", note)
            approver.press("Approve")
            text = approver.main_text()
            if index == 1:
                approver.expect("1 of 2 approvals; 1 more needed." in text, f"one approval recorded: {text[:300]}")
                approver.expect("Matches the roster." in text, "the note is shown")
            else:
                # The page follows the payment live: it reaches Completed without being reloaded by us.
                live = "Completed" not in text
                approver.wait_until_settled("Completed")
                text = approver.main_text()
                approver.expect("300 paid, 0 failed, of 300" in text, f"everyone paid: {text[:500]}")
                approver.expect("2 of 2 approvals" in text, "who approved is shown")
                approver.check("completed")
                print(f"console-e2e: the payment page {'followed the payment live' if live else 'opened after the payment ended'}")
        finally:
            approver.close()
    _ = manager_id


def manager_of_b_sees_nothing_of_a(run):
    """A manager of project B finds nothing of project A: not listed, not at its address, not by name."""
    token = run.api.login(*run.admin)
    project_a = run.api.project(token, "Project A (Terai floods)")
    project_b = run.api.project(token, "Project B (Karnali winter)")
    run.api.people(token, project_a, 1, "Sunita Gurung")
    run.api.people(token, project_b, 1, "Sunita Rai")
    run.api.user(token, "manager.b@example.org", "manager", project_b)
    console = run.browser("manager-b")
    try:
        console.sign_in("manager.b@example.org", PASSWORD)
        console.follow("Projects")
        text = console.main_text()
        console.expect("Project B (Karnali winter)" in text, "B is listed")
        console.expect("Project A" not in text, "A is not listed")
        console.check("projects-b-only")
        console.open(f"/console/projects/{project_a}")
        console.expect(
            console.heading() in ("Page not found", "You do not have permission to do this")
            and "Terai" not in console.main_text(),
            f"A's page shows nothing of it: {console.heading()}")
        console.open(f"/console/disbursements?projectId={project_a}")
        console.expect("Project A" not in console.main_text(), "A's disbursements are not shown")
        console.open("/console/beneficiaries")
        text = console.main_text()
        console.expect("Sunita Rai 0" in text and "Gurung" not in text, f"B's register only: {text}")
        console.check("beneficiaries-b")
        console.fill("Name", "SUNITA")
        console.press("Search")
        text = console.main_text()
        console.expect("Sunita Rai 0" in text and "Gurung" not in text, f"a search by name finds B's people only: {text}")
        console.check("search-by-name-b")
    finally:
        console.close()


def auditor_reads_without_changing(run):
    """An auditor reads the books and statements, sees no personal data and no button that writes."""
    token = run.api.login(*run.admin)
    run.api.user(token, "auditor@example.org", "auditor")
    project = run.api.project(token, "Audited project")
    run.api.people(token, project, 3, "Audited person")
    run.api.must("POST", f"/v1/projects/{project}/funding", {"amount": 500_000, "reference": "DONOR-7"}, token)
    console = run.browser("auditor")

    def writes():
        return [form.get_attribute("action") for form in console.driver.find_elements(By.CSS_SELECTOR, "main form[method=post]")]

    try:
        console.sign_in("auditor@example.org", PASSWORD)
        console.follow("Ledger")
        console.fill("Project", project)
        console.press("Show")
        console.expect("The project's books balance." in console.main_text(), "the books balance")
        console.expect("5,000.00 NPR" in console.main_text(), "the funding is shown")
        console.check("reconciliation")
        console.follow("The project fund's statement")
        console.expect("DONOR-7" in console.main_text(), f"the statement lists the funding: {console.main_text()[:400]}")
        console.check("statement")
        for path in ("/console/beneficiaries", f"/console/projects/{project}", "/console/disbursements", "/console/ledger",
                     "/console/vendors", "/console/redemptions", f"/console/settlements?projectId={project}"):
            console.open(path)
            console.expect(not writes(), f"{path} offers no change: {writes()}")
        console.open("/console/beneficiaries")
        text = console.main_text()
        console.expect("Audited person" not in text and "(personal data hidden)" in text, "no personal data")
        console.expect("+97798" not in console.driver.page_source, "no phone number in the page")
        console.check("beneficiaries-no-pii")
    finally:
        console.close()


SCENARIOS = [
    admin_creates_a_project, nepali_and_keyboard, field_office_on_3g, csrf_is_refused, csp_blocks_inline_script,
    supervisor_imports_a_file, reviewer_decides_a_case, two_of_three_approve_and_it_pays,
    manager_of_b_sees_nothing_of_a, auditor_reads_without_changing, settlement_file_for_the_bank,
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--data", required=True, help="the platform's data directory (its sms.jsonl)")
    parser.add_argument("--headed", action="store_true")
    arguments = parser.parse_args()
    run = Run(arguments)
    failures = []
    for scenario in SCENARIOS:
        started = time.monotonic()
        try:
            scenario(run)
            print(f"console-e2e: {scenario.__name__}: ok ({time.monotonic() - started:.1f} s)")
        except Exception as error:  # every scenario runs; all failures are reported
            failures.append(scenario.__name__)
            print(f"console-e2e: {scenario.__name__}: FAILED: {error}", file=sys.stderr)
            traceback.print_exc()
    heaviest = max(run.weights, key=lambda entry: entry[1], default=("none", 0))
    minor = sorted({v["id"] for _, v in run.axe_findings if v["impact"] not in ("serious", "critical")})
    print(
        f"console-e2e: {run.screens} screens checked; heaviest {heaviest[0]} at {heaviest[1]} bytes; "
        f"axe minor/moderate findings: {', '.join(minor) or 'none'}; screenshots in {run.screenshots}"
    )
    if failures:
        print(f"console-e2e: failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
