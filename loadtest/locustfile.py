"""Rahat under the load of the people who use it, for Locust (https://locust.io).

`loadtest/run` starts a distributed platform and runs this file headless against its public
gateway. You can also run it against one you started yourself:

    RAHAT_ADMIN_EMAIL=… RAHAT_ADMIN_PASSWORD=… RAHAT_SMS_FILE=… \\
        locust -f loadtest/locustfile.py --host http://127.0.0.1:8080

The platform is seeded through its own public API before any user starts (`seed`). The bulk
steps are timed and reported to Locust as requests of type BULK, so that the thresholds hold
them like any other row:
- one CSV import of LOADTEST_PEOPLE people with phones into a project, timed until the import
  has completed (`BULK import`); the worker then checks each of them;
- a disbursement to all of them, drafted, approved and paid (`BULK disburse`).
Vendors are registered and assigned to the project, and there are users for each role.

The users, in proportion to their weights:
- field agents (5) register people, look them up and page through the list;
- people signing in (1), a new session every 5 to 15 s each;
- vendors (2) take a redemption from a paid person: the code that person receives by text
  message is read from RAHAT_SMS_FILE, as the person would read it out, and confirmed;
- programme managers (1) import small CSV files into the project, and read its statistics and
  the disbursement's lines;
- auditors (1) read the ledger: transfers, an account's statement, the project's reconciliation.

With LOADTEST_STRESS=1 the users rise in steps (LOADTEST_STRESS_STEPS, each for
LOADTEST_STRESS_STEP_SECONDS) and then fall back to the first step, and every answer is recorded
by step and request name in LOADTEST_STRESS_OUT (JSON) for loadtest/stress_check.py. An answer
counts as admitted (2xx), shed (429 or 503 with Retry-After: refused before any work, to be sent
again later) or failed (anything else, or no answer).
"""

import json
import logging
import os
import random
import threading
import time
import uuid
from collections import defaultdict

import requests
from locust import HttpUser, LoadTestShape, between, events, task

PEOPLE = int(os.environ.get("LOADTEST_PEOPLE", "2000"))
VENDORS = int(os.environ.get("LOADTEST_VENDORS", "4"))
AMOUNT = 10_000  # minor units each person is paid: NPR 100.00
PASSWORD = "load-test " + uuid.uuid4().hex[:12]


class Seed:
    """What the seed made, shared by every user."""

    project = ""
    disbursement = ""
    seeded_at = None
    beneficiaries: list = []
    phones: list = []
    vendors: list = []  # (vendor id, email)
    users: dict = {}  # role → email


def _check(answer, what):
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"seed: {what} answered {answer.status_code}: {answer.text[:500]}")
    return answer.json() if answer.content else {}


def _phone(number):
    return f"+9779{number:09d}"


def _bulk(environment, name, started, error=None):
    """Reports a timed bulk step to Locust as a request, so the thresholds judge it."""
    environment.events.request.fire(
        request_type="BULK", name=name, response_time=(time.monotonic() - started) * 1000,
        response_length=0, exception=error, context={})


def _wait(what, seconds, done):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.25)
    raise RuntimeError(f"seed: {what} did not happen within {seconds} s")


@events.test_start.add_listener
def seed_or_stop(environment, **_):
    """Seeds the platform; a seed that fails ends the run, which then has nothing to measure."""
    try:
        seed(environment)
    except Exception as error:  # noqa: BLE001 - any failure ends the run, named
        logging.error("the seed failed, so the run stops: %s", error)
        environment.process_exit_code = 1
        if environment.runner is not None:
            environment.runner.quit()
        raise


def seed(environment):
    base = environment.host.rstrip("/")
    http = requests.Session()

    def call(method, path, token, what, **kw):
        return _check(http.request(method, base + path, headers={"authorization": f"Bearer {token}"}, **kw), what)

    admin = _check(http.post(base + "/v1/auth/login", json={
        "email": os.environ["RAHAT_ADMIN_EMAIL"], "password": os.environ["RAHAT_ADMIN_PASSWORD"]}), "login")["accessToken"]
    Seed.project = call("POST", "/v1/projects", admin, "project", json={
        "name": "Monsoon cash", "type": "c2c", "asset": "NPR", "assetScale": 2})["id"]
    call("POST", f"/v1/projects/{Seed.project}/activate", admin, "activation")

    # Users for each role; the managers run the project, two of them so one approves what the other drafts.
    def user(email, roles):
        call("POST", "/v1/users", admin, f"user {email}", json={
            "name": email.split("@")[0], "email": email, "password": PASSWORD, "roles": roles})
    for role in ("field_agent", "auditor"):
        user(f"{role}@load.example", [{"role": role}])
        Seed.users[role] = f"{role}@load.example"
    # A manager runs the project, and registers people too (an import registers them).
    for index in (1, 2):
        user(f"manager{index}@load.example", [{"role": "manager", "projectId": Seed.project}, {"role": "field_agent"}])
    Seed.users["manager"] = "manager1@load.example"
    listed = call("GET", "/v1/users?limit=100", admin, "users")["items"]
    manager2 = next(item["id"] for item in listed if item["email"] == "manager2@load.example")
    call("PUT", f"/v1/projects/{Seed.project}/approvers", admin, "approvers",
         json={"userIds": [manager2], "required": 1})

    # Bulk: the people, imported with phones into the project and checked by the worker.
    rows = "name,phone,gender,birthDate\n" + "".join(
        f"Person {n},{_phone(n)},female,1984-03-0{1 + n % 9}\n" for n in range(PEOPLE))
    started = time.monotonic()
    accepted = http.post(base + f"/v1/imports?projectId={Seed.project}&fileName=people.csv", data=rows.encode(),
                         headers={"authorization": f"Bearer {admin}", "content-type": "text/csv"})
    if accepted.status_code != 202:
        raise RuntimeError(f"seed: the import answered {accepted.status_code}: {accepted.text[:500]}")
    location = accepted.headers["location"]
    _wait("the import", 600, lambda: call("GET", location, admin, "import")["status"] in ("completed", "failed"))
    outcome = call("GET", location, admin, "import")
    _bulk(environment, f"import {PEOPLE} people", started,
          None if outcome.get("created") == PEOPLE else RuntimeError(f"the import ended {outcome}"))

    def verified():
        stats = call("GET", f"/v1/projects/{Seed.project}/stats", admin, "stats")
        return (stats.get("byVerificationStatus") or {}).get("verified", 0) >= PEOPLE
    _wait("the checks of everyone imported", 900, verified)
    page, cursor = [], None
    while True:
        query = f"/v1/projects/{Seed.project}/beneficiaries?limit=200" + (f"&cursor={cursor}" if cursor else "")
        answer = call("GET", query, admin, "enrolments")
        page += answer["items"]
        cursor = answer.get("nextCursor")
        if not cursor:
            break
    Seed.beneficiaries = [item["id"] for item in page]
    Seed.phones = [_phone(n) for n in range(PEOPLE)]

    # Bulk: a disbursement to all of them, drafted by one manager and approved by the other.
    call("POST", f"/v1/projects/{Seed.project}/funding", admin, "funding",
         json={"amount": PEOPLE * AMOUNT, "reference": "LOAD-" + uuid.uuid4().hex[:8]})
    drafter = _check(http.post(base + "/v1/auth/login", json={
        "email": "manager1@load.example", "password": PASSWORD}), "login")["accessToken"]
    approver = _check(http.post(base + "/v1/auth/login", json={
        "email": "manager2@load.example", "password": PASSWORD}), "login")["accessToken"]
    started = time.monotonic()
    Seed.disbursement = call("POST", "/v1/disbursements", drafter, "draft", json={
        "projectId": Seed.project, "name": "Monsoon, first round", "amountPerBeneficiary": AMOUNT})["id"]
    call("POST", f"/v1/disbursements/{Seed.disbursement}/submit", drafter, "submission")
    call("POST", f"/v1/disbursements/{Seed.disbursement}/approve", approver, "approval", json={})
    _wait("the disbursement", 900, lambda: call(
        "GET", f"/v1/disbursements/{Seed.disbursement}", admin, "disbursement")["status"] == "completed")
    _bulk(environment, f"disburse {PEOPLE} lines", started)

    # Vendors, with logins, assigned to the project.
    for index in range(VENDORS):
        email = f"vendor{index}@load.example"
        vendor = call("POST", "/v1/vendors", admin, "vendor", json={
            "name": f"Shop {index}", "email": email, "password": PASSWORD,
            "payoutAccount": {"type": "mobile_money", "provider": "eSewa", "mobileNumber": f"+97798100000{index:02d}"}})
        call("POST", f"/v1/projects/{Seed.project}/vendors", admin, "assignment", json={"vendorId": vendor["id"]})
        Seed.vendors.append((vendor["id"], email))
    Seed.seeded_at = time.monotonic()


class Codes:
    """The redemption codes sent by text message, read from the file the platform writes them to."""

    lock = threading.Lock()
    offset = 0
    latest: dict = {}

    @classmethod
    def code_for(cls, phone, after):
        """The newest code sent to `phone` since the `after` count of messages; None if none yet."""
        with cls.lock:
            with open(os.environ["RAHAT_SMS_FILE"], encoding="utf-8") as sms:
                sms.seek(cls.offset)
                for line in sms:
                    if not line.endswith("\n"):
                        break
                    cls.offset += len(line.encode())
                    message = json.loads(line)
                    digits = [part for part in "".join(c if c.isdigit() else " " for c in message.get("body", "")).split()
                              if len(part) == 6]
                    if digits:
                        count = cls.latest.get(message.get("to"), (0, None))[0] + 1
                        cls.latest[message.get("to")] = (count, digits[0])
            count, code = cls.latest.get(phone, (0, None))
            return code if count > after else None

    @classmethod
    def sent_to(cls, phone):
        with cls.lock:
            return cls.latest.get(phone, (0, None))[0]


class Phones:
    """The people vendors redeem for, each at one vendor at a time, taken in turn.

    A person stands at one counter at a time: two redemptions for one phone at once would each
    read the other's code from the text messages. Taking them in turn spreads the codes, as a
    pay day's queue does, so the per-person limit on codes (a rule, not overload) is not what
    the stress run measures."""

    lock = threading.Lock()
    in_use: set = set()
    order: list = []
    position = 0

    @classmethod
    def take(cls):
        with cls.lock:
            if not cls.order:
                cls.order = list(Seed.phones)
                random.shuffle(cls.order)
            for _ in range(len(cls.order)):
                phone = cls.order[cls.position % len(cls.order)]
                cls.position += 1
                if phone not in cls.in_use:
                    cls.in_use.add(phone)
                    return phone
            return None

    @classmethod
    def give_back(cls, phone):
        with cls.lock:
            cls.in_use.discard(phone)


class RahatUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    email = ""
    # A person signs in once and works for hours on that session: users of one account share its
    # token, so that the load is their work and not a storm of sign-ins (SigningIn has those).
    sessions: dict = {}
    sessions_lock = threading.Lock()

    def on_start(self):
        with RahatUser.sessions_lock:
            token = RahatUser.sessions.get(self.email)
        if token is None:
            token = self.sign_in()
            with RahatUser.sessions_lock:
                RahatUser.sessions[self.email] = token
        self.headers = {"authorization": f"Bearer {token}"}

    def sign_in(self):
        """A new session's access token; a refusal that says when to come back is tried again then."""
        while True:
            answer = self.client.post("/v1/auth/login", json={"email": self.email, "password": PASSWORD},
                                      name="POST /v1/auth/login")
            if answer.ok:
                break
            retry_after = answer.headers.get("Retry-After")
            if answer.status_code not in (429, 503) or retry_after is None:
                raise RuntimeError(f"login answered {answer.status_code}")
            time.sleep(float(retry_after) * random.uniform(1, 2))
        return answer.json()["accessToken"]


class FieldAgent(RahatUser):
    weight = 5

    def on_start(self):
        self.email = Seed.users["field_agent"]
        super().on_start()

    @task(1)
    def register(self):
        self.client.post("/v1/beneficiaries", headers=self.headers, name="POST /v1/beneficiaries", json={
            "name": f"Walk-in {uuid.uuid4().hex[:10]}", "gender": "male", "birthDate": "1979-11-02"})

    @task(5)
    def look_up(self):
        self.client.get(f"/v1/beneficiaries/{random.choice(Seed.beneficiaries)}", headers=self.headers,
                        name="GET /v1/beneficiaries/{id}")

    @task(2)
    def page(self):
        self.client.get("/v1/beneficiaries?limit=20", headers=self.headers, name="GET /v1/beneficiaries")


class SigningIn(RahatUser):
    """People starting their day: a sign-in now and then, each a new session."""

    weight = 1
    wait_time = between(5, 15)

    def on_start(self):
        self.email = Seed.users["field_agent"]

    @task
    def sign_in_again(self):
        self.sign_in()


class Vendor(RahatUser):
    weight = 2

    def on_start(self):
        self.vendor_id, self.email = random.choice(Seed.vendors)
        super().on_start()

    @task
    def redeem(self):
        phone = Phones.take()
        if phone is None:
            return
        try:
            self.redeem_for(phone)
        finally:
            Phones.give_back(phone)

    def redeem_for(self, phone):
        before = Codes.sent_to(phone)
        requested = self.client.post("/v1/redemptions", headers=self.headers, name="POST /v1/redemptions",
                                     json={"vendorId": self.vendor_id, "phone": phone, "amount": 100})
        if requested.status_code != 201:
            return
        code = None
        deadline = time.monotonic() + 10
        while code is None and time.monotonic() < deadline:
            code = Codes.code_for(phone, before)
            if code is None:
                time.sleep(0.05)
        if code is None:
            events.request.fire(request_type="SMS", name="redemption code", response_time=10_000,
                                response_length=0, exception=RuntimeError("no code arrived"), context={})
            return
        self.client.post(f"/v1/redemptions/{requested.json()['id']}/confirm", headers=self.headers,
                         name="POST /v1/redemptions/{id}/confirm", json={"code": code})


class ProgrammeManager(RahatUser):
    weight = 1

    def on_start(self):
        self.email = Seed.users["manager"]
        super().on_start()

    @task(1)
    def import_file(self):
        first = random.randrange(10**8)
        rows = "name,phone\n" + "".join(f"Late {first + n},{_phone(10**8 + first + n)}\n" for n in range(20))
        self.client.post(f"/v1/imports?projectId={Seed.project}&fileName=ward.csv", data=rows.encode(),
                         headers={**self.headers, "content-type": "text/csv"}, name="POST /v1/imports")

    @task(3)
    def statistics(self):
        self.client.get(f"/v1/projects/{Seed.project}/stats", headers=self.headers,
                        name="GET /v1/projects/{id}/stats")

    @task(2)
    def lines(self):
        self.client.get(f"/v1/disbursements/{Seed.disbursement}/lines?limit=50", headers=self.headers,
                        name="GET /v1/disbursements/{id}/lines")


class Auditor(RahatUser):
    weight = 1

    def on_start(self):
        self.email = Seed.users["auditor"]
        super().on_start()

    @task(2)
    def transfers(self):
        self.client.get("/v1/ledger/transfers?limit=50", headers=self.headers, name="GET /v1/ledger/transfers")

    @task(2)
    def statement(self):
        # A paid person's wallet, then its movements.
        account = self.client.get(
            f"/v1/ledger/accounts?projectId={Seed.project}&kind=beneficiary_wallet&ownerId={random.choice(Seed.beneficiaries)}",
            headers=self.headers, name="GET /v1/ledger/accounts")
        if account.ok:
            self.client.get(f"/v1/ledger/accounts/{account.json()['id']}/statement?limit=50",
                            headers=self.headers, name="GET /v1/ledger/accounts/{id}/statement")

    @task(1)
    def reconciliation(self):
        self.client.get(f"/v1/projects/{Seed.project}/reconciliation", headers=self.headers,
                        name="GET /v1/projects/{id}/reconciliation")


STRESS = os.environ.get("LOADTEST_STRESS") == "1"
STEPS = [int(step) for step in os.environ.get("LOADTEST_STRESS_STEPS", "10,50,100,200,400").split(",")]
STEP_SECONDS = int(os.environ.get("LOADTEST_STRESS_STEP_SECONDS", "30"))


class StressLog:
    """Every answer of a stress run, by step and request name."""

    lock = threading.Lock()
    step = 0
    rows = defaultdict(lambda: {"admitted": [], "shed": 0, "failed": 0, "statuses": defaultdict(int)})
    created = 0

    @classmethod
    def record(cls, name, status, retry_after, elapsed_ms):
        with cls.lock:
            row = cls.rows[(cls.step, name)]
            row["statuses"][status] += 1
            if 200 <= status < 300:
                row["admitted"].append(elapsed_ms)
                if name == "POST /v1/beneficiaries" and status == 201:
                    cls.created += 1
            elif status in (429, 503) and retry_after:
                row["shed"] += 1
            else:
                row["failed"] += 1


if STRESS:

    class StressSteps(LoadTestShape):
        """Users rise step by step, then fall back to the first step to show the platform recovers."""

        def tick(self):
            # The first tick starts the run, whose seed then holds it; the steps count from the seed's end.
            if Seed.seeded_at is None:
                return STEPS[0], max(1, STEPS[0] // 2)
            index = int((time.monotonic() - Seed.seeded_at) // STEP_SECONDS)
            # The load falls back to the first step for two steps' time: the first drains what
            # the heaviest step left waiting, the second is the recovery judged.
            plan = STEPS + [STEPS[0], STEPS[0]]
            if index >= len(plan):
                return None
            StressLog.step = index
            # Up gradually (half a step's users a second); down at once, so that the drain and
            # recovery steps carry the first step's load and not what is left of the heaviest.
            previous = plan[index - 1] if index > 0 else 0
            return plan[index], max(1, plan[index] // 2) if plan[index] >= previous else max(1, previous)

    @events.request.add_listener
    def record_answer(request_type, name, response_time, response=None, exception=None, **_):
        if request_type in ("BULK", "SMS"):
            return
        status = getattr(response, "status_code", 0) or 0
        retry_after = response.headers.get("Retry-After") if response is not None else None
        StressLog.record(name, status, retry_after, response_time)

    @events.test_stop.add_listener
    def write_stress_log(environment, **_):
        plan = STEPS + [STEPS[0], STEPS[0]]
        out = {"steps": plan, "step_seconds": STEP_SECONDS, "created": StressLog.created, "rows": []}
        with StressLog.lock:
            for (step, name), row in sorted(StressLog.rows.items()):
                times = sorted(row["admitted"])
                out["rows"].append({
                    "step": step, "users": plan[step] if step < len(plan) else 0, "name": name,
                    "admitted": len(times), "shed": row["shed"], "failed": row["failed"],
                    "p50_ms": times[len(times) // 2] if times else None,
                    "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] if times else None,
                    "statuses": dict(row["statuses"])})
        with open(os.environ.get("LOADTEST_STRESS_OUT", "stress.json"), "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=1)
