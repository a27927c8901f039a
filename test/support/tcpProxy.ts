/**
 * A loopback TCP proxy in front of Postgres that tests can break like a
 * network does: `blackhole()` keeps connections open but stops moving bytes
 * (a silent partition, or a server that hangs), `reset()` destroys every
 * connection and refuses new ones (a partition with resets), `heal()` undoes both.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

/** A breakable proxy; `port` is where clients connect. */
export interface TcpProxy {
  port: number;
  blackhole(): void;
  reset(): void;
  heal(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to 127.0.0.1:`targetPort`. */
export function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let mode: 'open' | 'blackhole' | 'reset' = 'open';
  const server: Server = createServer((client) => {
    if (mode === 'reset') {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (to.write(chunk)) return;
        // Back-pressure: wait for this write to drain (one listener per full buffer, not per chunk).
        from.pause();
        to.once('drain', () => mode === 'open' && from.resume());
      });
    forward(client, upstream);
    forward(upstream, client);
    if (mode === 'blackhole') {
      client.pause();
      upstream.pause();
    }
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        blackhole() {
          mode = 'blackhole';
          for (const [a, b] of pairs) (a.pause(), b.pause());
        },
        reset() {
          mode = 'reset';
          for (const [a, b] of pairs) (a.destroy(), b.destroy());
          pairs.clear();
        },
        heal() {
          mode = 'open';
          for (const [a, b] of pairs) (a.resume(), b.resume());
        },
        close: () =>
          new Promise<void>((done) => {
            for (const [a, b] of pairs) (a.destroy(), b.destroy());
            server.close(() => done());
          }),
      });
    }),
  );
}
