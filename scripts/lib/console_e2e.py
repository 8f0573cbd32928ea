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
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

PAGE_BUDGET = 100_000
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

    def heading(self):
        return self.find("h1").text

    def main_text(self):
        return self.find("main").text

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
        console.follow("Projects")
        console.expect("Koshi flood response" in console.main_text(), "the new project is listed")
    finally:
        console.close()


def nepali_and_keyboard(run):
    """The console in Nepali, chosen in the footer; the first Tab reaches the skip link."""
    console = run.browser("nepali")
    try:
        console.sign_in(*run.admin)
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


SCENARIOS = [admin_creates_a_project, nepali_and_keyboard, csrf_is_refused, csp_blocks_inline_script]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--screenshots", required=True)
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
