// serviceBusTrigger functions through the built runtime (dist/cli.js) against its own broker.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFixture, freePort, startRuntime, waitUntil, type RunningRuntime } from "../runtime-harness.js";

let appRoot: string;
let runtime: RunningRuntime;
let client: ServiceBusClient;
let connectionString: string;

function records(file: string): Record<string, unknown>[] {
  const full = path.join(appRoot, "records", file);
  if (!existsSync(full)) return [];
  return readFileSync(full, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeAll(async () => {
  appRoot = copyFixture("servicebus-app");
  const port = await freePort();
  connectionString = `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  runtime = await startRuntime({ appRoot, env: { ServiceBusConnection: connectionString } });
  client = new ServiceBusClient(connectionString);
});

afterAll(async () => {
  await client?.close();
  await runtime?.stop();
});

describe("serviceBusTrigger in the local runtime", () => {
  it("starts the broker from the settings and lists the triggers", () => {
    expect(runtime.output()).toMatch(/Service Bus broker started: amqp:\/\/127\.0\.0\.1:\d+ \(ServiceBusConnection; entities from servicebus-entities\.json\)/);
    expect(runtime.output()).toMatch(/recorder: serviceBusTrigger \(app-events\/recorder\)/);
    expect(runtime.output()).toMatch(/poisoned: serviceBusTrigger \(poison\)/);
  });

  it("delivers the body and the trigger metadata, and completes the message", async () => {
    const sender = client.createSender("app-events");
    await sender.sendMessages({
      body: { kind: "hello", n: 1 },
      subject: "greeting",
      messageId: "msg-1",
      correlationId: "corr-1",
      contentType: "application/json",
      applicationProperties: { tenant: "acme" },
    });
    await sender.sendMessages({ body: "plain text", subject: "greeting", messageId: "msg-2" });
    await sender.sendMessages({ body: "filtered out", subject: "other", messageId: "msg-3" });
    await sender.close();
    await waitUntil(() => records("recorder.jsonl").length >= 2, 10_000);
    const [first, second] = records("recorder.jsonl") as { message: unknown; triggerMetadata: Record<string, unknown> }[];
    expect(first!.message).toEqual({ kind: "hello", n: 1 });
    expect(first!.triggerMetadata).toMatchObject({
      messageId: "msg-1",
      correlationId: "corr-1",
      contentType: "application/json",
      subject: "greeting",
      label: "greeting",
      deliveryCount: 1,
      applicationProperties: { tenant: "acme" },
      userProperties: { tenant: "acme" },
    });
    expect(typeof first!.triggerMetadata.sequenceNumber).toBe("number");
    for (const key of ["enqueuedTimeUtc", "lockedUntilUtc", "expiresAtUtc"]) expect(Date.parse(String(first!.triggerMetadata[key]))).not.toBeNaN();
    expect(second!.message).toBe("plain text");
    // Completed: nothing is left on the subscription.
    await waitUntil(async () => (await client.createReceiver("app-events", "recorder").peekMessages(5)).length === 0, 5000);
    expect(records("recorder.jsonl")).toHaveLength(2);
  });

  it("retries a throwing handler and dead-letters the message at maxDeliveryCount", async () => {
    await client.createSender("poison").sendMessages({ body: "bad input", messageId: "poison-1" });
    const dlq = client.createReceiver("poison", { subQueueType: "deadLetter" });
    let dead: Awaited<ReturnType<typeof dlq.receiveMessages>> = [];
    await waitUntil(async () => {
      dead = await dlq.receiveMessages(1, { maxWaitTimeInMs: 200 });
      return dead.length > 0;
    }, 15_000);
    expect(dead[0]).toMatchObject({ body: "bad input", deadLetterReason: "MaxDeliveryCountExceeded" });
    await dlq.completeMessage(dead[0]!);
    expect(records("poison.jsonl").map((r) => r.deliveryCount)).toEqual([1, 2, 3]);
    expect(runtime.output()).toMatch(/Executed 'Functions\.poisoned' \(Failed/);
  });

  it("respects maxConcurrentCalls from host.json", async () => {
    await client.createSender("slow").sendMessages(Array.from({ length: 6 }, (_, i) => ({ body: i })));
    await waitUntil(() => records("slow.jsonl").length >= 6, 10_000);
    const rows = records("slow.jsonl");
    expect(Math.max(...rows.map((r) => Number(r.running)))).toBe(2);
  });
});
