// Network helpers shared by the suites that start servers of their own.
import net from 'node:net';

/**
 * Ports handed out by {@link freePort}: below Linux's ephemeral range (32768-60999 by default) and below the
 * fixed ports of scripts/services.mjs (21211 and up).
 */
const STABLE_PORTS = { from: 10_000, to: 20_000 } as const;
const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 (bound, then released: nothing listens on it once this resolves), outside the
 * kernel's ephemeral range. A port from that range (`listen(0)`) can be taken while its server is down by the
 * local end of any outgoing connection, or by a connection to itself (TCP simultaneous open) from a client
 * retrying it: a fault test's server then failed to start again on its own port (FerretDB exited with code
 * 1 in a CI run). No socket is ever given a port below the range unless it asks for it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = STABLE_PORTS.from + Math.floor(Math.random() * (STABLE_PORTS.to - STABLE_PORTS.from));
    // Never the same port twice in one process: a server handed one may not be listening yet.
    if (!handedOut.has(port) && (await canListen(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 in ${STABLE_PORTS.from}-${STABLE_PORTS.to - 1} after 500 tries`);
}

/** Whether a server could listen on 127.0.0.1:`port` now (it listens, then closes at once). */
export async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (gives up after 300 ms). */
export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(), 300);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
