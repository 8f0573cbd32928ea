#!/usr/bin/env python3
"""Writes a realistic, seeded beneficiary import file for Rahat's import benchmark.

    generate-beneficiaries.py ROWS OUT.csv [--seed N]

Names, Nepali mobile numbers, national IDs, e-mail addresses, birth dates and
locations in plausible formats; about 2% of rows repeat an earlier row's phone
or national ID (duplicates the import must report) and about 1% are invalid in
one of several ways (bad phone, bad e-mail, impossible date, unknown gender,
missing name). The same seed always writes the same bytes, so a run can be
repeated and its COPY reference loads exactly the same rows.
"""
import argparse
import csv
import random
import sys

GIVEN = [
    "Aarati", "Anil", "Anita", "Bikash", "Bimala", "Deepak", "Gita", "Hari", "Kamala", "Krishna",
    "Laxmi", "Manish", "Maya", "Nabin", "Nirmala", "Prakash", "Rabin", "Radha", "Ram", "Rita",
    "Sabina", "Sagar", "Sarita", "Shyam", "Sita", "Sunil", "Sushila", "Tek", "Uma", "Yam",
    "Amina", "Fatima", "Hassan", "Ibrahim", "Joseph", "Grace", "Peter", "Mary", "Samuel", "Ruth",
]
FAMILY = [
    "Adhikari", "Bhandari", "Basnet", "Chaudhary", "Gurung", "Karki", "Khadka", "Lama", "Magar",
    "Maharjan", "Pandey", "Poudel", "Rai", "Shah", "Sharma", "Shrestha", "Tamang", "Thapa", "Yadav",
    "Okoth", "Mwangi", "Abdullahi", "Hakimi", "Begum", "Rahman",
]
DISTRICTS = [
    "Kathmandu", "Lalitpur", "Bhaktapur", "Kaski", "Chitwan", "Morang", "Sunsari", "Jhapa", "Rupandehi",
    "Banke", "Kailali", "Dhanusha", "Saptari", "Siraha", "Sindhupalchok", "Gorkha", "Dolakha", "Surkhet",
]
GENDERS = ["female", "female", "male", "male", "other", "unknown"]
BANKED = ["unknown", "unbanked", "banked", "under_banked"]
INTERNET = ["unknown", "no_internet", "home_internet", "mobile_internet"]
PHONES = ["unknown", "no_phone", "feature_phone", "smart_phone"]
HEADER = [
    "name", "phone", "gender", "national_id", "email", "birth_date", "location",
    "banked_status", "internet_status", "phone_status",
]


def valid_row(rng: random.Random, index: int) -> list[str]:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    # Unique by construction: the index picks the subscriber number (a bijection mod 10^8).
    phone = f"98{(index * 7919) % 100_000_000:08d}"
    if rng.random() < 0.3:
        phone = f"+977 {phone[:3]}-{phone[3:]}"
    national_id = f"{(index * 104_729) % 100:02d}-{(index * 7) % 100:02d}-{(index * 31) % 100:02d}-{index:06d}"
    email = f"{given.lower()}.{family.lower()}{index}@example.org" if rng.random() < 0.4 else ""
    birth = f"{rng.randint(1940, 2008)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    location = f"{rng.choice(DISTRICTS)}, Ward {rng.randint(1, 32)}"
    return [
        f"{given} {family}", phone, rng.choice(GENDERS), national_id, email, birth, location,
        rng.choice(BANKED), rng.choice(INTERNET), rng.choice(PHONES),
    ]


def invalid(rng: random.Random, row: list[str]) -> list[str]:
    row = list(row)
    kind = rng.randrange(5)
    if kind == 0:
        row[1] = "98-12"  # too short to be a phone number
    elif kind == 1:
        row[4] = "not-an-email"
    elif kind == 2:
        row[5] = "2001-02-30"
    elif kind == 3:
        row[2] = "mal"
    else:
        row[0] = ""
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    written: list[list[str]] = []
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for index in range(args.rows):
            roll = rng.random()
            if roll < 0.02 and written:
                # A duplicate: a new person record reusing an earlier row's phone or national ID.
                row = valid_row(rng, index + 1)
                earlier = rng.choice(written)
                column = 1 if rng.random() < 0.5 else 3
                row[column] = earlier[column]
            elif roll < 0.03:
                row = invalid(rng, valid_row(rng, index + 1))
            else:
                row = valid_row(rng, index + 1)
                if len(written) < 50_000:
                    written.append(row)
                elif rng.random() < 0.1:
                    written[rng.randrange(len(written))] = row
            writer.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
