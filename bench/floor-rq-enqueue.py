"""The floor of the fire path on RQ's side: N jobs enqueued by RQ 1.13's own
Queue.enqueue_many with one pipeline (what a Python enqueuer at its fastest costs
Redis). Run by bench/scenario-floor.ts with /usr/bin/python3 (the interpreter that has
rq); prints JSON: seconds spent building the jobs in Python and in pipe.execute()."""
import json
import sys
import time

from redis import Redis
from rq import Queue

url, count, queues, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(','), sys.argv[4]
conn = Redis.from_url(url)
by_queue = {q: [] for q in queues}
for i in range(count):
    q = queues[i % len(queues)]
    by_queue[q].append(
        Queue.prepare_data(
            'bench.tasks.noop',
            args=(i,),
            kwargs={'schedule': f'{prefix}-{i}'},
            timeout=180,
            description=f'{prefix} {i}',
            job_id=f'{prefix}-{i}',
            meta={'pyrq_schedule': f'{prefix}-{i}'},
        )
    )
t0 = time.perf_counter()
pipe = conn.pipeline(transaction=False)
for q, datas in by_queue.items():
    Queue(q, connection=conn).enqueue_many(datas, pipeline=pipe)
t1 = time.perf_counter()
pipe.execute()
t2 = time.perf_counter()
print(json.dumps({'buildS': t1 - t0, 'executeS': t2 - t1}))
