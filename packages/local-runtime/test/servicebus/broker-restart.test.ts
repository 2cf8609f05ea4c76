// An SDK receiver outlives a broker restart, and the trigger host paces its reconnects as the Functions host does.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { RetryMode, ServiceBusClient } from "@azure/service-bus";
import { afterAll, expect, it } from "vitest";
import { startServiceBusBroker, type ServiceBusBrokerHandle } from "../../src/servicebus/broker.js";
import { clientRetryOptions } from "../../src/servicebus/trigger.js";
import { freePort } from "../../src/services/ports.js";

const dir = mkdtempSync(path.join(tmpdir(), "broker-restart-"));
const entities = { queues: [{ name: "work" }] };
let broker: ServiceBusBrokerHandle | undefined;
afterAll(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it("closes connections as Service Bus does when it drops them, so a subscribed receiver comes back by itself", async () => {
  const port = await freePort();
  broker = await startServiceBusBroker({ port, entities, dataDir: dir });
  const client = new ServiceBusClient(broker.connectionString, { retryOptions: clientRetryOptions({}) });
  const received: string[] = [];
  const errors: string[] = [];
  const receiver = client.createReceiver("work");
  receiver.subscribe({
    processMessage: async (m) => {
      received.push(String(m.body));
    },
    processError: async (args) => {
      errors.push(args.error.message);
    },
  });
  const send = async (body: string) => {
    const sender = new ServiceBusClient(broker?.connectionString as string);
    await sender.createSender("work").sendMessages({ body });
    await sender.close();
  };
  const until = async (what: string, check: () => boolean) => {
    for (const deadline = Date.now() + 15_000; !check(); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  };
  try {
    await send("before");
    await until("the first message", () => received.includes("before"));
    await broker.stop();
    // The receiver noticed the broker leaving and is trying again (refused meanwhile).
    await until("the receiver to notice", () => errors.length > 0);
    broker = await startServiceBusBroker({ port, entities, dataDir: dir });
    await send("after");
    await until("a message sent after the restart", () => received.includes("after"));
  } finally {
    await receiver.close();
    await client.close();
  }
});

it("reads host.json clientRetryOptions, with the extension defaults where they are absent", () => {
  expect(clientRetryOptions({})).toEqual({ mode: RetryMode.Exponential, retryDelayInMs: 800, maxRetryDelayInMs: 60_000, maxRetries: 3, timeoutInMs: 60_000 });
  expect(clientRetryOptions({ mode: "fixed", delay: "00:00:02", maxDelay: "PT30S", maxRetries: 5, tryTimeout: "00:00:10" })).toEqual({
    mode: RetryMode.Fixed,
    retryDelayInMs: 2_000,
    maxRetryDelayInMs: 30_000,
    maxRetries: 5,
    timeoutInMs: 10_000,
  });
});
