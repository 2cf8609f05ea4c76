import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Settings } from "../../../functions/platform/settings.js";
import { createSmsSender } from "../../../functions/platform/sms-sender.js";

// The real SDK against a local server that misbehaves: the delivery queue owns retries, so one send is one
// request, and a send that hangs gives up well within the lease.
let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  server = createServer((req, res) => {
    count++;
    handler!(req, res);
  });
  await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => count };
}

const settingsFor = (endpoint: string, leaseSeconds: number) =>
  ({ SmsAcs: `endpoint=${endpoint};accesskey=${Buffer.from("k".repeat(32)).toString("base64")}`, SMS_FROM: "+34600000000", EMAIL_LEASE_S: leaseSeconds }) as unknown as Settings;

describe("SMS sender", () => {
  it("makes one request per send: no SDK retries behind the queue's back", async () => {
    const { url, requests } = await serve((_req, res) => res.writeHead(503).end());
    const sender = createSmsSender(settingsFor(url, 120))!;
    await expect(sender.send("+34612345678", "hi")).rejects.toThrow();
    expect(requests()).toBe(1);
  });

  it("gives up on a send that hangs, well within the lease", async () => {
    const { url } = await serve(() => undefined);
    const sender = createSmsSender(settingsFor(url, 4))!;
    const started = Date.now();
    await expect(sender.send("+34612345678", "hi")).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_500);
  }, 10_000);
});
