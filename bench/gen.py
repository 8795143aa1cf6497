#!/usr/bin/python3
"""Deterministic data sets for the benchmark (bench/run).

    gen.py articles FIRST COUNT DIR   writes articles FIRST..FIRST+COUNT-1 as
                                      Markdown with front matter under DIR
    gen.py members DB COUNT           inserts COUNT members, a session each and,
                                      when the schema has them, a plan and an
                                      active subscription for three in five,
                                      straight into a SQLite database
    gen.py subscribe DB EMAIL         gives one member an active subscription
    gen.py slug INDEX                 prints the slug of article INDEX

Article INDEX depends on INDEX only (its own seeded generator), so the 10k
set is the first tenth of the 100k set and both are the same on every run
and machine. Articles go 1000 to a folder because `masthead import DIR`
walks folders in name order. Members are written with SQL, not through
`masthead user add`, because that hashes a password with argon2id (64 MiB,
about 0.1 s each: hours for 100k); they have no password and cannot
sign in, which the benchmark does not need."""
import hashlib
import os
import random
import sqlite3
import sys
import time

# Article 0 is the newest; each older one is 20 minutes earlier, so 100k
# articles cover about four years, all safely in the past.
NEWEST = 1717200000  # 2024-06-01T00:00:00Z
STEP = 20 * 60

# The article every benchmark case reads: paid, with quotes in both parts,
# inside the 10k set so the 10k and 100k runs read the very same article.
BENCH_INDEX = 777
GATED_MARK = "bench-gated-part"

PLACES = ["Harbor Vale", "Eastshore", "Saltmarsh", "Brinewell", "Tidewater", "Pier 9", "Depot Street",
          "the ferry landing", "the north basin", "Kelp Point", "Old Town", "the rail yard"]
SUBJECTS = ["council", "port authority", "school board", "transit agency", "library board", "water district",
            "fishermen's cooperative", "planning commission", "hospital district", "harbor pilots",
            "parks department", "housing authority"]
VERBS = ["weighs", "delays", "approves", "rejects", "revisits", "studies", "funds", "cuts", "expands",
         "questions", "opens", "closes"]
OBJECTS = ["overnight cargo window", "rezoning plan", "later start times", "bond measure", "rate increase",
           "new bus route", "seawall repairs", "cold storage permit", "budget for inspectors",
           "warming site hours", "rail underpass deal", "net loft lease"]
WORDS = ("the a of to and in that for on with as at by from this board said would will could year "
         "residents city staff vote meeting plan cost million percent study report public hearing "
         "week month neighborhood street harbor port council members agency budget housing water "
         "school ferry route service workers union business owners families night morning money "
         "permit review decision proposal estimate contract schedule project district state federal "
         "county officials director chair commissioner spokesperson data number record increase").split()
FIRST = ["Ines", "Tobias", "Harriet", "Nadia", "Felix", "Mara", "Owen", "Priya", "Jonas", "Lena", "Marcus",
         "Aiko", "Rafael", "Greta", "Samir", "Dana", "Hugo", "Elif", "Nora", "Theo"]
LAST = ["Okafor", "Renwick", "Quist", "Ferro", "Amundsen", "Lindqvist", "Baptiste", "Castellano", "Ngata",
        "Halloran", "Voss", "Moreau", "Sato", "Whitfield", "Adeyemi", "Kowalski", "Brandt", "Ibarra"]
ROLES = ["Chair of the board", "Councilmember", "Resident", "Director of operations", "Spokesperson",
         "President of the cooperative", "Harbor pilot", "Teacher", "Business owner", "Economist"]
N_AUTHORS, N_TAGS, N_SPEAKERS = 300, 400, 3000


def person(n):
    return f"{FIRST[n % len(FIRST)]} {chr(65 + n // 360 % 26)}. {LAST[(n // len(FIRST)) % len(LAST)]}"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def slugify(s):
    out, dash = [], False
    for ch in s.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def title_of(i):
    rng = random.Random(i * 7919 + 1)
    t = f"{rng.choice(PLACES)} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    return t[0].upper() + t[1:]


def slug_of(i):
    return f"{slugify(title_of(i))}-{i}"


def paragraph(rng, words):
    n = rng.randint(words - words // 3, words + words // 3)
    sentences = []
    while n > 0:
        k = min(n, rng.randint(8, 20))
        n -= k
        s = " ".join(rng.choice(WORDS) for _ in range(k))
        sentences.append(s[0].upper() + s[1:] + ".")
    # Numbers and quotation marks, so cmark's smart punctuation has work.
    return " ".join(sentences) + f" It was {rng.randint(2, 98)} percent, the \"{rng.choice(WORDS)}\" said."


def quote(rng):
    name = person(rng.randrange(N_SPEAKERS))
    return f"> {paragraph(rng, 30)}\n>\n> — {name}, {rng.choice(ROLES)}"


def article(i):
    rng = random.Random(i)
    access = "paid" if i == BENCH_INDEX else rng.choices(["public", "members", "paid"], [3, 2, 5])[0]
    authors = sorted({person(rng.randrange(N_AUTHORS)) for _ in range(rng.randint(1, 2))})
    tags = sorted({f"topic {rng.randrange(N_TAGS)}" for _ in range(rng.randint(1, 4))})
    when = NEWEST - i * STEP
    teaser = [paragraph(rng, 90), paragraph(rng, 70)]
    if i == BENCH_INDEX or rng.random() < 0.4:
        teaser.append(quote(rng))
    gated = [f"## {rng.choice(['Background', 'What they said', 'Context', 'What comes next'])}",
             paragraph(rng, 90), paragraph(rng, 80)]
    if i == BENCH_INDEX or rng.random() < 0.5:
        gated.append(quote(rng))
    gated += [paragraph(rng, 70), "- " + paragraph(rng, 10), "- " + paragraph(rng, 12),
              paragraph(rng, 60) + f" ({GATED_MARK} {i})"]
    return (
        "---\n"
        f"title: {title_of(i)}\n"
        f"slug: {slug_of(i)}\n"
        f"dek: {paragraph(rng, 18)}\n"
        f"access: {access}\n"
        f"authors: [{', '.join(authors)}]\n"
        f"tags: [{', '.join(tags)}]\n"
        f"published_at: {iso(when)}\n"
        + (f"updated_at: {iso(when + 7200)}\n" if rng.random() < 0.2 else "")
        + "---\n" + "\n\n".join(teaser) + "\n\n<!-- paywall -->\n\n" + "\n\n".join(gated) + "\n")


def cmd_articles(first, count, out):
    for i in range(first, first + count):
        folder = os.path.join(out, f"{i // 1000:04d}")
        if i % 1000 == 0 or i == first:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{i:06d}.md"), "w", encoding="utf-8") as f:
            f.write(article(i))


def columns(db, table):
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def cmd_members(path, count):
    db = sqlite3.connect(path)
    db.execute("PRAGMA busy_timeout = 10000")
    cols = columns(db, "members")
    base = NEWEST - 5 * 365 * 86400
    rows = []
    for i in range(count):
        name = person(i)
        rows.append((f"member{i:06d}@bench.test", name, base + i * 600))
    with db:
        if "email_verified" in cols:
            db.executemany("INSERT INTO members (email, name, role, created_at, email_verified) "
                           "VALUES (?, ?, 'reader', ?, 1)", rows)
        else:
            db.executemany("INSERT INTO members (email, name, role, created_at) VALUES (?, ?, 'reader', ?)", rows)
        # A session for every member, so the session lookup searches a
        # realistic index. The tokens are fixed, not secrets: member i's is
        # "bench" and i in 38 digits (43 characters, as a real one), which
        # bench/sessions.lua sends to read as many members.
        if columns(db, "sessions"):
            db.executemany(
                "INSERT INTO sessions (token_hash, member_id, created_at, last_seen_at, expires_at) "
                "SELECT ?, id, ?, ?, ? FROM members WHERE email = ?",
                ((hashlib.blake2b(b"bench%038d" % i, digest_size=32).hexdigest(), NEWEST, NEWEST,
                  NEWEST + 10 * 365 * 86400, rows[i][0]) for i in range(count)))
        # Three in five members subscribe, when billing's tables exist.
        if columns(db, "subscriptions"):
            plan = ensure_plan(db)
            db.execute(
                "INSERT INTO subscriptions (member_id, plan_id, status, period_start, period_end, created_at, "
                "updated_at) SELECT id, ?, 'active', ?, ?, ?, ? FROM members "
                "WHERE email LIKE 'member%@bench.test' AND id % 5 < 3",
                (plan, NEWEST, NEWEST + 10 * 365 * 86400, NEWEST, NEWEST))
    n = db.execute("SELECT count(*) FROM members").fetchone()[0]
    subs = db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] if columns(db, "subscriptions") else 0
    print(f"{n} members with a session each, {subs} subscriptions")
    db.close()


def ensure_plan(db):
    row = db.execute("SELECT id FROM plans WHERE code = 'bench-monthly'").fetchone()
    if row:
        return row[0]
    return db.execute("INSERT INTO plans (code, name, amount, currency, interval_months, created_at) "
                      "VALUES ('bench-monthly', 'Monthly', 900, 'EUR', 1, ?)", (NEWEST,)).lastrowid


def cmd_subscribe(path, email):
    db = sqlite3.connect(path)
    db.execute("PRAGMA busy_timeout = 10000")
    if not columns(db, "subscriptions"):
        print("subscribe: no subscriptions table yet")
        return
    with db:
        plan = ensure_plan(db)
        db.execute("INSERT OR REPLACE INTO subscriptions (member_id, plan_id, status, period_start, period_end, "
                   "created_at, updated_at) SELECT id, ?, 'active', ?, ?, ?, ? FROM members WHERE email = ?",
                   (plan, NEWEST, 4102444800, NEWEST, NEWEST, email))
    db.close()


def main(argv):
    if len(argv) == 5 and argv[1] == "articles":
        cmd_articles(int(argv[2]), int(argv[3]), argv[4])
    elif len(argv) == 4 and argv[1] == "members":
        cmd_members(argv[2], int(argv[3]))
    elif len(argv) == 4 and argv[1] == "subscribe":
        cmd_subscribe(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "slug":
        print(slug_of(int(argv[2])))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
