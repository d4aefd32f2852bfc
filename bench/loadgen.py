"""Load generators, run as separate processes by the harness: `python -m bench.loadgen …`.

`segment`: sends track calls with the real Segment Python SDK (batches of 100, N consumer threads)
and prints what it sent, what the SDK refused and how long sending and flushing took.
"""

import argparse
import datetime as dt
import json
import random
import sys
import threading
import time


def segment(args):
    from segment.analytics import Client

    errors = []
    lock = threading.Lock()

    def on_error(error, batch):
        with lock:
            errors.append((str(error)[:200], len(batch)))

    client = Client(
        # A short queue: a producer faster than the server waits for room instead of queueing
        # minutes of work, so the time bound below bounds the sending too.
        args.key, host=args.host, upload_size=100, thread=args.threads, max_queue_size=2000,
        on_error=on_error, max_retries=3, timeout=60,
    )
    rng = random.Random(args.seed)
    names = args.names.split("|")
    now = dt.datetime.now(dt.UTC)
    queued = refused = 0
    started = time.time()
    deadline = time.monotonic() + args.seconds
    for i in range(args.count):
        if i % 1000 == 0 and time.monotonic() > deadline:
            break
        account = rng.randrange(args.accounts)
        message = dict(
            user_id=f"u{account:06d}-{min(int(rng.expovariate(0.3)), 19)}",
            event=rng.choice(names),
            properties={"plan": "bench", "n": i},
            context={"groupId": f"acc-{account:06d}"},
            timestamp=now - dt.timedelta(seconds=rng.uniform(0, 3600)),
        )
        while True:
            ok, _msg = client.track(**message)
            if ok or time.monotonic() > deadline + 120:
                break
            time.sleep(0.01)  # queue full: wait for the consumers
        if ok:
            queued += 1
        else:
            refused += 1
    enqueued_at = time.time()
    client.flush()
    client.join()
    finished = time.time()
    print(json.dumps({
        "queued": queued, "refused": refused, "errors": errors, "failed_messages": sum(n for _e, n in errors),
        "started": started, "enqueued": enqueued_at, "finished": finished,
    }))


def main(argv=None):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="tool", required=True)
    seg = sub.add_parser("segment")
    seg.add_argument("--host", required=True)
    seg.add_argument("--key", required=True)
    seg.add_argument("--count", type=int, required=True)
    seg.add_argument("--seconds", type=float, required=True, help="stop queueing after this long")
    seg.add_argument("--threads", type=int, default=2)
    seg.add_argument("--accounts", type=int, required=True)
    seg.add_argument("--names", required=True)
    seg.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    segment(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
