import net from 'node:net';

/**
 * A TCP proxy in front of a Redis server that lets a daemon's commands through one whole
 * command at a time (RESP arrays of bulk strings, as ioredis sends them) until the first
 * `apply-changes` batch has gone through; from then on it holds everything the daemon
 * sends. Replies flow back freely. A daemon killed once `gated` resolves has therefore
 * applied exactly its first batch, whatever the machine's load: "killed mid-apply" by
 * construction, not by racing a kill against pipelined batches already inside Redis.
 */
export interface ApplyGate {
  url: string;
  /** Resolves once the first apply batch has been passed to Redis. */
  gated: Promise<void>;
  close(): Promise<void>;
}

/** The apply script's call: EVAL/EVALSHA whose first two keys are the index and the fire set. */
const isApplyBatch = (args: string[]) =>
  /^eval(sha)?$/i.test(args[0] ?? '') && args[3]?.endsWith('index') === true && args[4]?.endsWith('next') === true;

/** The end of the first complete command in `buf` from `at` (and its first five arguments), or null. */
function nextCommand(buf: Buffer, at: number): { end: number; head: string[] } | null {
  if (buf[at] !== 0x2a) throw new Error(`apply-gate: not a RESP array at byte ${at}`);
  let nl = buf.indexOf('\r\n', at);
  if (nl < 0) return null;
  const n = Number(buf.toString('latin1', at + 1, nl));
  let p = nl + 2;
  const head: string[] = [];
  for (let i = 0; i < n; i++) {
    if (p >= buf.length) return null;
    nl = buf.indexOf('\r\n', p);
    if (nl < 0) return null;
    const len = Number(buf.toString('latin1', p + 1, nl));
    const start = nl + 2;
    if (start + len + 2 > buf.length) return null;
    if (i < 5) head.push(buf.toString('utf8', start, start + len));
    p = start + len + 2;
  }
  return { end: p, head };
}

export async function applyGate(redisPort: number): Promise<ApplyGate> {
  let gated = false;
  let open!: () => void;
  const gatedP = new Promise<void>((r) => (open = r));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (!gated && at < pending.length) {
        const cmd = nextCommand(pending, at);
        if (!cmd) break;
        upstream.write(pending.subarray(at, cmd.end));
        at = cmd.end;
        if (isApplyBatch(cmd.head)) {
          gated = true;
          open();
        }
      }
      pending = pending.subarray(at);
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    gated: gatedP,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
