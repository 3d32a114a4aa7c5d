"""The temperature pipeline's Lambda handler (anomaly_detection.py), timed on a Kinesis event file.

The comparison side of benches/stream_processor.rs (issue 7: stream-processor throughput
against a Python function written the way the temperature pipeline's is). The loop body is the original's,
record by record: base64-decode `kinesis.data`, decode UTF-8, `json.loads`, the rule, the
`m03p02_anomaly_data` item. What differs, and why:

- no boto3 calls (put_item, publish) and no `pprint` of every record: the benchmark compares
  decode + classify, not AWS or log latency (both omissions favour Python);
- the rule as intended (Cold below `lowest_temp`, Hot above `highest_temp`, the classification
  watchband makes) instead of the original's `<= 1.1 * lowest_temp` and its misspelt
  `highest_point` key, which raises KeyError on the first hot reading;
- a record that fails (bad JSON, no `value`, a string value) is counted instead of failing the
  whole batch, so both sides handle the same records to the end.

Two variants are timed: `as_written` keeps the original's per-record item building (a dict
for every record, round-tripped through json.dumps/json.loads with parse_float=Decimal, as it
does before put_item); `lean` builds the item only for an anomaly, Python's best case.

Usage: python3 seed003_handler.py EVENT.json [REPEATS]   (prints one JSON line)
The event is read and parsed before timing, as the Lambda runtime hands the handler a dict.
"""

import base64
import json
import sys
import time
from decimal import Decimal


def handler_as_written(event):
    counts = {"Hot": 0, "Cold": 0, "rejected": 0, "items": 0}
    for record in event["Records"]:
        try:
            data_point = base64.b64decode(record["kinesis"]["data"])
            data_point = str(data_point, "utf-8")
            data_point = json.loads(data_point)

            anomaly_type = {}

            if data_point["value"] < float(data_point["lowest_temp"]):
                anomaly_type = "Cold"
            elif data_point["value"] > float(data_point["highest_temp"]):
                anomaly_type = "Hot"

            anomaly_data = {
                "deviceid": data_point["deviceid"],
                "anomalyDate": data_point["date"],
                "timestamp": data_point["timestamp"],
                "value": data_point["value"],
                "anomalyType": anomaly_type,
            }

            anomaly_data = json.loads(json.dumps(anomaly_data), parse_float=Decimal)
        except (ValueError, KeyError, TypeError):
            counts["rejected"] += 1
            continue
        counts["items"] += 1
        if isinstance(anomaly_type, str):
            counts[anomaly_type] += 1
    return counts


def handler_lean(event):
    counts = {"Hot": 0, "Cold": 0, "rejected": 0, "items": 0}
    for record in event["Records"]:
        try:
            data_point = json.loads(base64.b64decode(record["kinesis"]["data"]))
            value = data_point["value"]
            if value < float(data_point["lowest_temp"]):
                anomaly_type = "Cold"
            elif value > float(data_point["highest_temp"]):
                anomaly_type = "Hot"
            else:
                continue
            item = {
                "deviceid": data_point["deviceid"],
                "anomalyDate": data_point["date"],
                "timestamp": data_point["timestamp"],
                "value": Decimal(str(value)),
                "anomalyType": anomaly_type,
            }
        except (ValueError, KeyError, TypeError):
            counts["rejected"] += 1
            continue
        counts["items"] += 1
        counts[item["anomalyType"]] += 1
    return counts


def best_rate(handler, event, repeats):
    n = len(event["Records"])
    best = float("inf")
    counts = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts = handler(event)
        best = min(best, time.perf_counter() - t0)
    return n / best, best, counts


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(path, "rb") as f:
        event = json.load(f)
    out = {"records": len(event["Records"]), "python": sys.version.split()[0]}
    for name, handler in (("as_written", handler_as_written), ("lean", handler_lean)):
        rate, seconds, counts = best_rate(handler, event, repeats)
        out[name] = {"records_per_sec": rate, "best_seconds": seconds, **counts}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
