"""Deterministic, fast seeding of the demo database (no faker: built-in word lists).

``seed(engine, rows=1_000_000)`` writes one million orders and everything around them in well
under a minute on SQLite and PostgreSQL:

- every random draw comes from one ``random.Random(seed)``, in bulk where it can
  (``choices(k=...)``), so the same seed gives the same rows;
- timestamps are integers (seconds since the start of the window) turned into text once, from
  precomputed day and time-of-day strings;
- money is integer cents; a ``float`` of cents / 100 is exact to the cent (its ``repr`` is the
  decimal), which both drivers bind cheaply;
- SQLite: one transaction, ``executemany``, foreign keys off and ``synchronous=OFF`` for the load
  only; PostgreSQL: ``COPY ... FROM STDIN`` through the raw psycopg connection, foreign keys
  added (and validated) after the load, identity sequences moved past the explicit ids;
- secondary indexes are built after the rows are in, then statistics are gathered (ANALYZE).

Sizes: ``rows`` orders; accounts ``max(50, rows // 100)`` up to 10,000; ~2 contacts per account;
200 products; ~1.9 order lines per order; ``rows // 5`` tickets; ~2 comments per ticket; staff:
``admin``/``admin``, ``support``/``support``, ``viewer``/``viewer`` plus a few support agents
(who cannot sign in) and one deactivated agent.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import time
import unicodedata
from collections.abc import Callable, Iterator

from werkzeug.security import generate_password_hash

from . import schema
from .schema import is_postgres, scalar

__all__ = ["seed", "expected_counts", "SIGN_INS", "DEFAULT_ROWS", "store_pictures"]

DEFAULT_ROWS = 2_000
CHUNK = 50_000  # rows generated (and sent) at a time
DAY = 86_400
WINDOW_DAYS = 730  # orders and tickets: the last two years

# --- word lists --------------------------------------------------------------------------------

FIRST_NAMES = (
    "Ada Alan Alice Amara Amir Ana Andrea Anna Arjun Ben Bianca Carla Carlos Chen Chloe Daniel "
    "David Diego Elena Emma Erik Fatima Felix Freya Gabriel Grace Hannah Hiro Ines Isaac Ivan "
    "Jakob Jana João Julia Kai Karim Kenji Lars Laura Lea Leo Lina Lucas Luis Maja Marco María "
    "Marta Mateo Maya Mei Mia Mohammed Nadia Nina Noah Nora Olga Omar Oscar Paula Pedro Priya "
    "Rafael Rosa Sara Sofia Sven Tariq Theo Tomás Valentina Wei Yara Yusuf Zoe Zainab"
).split()
LAST_NAMES = (
    "Adeyemi Alvarez Andersen Bauer Becker Bernard Bianchi Brown Castro Chen Costa Dubois "
    "Eriksson Fernández Fischer Fontaine García Gomez Hansen Hoffmann Ivanova Jansen Kaur Kim "
    "Kowalski Larsen Laurent Lee Lehmann Lopez Martin Meyer Moreau Müller Nakamura Nguyen Novak "
    "Okafor Olsen Patel Perez Petrov Ricci Rossi Santos Schmidt Schneider Silva Singh Smith "
    "Suzuki Tanaka Taylor Thompson Van Dijk Wagner Walker Wang Weber Williams Wilson Yamamoto "
    "Zhang"
).split()
COMPANY_ADJECTIVES = (
    "Agile Amber Apex Arctic Atlas Blue Bright Cedar Clear Coastal Copper Crimson Crystal Delta "
    "Eastern Emerald Evergreen First Golden Granite Green Harbor Horizon Iron Lunar Maple "
    "Meridian Nimble Northern Nova Oak Orbit Pacific Pioneer Polar Prime Quantum Red Silver "
    "Solar Summit Swift True Urban Vivid"
).split()
COMPANY_NOUNS = (
    "Analytics Bakery Bikes Bridge Build Cargo Cloud Coffee Craft Dental Design Digital Energy "
    "Engineering Farms Fitness Foods Freight Garden Health Homes Labs Legal Logistics Media "
    "Medical Motors Networks Optics Outdoor Pharma Print Retail Robotics Security Software "
    "Studios Systems Textiles Travel Ventures Water Wellness Works"
).split()
COMPANY_SUFFIXES = (
    "Ltd", "GmbH", "Inc", "LLC", "SAS", "BV", "AB", "Oy", "S.L.", "S.p.A.", "Pty Ltd", "KK",
    "Group", "& Co", "Holdings", "Partners",
)
REGIONS = ("eu", "us", "apac", "latam")
REGION_WEIGHTS = (40, 35, 17, 8)
REGION_CURRENCY = {"eu": "EUR", "us": "USD", "apac": "AUD", "latam": "USD"}
REGION_TLDS = {
    "eu": ("eu", "de", "fr", "nl", "es", "it", "se"),
    "us": ("com", "io", "us"),
    "apac": ("com.au", "sg", "jp", "co.nz"),
    "latam": ("com.br", "mx", "cl", "com.ar"),
}
REGION_PHONES = {
    "eu": ("+49 30 ", "+33 1 ", "+31 20 ", "+34 91 ", "+39 02 ", "+46 8 "),
    "us": ("+1 212 ", "+1 415 ", "+1 512 ", "+1 617 "),
    "apac": ("+61 2 ", "+65 ", "+81 3 ", "+64 9 "),
    "latam": ("+55 11 ", "+52 55 ", "+56 2 ", "+54 11 "),
}
ACCOUNT_MAILBOXES = ("billing", "accounts", "ops", "hello", "finance", "purchasing", "it")
CONTACT_ROLES = (
    "Owner", "Billing", "Purchasing", "Technical", "Operations", "Finance", "IT admin",
    "Office manager", "Logistics", "Support lead",
)
PLANS = ("free", "pro", "enterprise")
PLAN_WEIGHTS = (55, 33, 12)
PLAN_ORDER_WEIGHT = {"free": 1.0, "pro": 4.0, "enterprise": 12.0}
ACCOUNT_NOTES = (
    "Prefers email over phone.",
    "Key account: escalate anything urgent to the account manager.",
    "Invoices must quote their PO number.",
    "Ships to two warehouses; check the address on every order.",
    "Renewal due next quarter.",
    "Asked for a volume discount; pending approval.",
    "VAT exempt, certificate on file.",
    "Pays by bank transfer only.",
    "Had a delivery dispute last year, handle with care.",
    "Interested in the enterprise plan.",
)

PRODUCT_ITEMS = (
    ("ACC", "Wireless Mouse", 2_900), ("ACC", "Mechanical Keyboard", 8_900),
    ("ACC", "USB-C Hub", 4_900), ("ACC", "Laptop Stand", 3_900), ("ACC", "Cable Kit", 1_900),
    ("ACC", "Webcam", 6_900), ("ACC", "Headset", 9_900), ("ACC", "Mouse Pad", 1_200),
    ("DSP", "24\" Monitor", 17_900), ("DSP", "27\" Monitor", 29_900),
    ("DSP", "34\" Ultrawide", 54_900), ("DSP", "Portable Display", 21_900),
    ("CMP", "Laptop 14", 109_900), ("CMP", "Laptop 16", 169_900), ("CMP", "Mini PC", 59_900),
    ("CMP", "Tablet", 49_900), ("NET", "Wi-Fi Router", 12_900), ("NET", "Mesh Kit", 27_900),
    ("NET", "Network Switch", 8_900), ("NET", "Access Point", 15_900),
    ("STO", "SSD 1TB", 8_900), ("STO", "SSD 2TB", 15_900), ("STO", "NAS 4-bay", 49_900),
    ("STO", "USB Stick 128GB", 1_900), ("FUR", "Ergonomic Chair", 39_900),
    ("FUR", "Standing Desk", 59_900), ("FUR", "Monitor Arm", 11_900),
    ("FUR", "Desk Lamp", 4_900), ("AUD", "Speakerphone", 18_900), ("AUD", "Earbuds", 12_900),
)
PRODUCT_BRANDS = ("Nordic", "Vertex", "Kestrel", "Lumen", "Orbit", "Tidal", "Granite")
PRODUCT_SERIES = (("", 1.0), (" Lite", 0.8), (" Pro", 1.35), (" Max", 1.6), (" Air", 1.1))

ORDER_STATUSES = ("pending", "paid", "shipped", "delivered", "cancelled", "refunded")
ORDER_STATUS_WEIGHTS = (4, 6, 8, 72, 7, 3)
LINES_PER_ORDER = (1, 2, 3, 4)
LINES_PER_ORDER_WEIGHTS = (45, 30, 17, 8)  # mean 1.88
QUANTITIES = (1, 2, 3, 4, 5, 10)
QUANTITY_WEIGHTS = (60, 18, 8, 5, 5, 4)

TICKET_STATUSES = ("open", "pending", "solved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_PRIORITY_WEIGHTS = (20, 55, 19, 6)
ORDER_SUBJECTS = (
    "Where is my order {}?",
    "Order {} arrived damaged",
    "Wrong item received in {}",
    "Refund request for {}",
    "Please cancel order {}",
    "Change delivery address for {}",
    "Invoice copy needed for {}",
    "Missing item in order {}",
    "Tracking link for {} does not work",
    "Return label for {}",
)
GENERAL_SUBJECTS = (
    "Cannot sign in to the customer portal",
    "Question about our plan",
    "Update billing details",
    "Add a colleague to our account",
    "Export of past invoices",
    "Password reset email not arriving",
    "VAT number on invoices",
    "Bulk order quote",
    "Data protection request",
    "Upgrade to enterprise",
    "Payment failed",
    "Feature request: CSV import",
)
CUSTOMER_SENTENCES = (
    "Hello, we have an issue and would appreciate a quick answer.",
    "The tracking page has not changed for several days.",
    "One of the boxes was crushed when it arrived.",
    "We received two units instead of three.",
    "Could you send us the invoice as a PDF?",
    "Our finance team needs the PO number on the invoice.",
    "Please let us know when we can expect a replacement.",
    "This is blocking our team, so it is rather urgent.",
    "We would like a refund rather than a replacement.",
    "Thanks in advance for your help.",
    "I tried again this morning and it still fails.",
    "Can someone call me back today?",
)
AGENT_SENTENCES = (
    "Thanks for reaching out, I am looking into it now.",
    "I have asked the warehouse to check the shipment.",
    "The carrier confirmed the parcel is out for delivery.",
    "A replacement has been sent and should arrive within three days.",
    "I have issued the refund; it can take up to five business days.",
    "Could you send us a photo of the damaged item?",
    "I have updated the delivery address on the order.",
    "The invoice is attached to this ticket.",
    "Closing this ticket for now, reply to reopen it.",
    "Escalated to the logistics team.",
    "Customer confirmed by phone, all good.",
    "Duplicate of an earlier ticket, merged.",
)

# username, password (None: cannot sign in), name, roles, active
STAFF = (
    ("admin", "admin", "Ada Admin", "admin", True),
    ("support", "support", "Sam Support", "support", True),
    ("viewer", "viewer", "Val Viewer", "viewer", True),
    ("maria", None, "María López", "support", True),
    ("kenji", None, "Kenji Watanabe", "support", True),
    ("lea", None, "Léa Moreau", "support", True),
    ("omar", None, "Omar Haddad", "support", True),
    ("priya", None, "Priya Natarajan", "support,viewer", True),
    ("former", None, "Former Agent", "support", False),
)
SIGN_INS = {u: (pw, set(r.split(","))) for u, pw, _, r, _ in STAFF if pw}

COLUMNS = {
    "staff_users": ("id", "username", "name", "email", "roles_csv", "password_hash", "is_active"),
    "accounts": ("id", "name", "email", "plan", "region", "is_active", "created_at", "notes"),
    "contacts": ("id", "account_id", "name", "email", "phone", "role", "created_at"),
    "products": ("id", "sku", "name", "price", "is_active", "created_at", "picture"),
    "orders": (
        "id", "reference", "account_id", "status", "total", "currency", "created_at",
        "updated_at", "shipped_at",
    ),
    "order_lines": ("id", "order_id", "product_id", "quantity", "unit_price"),
    "tickets": (
        "id", "account_id", "order_id", "subject", "status", "priority", "assignee_id",
        "created_at", "updated_at",
    ),
    "ticket_comments": ("id", "ticket_id", "author_id", "body", "is_internal", "created_at"),
    "tags": ("id", "name"),
    "ticket_tags": ("ticket_id", "tag_id"),
}

#: Every PICTURE_EVERY-th product has a picture (picture_png), a few on every page of the
#: list, kept in the admin's file storage under picture_key (the demo app stores them:
#: store_pictures).
PICTURE_EVERY = 10
PRODUCTS = 200

#: The demo's ticket tags (data, like the subjects: not translated).
TAGS = ("Billing", "Bug", "Delivery", "Feature request", "Login", "Refund", "Returns", "VIP")


def account_count(rows: int) -> int:
    return min(10_000, max(50, rows // 100))


def expected_counts(rows: int) -> dict[str, int | tuple[int, int]]:
    """Exact counts, or (min, max) where a count is drawn at random."""
    accounts = account_count(rows)
    tickets = rows // 5
    return {
        "staff_users": len(STAFF),
        "accounts": accounts,
        "contacts": (accounts, 3 * accounts),
        "products": 200,
        "orders": rows,
        "order_lines": (rows, 4 * rows),
        "tickets": tickets,
        "ticket_comments": (tickets, 3 * tickets),
        "tags": len(TAGS),
        "ticket_tags": (0, 2 * tickets),
    }


def _urn(values, weights, scale: float = 1.0) -> list:
    """Each value repeated by its (integer-rounded) weight: ``rng.choices(urn, k=n)`` then draws
    with those weights without the bisect per draw that ``choices(weights=...)`` costs."""
    urn = []
    for value, weight in zip(values, weights):
        urn += [value] * max(1, round(weight * scale))
    return urn


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-"))


class _Clock:
    """Seconds since ``start`` → 'YYYY-MM-DD HH:MM:SS' text, from precomputed pieces.

    The pieces count from the midnight before ``start``: ``offset`` (``start``'s time of day,
    in seconds) is added to a second before it is split into day and time of day, so that the
    text is ``start + sec`` whatever the hour ``now`` (and so ``start``) falls on.
    """

    def __init__(self, start: dt.datetime, days: int):
        self.start = start
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.offset = int((start - midnight).total_seconds())
        self.days = [(midnight + dt.timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(days + 2)]
        self.tod = [
            f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def __call__(self, sec: int) -> str:
        sec += self.offset
        return self.days[sec // DAY] + self.tod[sec % DAY]


class _Data:
    """All generated rows, table by table, as lists of tuples in ``COLUMNS`` order."""

    def __init__(self, rows: int, seed: int, now: dt.datetime):
        self.rng = random.Random(seed)
        # Tags draw from a generator of their own: the other tables' rows stay as they were.
        self.tag_rng = random.Random(seed * 31 + 7)
        self.rows = rows
        # Everything is dated relative to ``now`` (a whole second); the history starts 5 years back.
        history_days = 5 * 365
        self.start = now - dt.timedelta(days=history_days)
        self.now_sec = history_days * DAY
        self.window_start = self.now_sec - WINDOW_DAYS * DAY
        self.clock = _Clock(self.start, history_days)
        self.tables: dict[str, list[tuple]] = {}

    def _gen_staff_users(self) -> None:
        rows = []
        for i, (username, password, name, roles, active) in enumerate(STAFF, 1):
            # Agents without a sign-in get "!", which no password matches (like /etc/shadow).
            pw_hash = generate_password_hash(password) if password else "!"
            email = f"{username}@support.example.com"
            rows.append((i, username, name, email, roles, pw_hash, active))
        self.tables["staff_users"] = rows
        # active support agents take tickets
        self.agent_ids = [r[0] for r in rows if "support" in r[4].split(",") and r[6]]

    def _gen_accounts(self) -> None:
        rng, clock = self.rng, self.clock
        n = account_count(self.rows)
        combos = len(COMPANY_ADJECTIVES) * len(COMPANY_NOUNS) * len(COMPANY_SUFFIXES)
        picks = rng.sample(range(combos), n)
        # 85% of accounts predate the two-year window; the others joined during it.
        secs = sorted(
            rng.randrange(0, self.window_start)
            if rng.random() < 0.85
            else rng.randrange(self.window_start, self.now_sec - 7 * DAY)
            for _ in range(n)
        )
        secs[0] = min(secs[0], self.window_start - DAY)  # at least one account predates all orders
        plans = rng.choices(PLANS, PLAN_WEIGHTS, k=n)
        regions = rng.choices(REGIONS, REGION_WEIGHTS, k=n)
        rows, domains, weights = [], [], []
        n_adj, n_noun = len(COMPANY_ADJECTIVES), len(COMPANY_NOUNS)
        for i in range(n):
            p = picks[i]
            adj = COMPANY_ADJECTIVES[p % n_adj]
            noun = COMPANY_NOUNS[(p // n_adj) % n_noun]
            suffix = COMPANY_SUFFIXES[p // (n_adj * n_noun)]
            region = regions[i]
            tld = rng.choice(REGION_TLDS[region])
            # the suffix keeps the domain unique, like the name
            domain = f"{adj}{noun}-{_ascii(suffix).replace('.', '')}".lower() + f".{tld}"
            domain = domain.replace("--", "-").replace("-.", ".")
            mailbox = rng.choice(ACCOUNT_MAILBOXES)
            active = rng.random() < 0.93
            notes = rng.choice(ACCOUNT_NOTES) if rng.random() < 0.25 else None
            rows.append(
                (
                    i + 1, f"{adj} {noun} {suffix}", f"{mailbox}@{domain}", plans[i], region,
                    active, clock(secs[i]), notes,
                )
            )
            domains.append(domain)
            weights.append(PLAN_ORDER_WEIGHT[plans[i]] * (0.2 + rng.random()))
        self.tables["accounts"] = rows
        self.account_secs = secs
        self.account_regions = regions
        self.account_domains = domains
        self.account_urn = _urn(range(1, n + 1), weights, scale=20)
        self.old_accounts = [i for i in range(n) if secs[i] < self.window_start]

    def _gen_contacts(self) -> None:
        rng, clock, now_sec = self.rng, self.clock, self.now_sec
        first_ascii = [_ascii(n).lower() for n in FIRST_NAMES]
        last_ascii = [_ascii(n).lower() for n in LAST_NAMES]
        rows = []
        cid = 0
        for a, region in enumerate(self.account_regions):
            for _ in range(rng.choice((1, 1, 2, 2, 2, 3))):
                cid += 1
                f = rng.randrange(len(FIRST_NAMES))
                last = rng.randrange(len(LAST_NAMES))
                phone = rng.choice(REGION_PHONES[region]) + f"{rng.randrange(1_000_000, 9_999_999)}"
                created = min(now_sec, self.account_secs[a] + rng.randrange(0, 120 * DAY))
                rows.append(
                    (
                        cid, a + 1, f"{FIRST_NAMES[f]} {LAST_NAMES[last]}",
                        f"{first_ascii[f]}.{last_ascii[last]}@{self.account_domains[a]}",
                        phone if rng.random() < 0.8 else None,
                        rng.choice(CONTACT_ROLES) if rng.random() < 0.9 else None,
                        clock(created),
                    )
                )
        self.tables["contacts"] = rows

    def _gen_products(self) -> None:
        rng, clock = self.rng, self.clock
        combos = [
            (brand, item, series)
            for item in PRODUCT_ITEMS
            for brand in PRODUCT_BRANDS
            for series in PRODUCT_SERIES
        ]
        picks = rng.sample(combos, 200)
        rows, prices = [], []
        for i, (brand, (category, item, base_cents), (series, mult)) in enumerate(picks):
            cents = int(base_cents * mult * (0.85 + 0.3 * rng.random())) // 100 * 100 - 1
            created = rng.randrange(0, self.window_start - 30 * DAY)
            rows.append(
                (
                    i + 1, f"{category}-{i + 1:05d}", f"{brand} {item}{series}", cents / 100,
                    rng.random() < 0.9, clock(created),
                    picture_key(i + 1) if (i + 1) % PICTURE_EVERY == 0 else None,
                )
            )
            prices.append(cents)
        self.tables["products"] = rows
        self.product_cents = prices
        self.product_prices = [c / 100 for c in prices]
        # popularity: a few bestsellers, a long tail
        self.product_urn = _urn(range(1, 201), [1 / (r + 5) for r in range(200)], scale=2000)

    def _gen_orders(self) -> Iterator[list[tuple]]:
        """Order rows in chunks; fills ``tables["order_lines"]`` along the way.

        Column-wise (comprehensions and ``zip``) rather than a loop per order: 3-4x faster.
        """
        n = self.rows
        window = self.now_sec - self.window_start
        rand = self.rng.random
        # more orders lately (the business grows): density rises over the window
        secs = sorted([self.window_start + int(window * rand() ** 0.75) for _ in range(n)])
        self.order_secs = secs
        self.order_accounts = []
        self.tables["order_lines"] = []
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            yield self._order_chunk(range(lo + 1, hi + 1), secs[lo:hi])

    def _order_chunk(self, order_ids: range, chunk_secs: list[int]) -> list[tuple]:
        """The rows of the orders ``order_ids``, placed at ``chunk_secs`` (sorted); their lines
        go to ``tables["order_lines"]``. The rng is consumed in this order: accounts, statuses,
        lines, dates (the same seed gives the same rows)."""
        accounts = self._order_accounts_of(chunk_secs)
        self.order_accounts += accounts
        statuses = self._order_statuses(chunk_secs)
        totals = self._gen_order_lines(order_ids)
        updated, shipped = self._order_dates(statuses, chunk_secs)
        currency_of = [None] + [REGION_CURRENCY[r] for r in self.account_regions]
        return list(
            zip(
                order_ids,
                ["ORD-%06d" % oid for oid in order_ids],
                accounts,
                statuses,
                totals,
                [currency_of[a] for a in accounts],
                self._timestamps(chunk_secs),
                self._timestamps(updated),
                self._timestamps(shipped),
            )
        )

    def _order_accounts_of(self, chunk_secs: list[int]) -> list[int]:
        """Who placed each order: drawn by the accounts' weights; no orders before the account
        existed: those move to an older account."""
        rand = self.rng.random
        account_secs, old = self.account_secs, self.old_accounts
        n_old = len(old)
        accounts = self.rng.choices(self.account_urn, k=len(chunk_secs))
        return [
            a if account_secs[a - 1] <= s else old[int(rand() * n_old)] + 1
            for a, s in zip(accounts, chunk_secs)
        ]

    def _order_statuses(self, chunk_secs: list[int]) -> list[str]:
        """The orders' statuses, drawn by weight; the last days' orders are not delivered yet."""
        now_sec = self.now_sec
        recent = now_sec - 10 * DAY
        statuses = self.rng.choices(_urn(ORDER_STATUSES, ORDER_STATUS_WEIGHTS), k=len(chunk_secs))
        if chunk_secs[-1] >= recent:
            for i in range(bisect.bisect_left(chunk_secs, recent), len(chunk_secs)):
                if statuses[i] != "cancelled":
                    age = now_sec - chunk_secs[i]
                    statuses[i] = "pending" if age < DAY else "paid" if age < 2 * DAY else "shipped"
        return statuses

    def _gen_order_lines(self, order_ids: range) -> list[float]:
        """The orders' lines, added to ``tables["order_lines"]``; returns each order's total
        (the sum of its lines)."""
        rng = self.rng
        lines = self.tables["order_lines"]
        counts = rng.choices(_urn(LINES_PER_ORDER, LINES_PER_ORDER_WEIGHTS), k=len(order_ids))
        n_lines = sum(counts)
        products = rng.choices(self.product_urn, k=n_lines)
        quantities = rng.choices(_urn(QUANTITIES, QUANTITY_WEIGHTS), k=n_lines)
        price_of = [0.0] + self.product_prices
        first_id = len(lines) + 1  # line ids run on from the previous chunks' lines
        lines += zip(
            range(first_id, first_id + n_lines),
            [oid for oid, c in zip(order_ids, counts) for _ in range(c)],
            products,
            quantities,
            [price_of[p] for p in products],
        )
        # order total = sum of its lines, in cents
        cents_of = [0] + self.product_cents
        cum = list(itertools.accumulate([cents_of[p] * q for p, q in zip(products, quantities)], initial=0))
        ends = list(itertools.accumulate(counts))
        return [(cum[e] - cum[e - c]) / 100 for e, c in zip(ends, counts)]

    def _order_dates(self, statuses: list[str], chunk_secs: list[int]) -> tuple[list[int], list[int | None]]:
        """When each order last changed and when it shipped (None: not shipped yet), as its
        status implies; nothing happens after now."""
        rand, now_sec = self.rng.random, self.now_sec
        updated, shipped = [], []
        add_updated, add_shipped = updated.append, shipped.append
        for status, s in zip(statuses, chunk_secs):
            if status == "pending":
                add_updated(s)
                add_shipped(None)
            elif status == "paid" or status == "cancelled":
                add_updated(s + int(rand() * 2 * DAY))
                add_shipped(None)
            else:
                ship = s + 21_600 + int(rand() * 4 * DAY)
                add_shipped(ship)
                if status == "shipped":
                    add_updated(ship)
                elif status == "delivered":
                    add_updated(ship + DAY + int(rand() * 5 * DAY))
                else:  # refunded
                    add_updated(ship + 3 * DAY + int(rand() * 30 * DAY))
        if chunk_secs[-1] >= now_sec - 40 * DAY:
            updated = [min(u, now_sec) for u in updated]
            shipped = [None if x is None else min(x, now_sec) for x in shipped]
        return updated, shipped

    def _timestamps(self, secs: list[int | None]) -> list[str | None]:
        """``clock(s)`` of each second (None stays None), the clock's arithmetic inlined: no
        call per value."""
        days, tod, off = self.clock.days, self.clock.tod, self.clock.offset
        return [None if s is None else days[(s + off) // DAY] + tod[(s + off) % DAY] for s in secs]

    def _gen_tickets(self) -> Iterator[list[tuple]]:
        """Ticket rows in chunks; fills ``tables["ticket_comments"]`` along the way."""
        rng, now_sec = self.rng, self.now_sec
        clock = self.clock
        rand = rng.random
        n = self.rows // 5
        n_orders = self.rows
        n_accounts = len(self.account_secs)
        agents = self.agent_ids
        n_agents = len(agents)
        n_order_subjects, n_general_subjects = len(ORDER_SUBJECTS), len(GENERAL_SUBJECTS)
        drafts = []  # (created, account_id, order_id, subject)
        for _ in range(n):
            if n_orders and rand() < 0.7:
                o = int(rand() * n_orders)
                placed = self.order_secs[o]
                created = placed + int(rand() * min(20 * DAY, now_sec - 60 - placed))
                subject = ORDER_SUBJECTS[int(rand() * n_order_subjects)].format("ORD-%06d" % (o + 1))
                drafts.append((created, self.order_accounts[o], o + 1, subject))
            else:
                a = int(rand() * n_accounts)
                start = max(self.window_start, self.account_secs[a])
                created = start + int(rand() * (now_sec - 60 - start))
                drafts.append((created, a + 1, None, GENERAL_SUBJECTS[int(rand() * n_general_subjects)]))
        drafts.sort(key=lambda d: d[0])  # ids follow time, like a real table

        customer_bodies = [
            " ".join(rng.sample(CUSTOMER_SENTENCES, rng.randint(1, 3))) for _ in range(300)
        ]
        agent_bodies = [" ".join(rng.sample(AGENT_SENTENCES, rng.randint(1, 2))) for _ in range(300)]
        self.tables["ticket_comments"] = comments = []
        add_comment = comments.append
        cid = 0
        for lo in range(0, n, CHUNK):
            chunk = drafts[lo : lo + CHUNK]
            priorities = rng.choices(TICKET_PRIORITIES, TICKET_PRIORITY_WEIGHTS, k=len(chunk))
            tickets = []
            add_ticket = tickets.append
            for tid, (created, account_id, order_id, subject), priority in zip(
                range(lo + 1, lo + len(chunk) + 1), chunk, priorities
            ):
                age = now_sec - created
                r = rand()
                if age < 2 * DAY:
                    status = "open" if r < 0.7 else "pending"
                elif age < 14 * DAY:
                    status = "open" if r < 0.25 else "pending" if r < 0.5 else "solved" if r < 0.85 else "closed"
                else:
                    status = "open" if r < 0.02 else "pending" if r < 0.05 else "solved" if r < 0.15 else "closed"
                assignee = None if status == "open" and rand() < 0.35 else agents[int(rand() * n_agents)]
                if status == "solved" or status == "closed":
                    updated = min(now_sec, created + 3600 + int(rand() * 10 * DAY))
                else:
                    updated = min(now_sec, created + int(rand() * min(age, 2 * DAY)))
                created_s = clock(created)
                add_ticket(
                    (
                        tid, account_id, order_id, subject, status, priority, assignee, created_s,
                        clock(updated),
                    )
                )
                # the customer writes first; agents answer (mean: 2 comments a ticket)
                cid += 1
                add_comment((cid, tid, None, customer_bodies[int(rand() * 300)], False, created_s))
                k = 1 + (rand() < 0.7) + (rand() < 0.3)
                span = updated - created
                for c in range(1, k):
                    cid += 1
                    when = created + span * c // (k - 1) if k > 1 else created
                    add_comment(
                        (
                            cid, tid, assignee or agents[int(rand() * n_agents)],
                            agent_bodies[int(rand() * 300)], rand() < 0.3,
                            clock(when),
                        )
                    )
            yield tickets

    def chunks(self) -> Iterator[tuple[str, list[tuple]]]:
        """(table, rows) in load order (parents first). The rng is consumed in this order."""
        for name in ("staff_users", "accounts", "contacts", "products"):
            getattr(self, f"_gen_{name}")()
            yield name, self.tables[name]
        for rows in self._gen_orders():
            yield "orders", rows
        yield "order_lines", self.tables.pop("order_lines")
        for rows in self._gen_tickets():
            yield "tickets", rows
        yield "ticket_comments", self.tables.pop("ticket_comments")
        yield "tags", [(i, name) for i, name in enumerate(TAGS, 1)]
        yield "ticket_tags", self._gen_ticket_tags()

    def _gen_ticket_tags(self) -> list[tuple]:
        """Most tickets carry one or two tags, some none."""
        rand, sample = self.tag_rng.random, self.tag_rng.sample
        tag_ids = range(1, len(TAGS) + 1)
        rows = []
        for tid in range(1, self.rows // 5 + 1):
            r = rand()
            count = 0 if r < 0.35 else 1 if r < 0.8 else 2
            rows += [(tid, tag) for tag in sorted(sample(tag_ids, count))]
        return rows

    def grouped(self) -> Iterator[tuple[str, Iterator[list[tuple]]]]:
        """(table, iterator of chunks) per table, in load order."""
        for table, group in itertools.groupby(self.chunks(), key=lambda item: item[0]):
            yield table, (rows for _, rows in group)


# --- product pictures --------------------------------------------------------------------------


def picture_key(product_id: int) -> str:
    """The storage key of a seeded product's picture (file_storage.check_key accepts it)."""
    return f"products/demo/product-{int(product_id)}.png"


_PICTURE_COLOURS = ((37, 99, 235), (220, 38, 38), (22, 163, 74), (217, 119, 6), (147, 51, 234),
                    (8, 145, 178), (219, 39, 119), (71, 85, 105))


def picture_png(product_id: int) -> bytes:
    """A small PNG drawn for a product (the same bytes for the same id): a coloured card with
    a few shapes, so that lists and detail pages have thumbnails to show."""
    import io

    from PIL import Image, ImageDraw

    n = int(product_id)
    colour = _PICTURE_COLOURS[n % len(_PICTURE_COLOURS)]
    image = Image.new("RGB", (240, 180), tuple(c // 4 + 190 for c in colour))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((30, 30, 210, 150), radius=18, fill=colour)
    for k in range(n % 4 + 1):
        x = 50 + 40 * k
        draw.ellipse((x, 70, x + 28, 98), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def store_pictures(storage) -> int:
    """Put the seeded products' pictures into ``storage`` (a hyper_admin FileStorage) where
    missing; returns how many it wrote."""
    written = 0
    for product_id in range(PICTURE_EVERY, PRODUCTS + 1, PICTURE_EVERY):
        key = picture_key(product_id)
        if not storage.exists(key):
            storage.save(key, picture_png(product_id), "image/png")
            written += 1
    return written


# --- loading -----------------------------------------------------------------------------------


def _insert_sql(table: str) -> str:
    cols = COLUMNS[table]
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


class _Progress:
    def __init__(self, log):
        self.log = log
        self.counts: dict[str, int] = {}

    def table(self, table: str, t0: float) -> None:
        self.log(f"  {table:<16} {self.counts.get(table, 0):>10,} rows {time.perf_counter() - t0:7.2f}s")

    def step(self, label: str, t0: float) -> None:
        self.log(f"  {label:<27} {time.perf_counter() - t0:7.2f}s")


def _load_sqlite(engine, data: _Data, progress: _Progress) -> None:
    with engine as tx:
        conn = tx.session.connect()
        if conn.in_transaction:
            conn.commit()
        saved = {p: scalar(conn.execute(f"PRAGMA {p}")) for p in ("foreign_keys", "synchronous", "threads")}
        # PRAGMA foreign_keys is ignored inside a transaction: set it before BEGIN.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB for the index builds
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA threads = 2")  # parallel sort in CREATE INDEX
        try:
            # one transaction: a failed load leaves the tables as they were
            conn.execute("BEGIN")
            for stmt in schema._drop_index_statements():
                conn.execute(stmt)
            for table, chunks in data.grouped():
                t0 = time.perf_counter()
                sql = _insert_sql(table)
                for rows in chunks:
                    conn.executemany(sql, rows)
                    progress.counts[table] = progress.counts.get(table, 0) + len(rows)
                progress.table(table, t0)
            t0 = time.perf_counter()
            for stmt in schema._index_statements():
                conn.execute(stmt)
            progress.step("indexes", t0)
            t0 = time.perf_counter()
            conn.execute("PRAGMA analysis_limit = 1000")
            conn.execute("ANALYZE")
            conn.commit()
            progress.step("analyze + commit", t0)
        finally:
            if conn.in_transaction:
                conn.rollback()
            # the connection goes back to sqlorm's pool: leave it as we found it
            conn.execute("PRAGMA cache_size = 2000")
            conn.execute("PRAGMA temp_store = DEFAULT")
            for pragma, value in saved.items():
                conn.execute(f"PRAGMA {pragma} = {int(value)}")


def _load_postgres(engine, data: _Data, progress: _Progress) -> None:
    # one transaction (DDL included): a failed load leaves the tables as they were
    with engine as tx:
        conn = tx.session.connect()
        with conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # checked row by row during COPY they would cost more than one validation afterwards
            for stmt in schema._drop_foreign_key_statements() + schema._drop_index_statements():
                cur.execute(stmt)
            for table, chunks in data.grouped():
                t0 = time.perf_counter()
                # COPY streams: the server stores one chunk while Python builds the next
                with cur.copy(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN") as copy:
                    write_row = copy.write_row
                    for rows in chunks:
                        for row in rows:
                            write_row(row)
                        progress.counts[table] = progress.counts.get(table, 0) + len(rows)
                progress.table(table, t0)
            # COPY with explicit ids leaves the identity sequences behind
            for table in (t for t in schema.TABLE_NAMES if t not in schema.KEYLESS_TABLES):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            t0 = time.perf_counter()
            for stmt in schema._foreign_key_statements():
                cur.execute(stmt)
            progress.step("foreign keys (validated)", t0)
            t0 = time.perf_counter()
            for stmt in schema._index_statements():
                cur.execute(stmt)
            progress.step("indexes", t0)
            t0 = time.perf_counter()
            for table in schema.TABLE_NAMES:
                cur.execute(f"ANALYZE {table}")
            progress.step("analyze", t0)


def _check_empty(engine) -> None:
    with engine as tx:
        cur = tx.cursor()
        try:
            for table in schema.TABLE_NAMES:
                cur.execute(f"SELECT 1 FROM {table} LIMIT 1")
                if scalar(cur):
                    raise RuntimeError(
                        f"seed() needs empty tables and {table} has rows: "
                        "drop_schema() and create_schema() first (or run the demo with --reseed)"
                    )
        finally:
            cur.close()


def seed(
    engine,
    rows: int = DEFAULT_ROWS,
    seed: int = 42,
    *,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = print,
) -> dict[str, int]:
    """Fill the demo tables with ``rows`` orders and everything around them; returns the counts.

    The tables are created when missing and must be empty otherwise. ``now`` (naive UTC) anchors
    every date; by default the start of the current hour, so the same seed gives the same rows
    within an hour (and the same ids, references, totals and statuses at any time).
    """
    rows = int(rows)
    if rows < 0:
        raise ValueError("rows must be >= 0")
    log = log or (lambda message: None)
    if now is None:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    pg = is_postgres(engine)
    log(f"Seeding {rows:,} orders ({'PostgreSQL' if pg else 'SQLite'}, seed={seed})")

    # Secondary indexes (and PostgreSQL's foreign keys) are dropped by the loader and rebuilt
    # after the rows are in: much faster than maintaining them row by row.
    if all(schema.table_exists(engine, t) for t in schema.TABLE_NAMES):
        _check_empty(engine)
    else:
        schema.drop_schema(engine)
        schema.create_schema(engine, indexes=False, foreign_keys=False)

    # Rows are generated while they are loaded, table by table, chunk by chunk.
    progress = _Progress(log)
    (_load_postgres if pg else _load_sqlite)(engine, _Data(rows, seed, now), progress)

    counts = {table: progress.counts.get(table, 0) for table in schema.TABLE_NAMES}
    log(
        f"Seeded {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
    )
    return counts
