// Network helpers shared by the suites that start servers of their own.
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (bound, then released: nothing listens on it once this resolves). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
