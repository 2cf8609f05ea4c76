// Small TCP helpers shared by the backing services.
import net from "node:net";

/** A port the OS considers free right now (there is a small race until the caller binds it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function waitForPort(port: number, host: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortOpen(port, host, 250)) return;
    if (!isAlive()) throw new Error(`The process meant to listen on ${host}:${port} exited.`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Nothing listened on ${host}:${port} within ${timeoutMs} ms.`);
}

export interface HeldPort {
  /** The port held (the one the OS chose when asked for 0). */
  port: number;
  release(): Promise<void>;
}

/** Listens on host:port without serving, so nothing else can take the port until `release`. */
export function holdPort(port: number, host: string): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.unref();
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`Port ${port} on ${host} is already in use; stop what listens there or set PORT.`) : error),
    );
    server.listen(port, host, () => {
      const address = server.address();
      let released: Promise<void> | undefined;
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        release: () => (released ??= new Promise<void>((done) => server.close(() => done()))),
      });
    });
  });
}
