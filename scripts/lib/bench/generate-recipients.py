#!/usr/bin/env python3
"""Writes a seeded beneficiary import file in which every row is valid and passes KYC.

    generate-recipients.py ROWS OUT.csv [--seed N]

For the disbursement benchmark, which needs exactly ROWS enrolled, verified people. The rows are
those of generate-beneficiaries.py (same columns, names, Nepali mobile numbers, national IDs,
e-mail addresses, districts), without its duplicates and invalid rows, and with every
(name, birth date) pair unique, so the KYC rules (required fields, phone country, duplicate phone
or national ID, likely duplicate by name and birth date) verify every row. The same seed always
writes the same bytes.
"""
import argparse
import csv
import datetime
import importlib.util
import pathlib
import random
import sys

_spec = importlib.util.spec_from_file_location(
    "generate_beneficiaries", pathlib.Path(__file__).with_name("generate-beneficiaries.py"))
assert _spec is not None and _spec.loader is not None
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)

NAMES = [f"{given} {family}" for given in _base.GIVEN for family in _base.FAMILY]
FIRST_BIRTH = datetime.date(1940, 1, 1)
BIRTH_DAYS = (datetime.date(2008, 12, 31) - FIRST_BIRTH).days + 1
# A step coprime with BIRTH_DAYS: consecutive name cycles land on dates spread over the range.
BIRTH_STEP = 7_919


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    # Unique (name, birth date) pairs: the index picks the name (mod len(NAMES)) and the cycle
    # through the names picks the date, a bijection while the cycles stay under BIRTH_DAYS.
    if args.rows > len(NAMES) * BIRTH_DAYS:
        parser.error(f"at most {len(NAMES) * BIRTH_DAYS} rows")
    # National IDs and phones stay unique at any size here: each ends in, or is a bijection of,
    # the row's index.
    rng = random.Random(args.seed)
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_base.HEADER)
        for index in range(args.rows):
            row = _base.valid_row(rng, index + 1)
            row[0] = NAMES[index % len(NAMES)]
            cycle = index // len(NAMES)
            row[5] = (FIRST_BIRTH + datetime.timedelta(days=(cycle * BIRTH_STEP) % BIRTH_DAYS)).isoformat()
            writer.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
