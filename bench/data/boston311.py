#!/usr/bin/env python3
"""Writes a synthetic export in the layout of Boston's 311 service requests (the columns and the date format of the
city's open data), for `ombud import csv` tests and benchmarks: python3 boston311.py ROWS OUT.csv[.gz] [--bad N] [--recent DAYS].

The values are made up from fixed lists with a seeded generator, so a run gives the same file every time."""
import csv, gzip, random, sys
from datetime import datetime, timedelta

TYPES = ["Request for Pothole Repair", "Street Light Outages", "Missed Trash/Recycling/Yard Waste/Bulk Item",
         "Parking Enforcement", "Requests for Street Cleaning", "Improper Storage of Trash (Barrels)", "Sidewalk Repair",
         "Graffiti Removal", "Abandoned Vehicles", "Unsatisfactory Living Conditions", "Tree Maintenance Requests",
         "Sign Repair", "Rodent Activity", "Heat - Excessive  Insufficient", "Pick up Dead Animal", "Needle Pickup",
         "Schedule a Bulk Item Pickup", "Traffic Signal Inspection", "Snow Removal", "Illegal Dumping"]
DEPARTMENTS = ["PWDx", "BTDT", "ISD", "PARK", "PROP", "BWSC", "INFO", "DND", "ANML", "BPS"]
SOURCES = ["Citizens Connect App", "Constituent Call", "Self Service", "Employee Generated", "Twitter", "City Worker App"]
HOODS = ["Dorchester", "Roxbury", "South Boston", "Jamaica Plain", "Allston / Brighton", "Back Bay", "East Boston",
         "Charlestown", "Downtown / Financial District", "Hyde Park", "Mattapan", "Roslindale", "West Roxbury",
         "South End", "Fenway / Kenmore / Audubon Circle / Longwood", "Beacon Hill", "Mission Hill", ""]
HEADER = ["CASE_ENQUIRY_ID", "OPEN_DT", "TARGET_DT", "CLOSED_DT", "OnTime", "CASE_STATUS", "CLOSURE_REASON", "CASE_TITLE",
          "SUBJECT", "REASON", "TYPE", "QUEUE", "Department", "SubmittedPhoto", "ClosedPhoto", "Location", "Fire_district",
          "pwd_district", "city_council_district", "police_district", "neighborhood", "neighborhood_services_district",
          "ward", "precinct", "LOCATION_STREET_NAME", "LOCATION_ZIPCODE", "LATITUDE", "LONGITUDE", "Source"]
FMT = "%m/%d/%Y %I:%M:%S %p"


def rows(count, bad, seed=311, start=datetime(2015, 1, 1), years=4, first_id=101000000000):
    rng = random.Random(seed)
    span = int(years * 365 * 86400)
    bad_lines = set(rng.sample(range(count), bad)) if bad else set()
    # Case ids grow with time, as in the city's export: the file is in the order cases were opened.
    moments = sorted(rng.randrange(span) for _ in range(count))
    for n in range(count):
        opened = start + timedelta(seconds=moments[n])
        target = opened + timedelta(days=rng.choice([1, 2, 3, 5, 7, 14, 30]))
        closed = rng.random() < 0.85
        closed_at = opened + timedelta(hours=rng.expovariate(1 / 96)) if closed else None
        kind = rng.choice(TYPES)
        street = f"{rng.randrange(1, 400)} {rng.choice(['Washington', 'Dorchester', 'Blue Hill', 'Centre', 'Tremont'])} St"
        row = [str(first_id + n), opened.strftime(FMT), target.strftime(FMT) if rng.random() < 0.9 else "",
               closed_at.strftime(FMT) if closed_at else "", "ONTIME", "Closed" if closed else "Open",
               "Case Resolved" if closed else "", kind, "Public Works Department", "Highway Maintenance", kind,
               "PWDx_District 1C: North Dorchester", rng.choice(DEPARTMENTS), "", "", f"INTERSECTION of {street}", "7", "1C",
               "3", "C11", rng.choice(HOODS), "13", "Ward 13", "1309", street, "02125",
               f"{42.23 + rng.random() * 0.17:.5f}", f"{-71.18 + rng.random() * 0.19:.5f}", rng.choice(SOURCES)]
        if n in bad_lines:
            row[1] = "not a date"
        yield row


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    bad = int(sys.argv[sys.argv.index("--bad") + 1]) if "--bad" in sys.argv else 0
    # --recent DAYS: appeals of the last DAYS days (for demos), instead of four years from 2015.
    recent = int(sys.argv[sys.argv.index("--recent") + 1]) if "--recent" in sys.argv else None
    window = {"start": datetime.now() - timedelta(days=recent), "years": recent / 365, "first_id": 102000000000} if recent else {}
    opener = gzip.open if out.endswith(".gz") else open
    with opener(out, "wt", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(count, bad, **window))


if __name__ == "__main__":
    main()
