"""Real Open311 clients, unmodified, against a running Gongzhi: georeport 0.3.1 (JSON and XML
reads) and civicbot 0.4.0 (JSON reads and a form POST).

Usage: python clients.py BASE_URL API_KEY LAT LONG SERVICE_CODE
Prints one line per check and exits non-zero on the first failure.
"""
import sys
from datetime import datetime, timedelta, timezone

from georeport import GeoReport
from civicbot.open311 import Open311Client
from civicbot.registry import Endpoint


def check(what, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
    if not ok:
        sys.exit(1)


def main():
    base, api_key, lat, lng, code = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    root = f"{base}/open311/v2"
    jurisdiction = "qth.gov.cn"

    # georeport, both formats: the service list and a definition.
    gj = GeoReport(root, jurisdiction=jurisdiction, output_format="json")
    gx = GeoReport(root, jurisdiction=jurisdiction, output_format="xml")
    services = gj.get_service_list()
    check("georeport json services", isinstance(services, list) and any(s["service_code"] == code for s in services))
    services_x = gx.get_service_list()
    check("georeport xml services", any(s["service_code"] == code for s in services_x), str(services_x)[:200])
    definition = gj.get_service_definition(code)
    check("georeport json definition", definition["service_code"] == code and definition["attributes"] == [])
    definition_x = gx.get_service_definition(code)
    check("georeport xml definition", definition_x["service_code"] == code, str(definition_x))

    # civicbot: list, read the definition, validate against the live schema and POST for real.
    client = Open311Client(Endpoint(id="gongzhi", name="Gongzhi", base_url=root, write=True),
                           jurisdiction_id=jurisdiction)
    check("civicbot services", any(str(s["service_code"]) == code for s in client.list_services()))
    check("civicbot definition", client.get_service_definition(code)["service_code"] == code)
    sent = client.create_request(
        code, dry_run=False, confirm="SEND", api_key=api_key, validate_remote=True,
        lat=lat, lng=lng, description="学府小区3号楼旁有人私搭彩钢房（civicbot）",
        email="resident@example.cn", first_name="三", last_name="张", phone="13800000000",
        attributes={"fixmystreet_id": "77", "kinds": ["steel", "brick"]},
    )
    response = sent.response
    check("civicbot post answers a list of one", isinstance(response, list) and len(response) == 1, str(response))
    number = response[0]["service_request_id"]
    check("civicbot post gives a 13-digit case number", len(number) == 13 and number.isdigit(), number)

    # Read it back with both clients and both formats.
    one = client.get_request(number)
    check("civicbot get_request", one["service_request_id"] == number and one["status"] == "open", str(one))
    one_j = gj.get_service_request(number)
    check("georeport json get_service_request", one_j["service_code"] == code and one_j["status"] == "open")
    one_x = gx.get_service_request(number)
    check("georeport xml get_service_request", one_x["service_request_id"] == number, str(one_x))
    check("no contact details published", "resident@example.cn" not in str(one_j))

    # List with filters.
    now = datetime.now(timezone.utc)
    start = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = gj.get_service_requests(service_code=code, start_date=start, end_date=end, status="open")
    check("georeport json list with filters", any(r["service_request_id"] == number for r in listed))
    listed_x = gx.get_service_requests(service_code=code, start_date=start, end_date=end, status="open")
    if isinstance(listed_x, dict):  # xmltodict gives a dict for a single <request>
        listed_x = [listed_x]
    check("georeport xml list with filters", any(r["service_request_id"] == number for r in listed_x))
    closed = gj.get_service_requests(service_code=code, status="closed")
    check("georeport json status=closed leaves it out", all(r["service_request_id"] != number for r in closed))
    by_id = gj.get_service_requests(service_request_id=number)
    check("georeport service_request_id", [r["service_request_id"] for r in by_id] == [number])
    paged = client.list_requests(service_code=code, status="open", start_date=start, end_date=end,
                                 service_request_ids=[number], page_size=10)
    check("civicbot list_requests", [r["service_request_id"] for r in paged] == [number], str(paged)[:200])
    print(f"all checks passed for {number}")


if __name__ == "__main__":
    main()
