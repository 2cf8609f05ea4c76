// The local Service Bus broker, driven only through the public @azure/service-bus API.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServiceBusBroker, type ServiceBusBrokerHandle } from "../../src/servicebus/broker.js";
import type { EntityDeclarations } from "../../src/servicebus/entities.js";

const entities: EntityDeclarations = {
  queues: [
    { name: "basic" },
    { name: "abandon", maxDeliveryCount: 3 },
    { name: "explicit-dlq" },
    { name: "deferral" },
    { name: "peeking" },
    { name: "renewal", lockDuration: "PT2S" },
    { name: "short-lock", lockDuration: "PT1S", maxDeliveryCount: 5 },
    { name: "delete-mode" },
    { name: "scheduled" },
    { name: "dedup", requiresDuplicateDetection: true, duplicateDetectionHistoryTimeWindow: "PT1M" },
    { name: "expiring", deadLetteringOnMessageExpiration: true },
    { name: "batches" },
    { name: "released", maxDeliveryCount: 10 },
  ],
  topics: [
    {
      name: "events",
      requiresDuplicateDetection: true,
      subscriptions: [
        { name: "by-subject", rules: [{ name: "orders", correlation: { subject: "order.created" } }] },
        { name: "by-property", rules: [{ name: "eu", correlation: { properties: { region: "eu" } } }] },
        { name: "everything", rules: [{ name: "$Default", true: true }] },
        { name: "no-rules" },
      ],
    },
  ],
};

let broker: ServiceBusBrokerHandle;
let client: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusBroker({ port: 0, entities, dataDir: "memory" });
  client = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

async function receiveAll(entity: string, count: number, opts: { subQueueType?: "deadLetter"; receiveMode?: "peekLock" | "receiveAndDelete"; waitMs?: number } = {}): Promise<ServiceBusReceivedMessage[]> {
  const receiver = opts.subQueueType || opts.receiveMode ? client.createReceiver(entity, { subQueueType: opts.subQueueType, receiveMode: opts.receiveMode }) : client.createReceiver(entity);
  try {
    const out: ServiceBusReceivedMessage[] = [];
    const deadline = Date.now() + (opts.waitMs ?? 3000);
    while (out.length < count && Date.now() < deadline) {
      out.push(...(await receiver.receiveMessages(count - out.length, { maxWaitTimeInMs: 500 })));
    }
    if (opts.receiveMode !== "receiveAndDelete") for (const m of out) await receiver.completeMessage(m);
    return out;
  } finally {
    await receiver.close();
  }
}

describe("local Service Bus broker", () => {
  it("sends, receives and completes, with the properties and annotations the SDK reads", async () => {
    const sender = client.createSender("basic");
    await sender.sendMessages({
      body: { hello: "world" },
      messageId: "m-1",
      subject: "greeting",
      correlationId: "c-1",
      contentType: "application/json",
      applicationProperties: { tenant: "t1", n: 5 },
    });
    await sender.close();
    const receiver = client.createReceiver("basic");
    const [msg] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(msg).toBeDefined();
    const m = msg as ServiceBusReceivedMessage;
    expect(m.body).toEqual({ hello: "world" });
    expect(m).toMatchObject({ messageId: "m-1", subject: "greeting", correlationId: "c-1", contentType: "application/json", deliveryCount: 0 });
    expect(m.applicationProperties).toEqual({ tenant: "t1", n: 5 });
    expect(m.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number(m.sequenceNumber)).toBeGreaterThan(0);
    expect(m.enqueuedTimeUtc).toBeInstanceOf(Date);
    expect(m.lockedUntilUtc!.getTime() - m.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(59_000);
    await receiver.completeMessage(m);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    await receiver.close();
  });

  it("redelivers an abandoned message with deliveryCount + 1 and dead-letters it at maxDeliveryCount", async () => {
    await client.createSender("abandon").sendMessages({ body: "poison", messageId: "p-1" });
    const receiver = client.createReceiver("abandon");
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
      counts.push(m!.deliveryCount!);
      await receiver.abandonMessage(m!);
    }
    expect(counts).toEqual([0, 1, 2]);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    await receiver.close();
    const [dead] = await receiveAll("abandon", 1, { subQueueType: "deadLetter" });
    expect(dead).toMatchObject({ body: "poison", messageId: "p-1", deadLetterReason: "MaxDeliveryCountExceeded" });
    expect(dead!.deadLetterErrorDescription).toContain("3 delivery attempts");
  });

  it("redelivers released messages in sequence order, ahead of later ones", async () => {
    // A released message behind later ones is merged back in by sequence number (not by re-sorting the backlog).
    const sender = client.createSender("released");
    await sender.sendMessages([1, 2, 3].map((n) => ({ body: n, messageId: `r-${n}` })));
    const receiver = client.createReceiver("released");
    const first: ServiceBusReceivedMessage[] = [];
    while (first.length < 3) first.push(...(await receiver.receiveMessages(3 - first.length, { maxWaitTimeInMs: 2000 })));
    expect(first.map((m) => m.body)).toEqual([1, 2, 3]);
    await receiver.abandonMessage(first[2]!);
    await receiver.abandonMessage(first[0]!);
    await receiver.completeMessage(first[1]!);
    await sender.sendMessages([4, 5].map((n) => ({ body: n, messageId: `r-${n}` })));
    const rest: ServiceBusReceivedMessage[] = [];
    while (rest.length < 4) rest.push(...(await receiver.receiveMessages(4 - rest.length, { maxWaitTimeInMs: 2000 })));
    expect(rest.map((m) => m.body)).toEqual([1, 3, 4, 5]);
    for (const m of rest) await receiver.completeMessage(m);
    await receiver.close();
    await sender.close();
  });

  it("dead-letters explicitly with a reason and description", async () => {
    await client.createSender("explicit-dlq").sendMessages({ body: "bad", applicationProperties: { a: 1 } });
    const receiver = client.createReceiver("explicit-dlq");
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deadLetterMessage(m!, { deadLetterReason: "Validation", deadLetterErrorDescription: "field x missing" });
    await receiver.close();
    const dlq = client.createReceiver("explicit-dlq/$deadletterqueue");
    const [dead] = await dlq.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(dead).toMatchObject({ body: "bad", deadLetterReason: "Validation", deadLetterErrorDescription: "field x missing" });
    expect(dead!.applicationProperties).toMatchObject({ a: 1 });
    await dlq.completeMessage(dead!);
    await dlq.close();
  });

  it("defers a message and receives it by sequence number", async () => {
    await client.createSender("deferral").sendMessages({ body: "later" });
    const receiver = client.createReceiver("deferral");
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await receiver.deferMessage(m!);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    const [peeked] = await receiver.peekMessages(1);
    expect(peeked!.state).toBe("deferred");
    const [deferred] = await receiver.receiveDeferredMessages([m!.sequenceNumber!]);
    expect(deferred).toMatchObject({ body: "later", deliveryCount: 1 });
    expect(deferred!.lockToken).toBeTruthy();
    await receiver.completeMessage(deferred!);
    await expect(receiver.receiveDeferredMessages([m!.sequenceNumber!])).rejects.toThrow();
    await receiver.close();
  });

  it("peeks without locking, from the next sequence number on", async () => {
    await client.createSender("peeking").sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const receiver = client.createReceiver("peeking");
    const first = await receiver.peekMessages(2);
    const next = await receiver.peekMessages(5);
    expect(first.map((m) => m.body)).toEqual([1, 2]);
    expect(next.map((m) => m.body)).toEqual([3]);
    expect(first[0]!.lockToken).toBeUndefined();
    const received = await receiveAll("peeking", 3);
    expect(received.map((m) => m.body)).toEqual([1, 2, 3]);
    await receiver.close();
  });

  it("renews a message lock", async () => {
    await client.createSender("renewal").sendMessages({ body: "slow" });
    const receiver = client.createReceiver("renewal", { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    const before = m!.lockedUntilUtc!.getTime();
    await new Promise((r) => setTimeout(r, 1500));
    const renewed = await receiver.renewMessageLock(m!);
    expect(renewed.getTime()).toBeGreaterThan(before + 1000);
    await new Promise((r) => setTimeout(r, 1000)); // past the original lock
    await receiver.completeMessage(m!);
    await receiver.close();
  });

  it("redelivers when the lock expires, and refuses the stale lock", async () => {
    await client.createSender("short-lock").sendMessages({ body: "expire me" });
    const receiver = client.createReceiver("short-lock", { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    await new Promise((r) => setTimeout(r, 1300));
    const [again] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(again).toMatchObject({ body: "expire me", deliveryCount: 1 });
    await expect(receiver.completeMessage(m!)).rejects.toMatchObject({ code: "MessageLockLost" });
    await receiver.completeMessage(again!);
    await receiver.close();
  });

  it("receives and deletes", async () => {
    await client.createSender("delete-mode").sendMessages([{ body: "a" }, { body: "b" }]);
    const got = await receiveAll("delete-mode", 2, { receiveMode: "receiveAndDelete" });
    expect(got.map((m) => m.body)).toEqual(["a", "b"]);
    expect(got[0]!.lockToken).toBeUndefined();
    expect(await client.createReceiver("delete-mode").peekMessages(5)).toHaveLength(0);
  });

  it("schedules messages and cancels a scheduled one", async () => {
    const sender = client.createSender("scheduled");
    const at = new Date(Date.now() + 1000);
    const [keep, cancel] = await sender.scheduleMessages([{ body: "keep" }, { body: "cancel" }], at);
    expect(Number(cancel)).toBeGreaterThan(Number(keep));
    await sender.cancelScheduledMessages([cancel!]);
    const receiver = client.createReceiver("scheduled");
    const [peeked] = await receiver.peekMessages(5);
    expect(peeked).toMatchObject({ body: "keep", state: "scheduled" });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toHaveLength(0);
    const got = await receiveAll("scheduled", 1, { waitMs: 2500 });
    expect(got.map((m) => m.body)).toEqual(["keep"]);
    expect(got[0]!.enqueuedTimeUtc!.getTime()).toBeGreaterThanOrEqual(at.getTime() - 5);
    await receiver.close();
    await sender.close();
  });

  it("detects duplicates by messageId within the window", async () => {
    const sender = client.createSender("dedup");
    await sender.sendMessages({ body: "one", messageId: "same" });
    await sender.sendMessages({ body: "two", messageId: "same" });
    await sender.sendMessages({ body: "three", messageId: "other" });
    const got = await receiveAll("dedup", 2);
    expect(got.map((m) => m.body)).toEqual(["one", "three"]);
    expect(await client.createReceiver("dedup").peekMessages(5)).toHaveLength(0);
  });

  it("dead-letters an expired message where deadLetteringOnMessageExpiration", async () => {
    await client.createSender("expiring").sendMessages({ body: "stale", timeToLive: 300 });
    await new Promise((r) => setTimeout(r, 500));
    expect(await receiveAll("expiring", 1, { waitMs: 500 })).toHaveLength(0);
    const [dead] = await receiveAll("expiring", 1, { subQueueType: "deadLetter" });
    expect(dead).toMatchObject({ body: "stale", deadLetterReason: "TTLExpiredException" });
  });

  it("fans topic messages out by correlation filters and $Default", async () => {
    const sender = client.createSender("events");
    await sender.sendMessages([
      { body: "o", subject: "order.created", messageId: "e1" },
      { body: "eu", subject: "user.created", applicationProperties: { region: "eu" }, messageId: "e2" },
      { body: "us", subject: "user.created", applicationProperties: { region: "us" }, messageId: "e3" },
    ]);
    await sender.sendMessages({ body: "o", subject: "order.created", messageId: "e1" }); // duplicate at the topic
    const body = async (sub: string, n: number): Promise<unknown[]> => (await receiveAll(`events/Subscriptions/${sub}`, n, { waitMs: 1500 })).map((m) => m.body);
    expect(await body("by-subject", 1)).toEqual(["o"]);
    expect(await body("by-property", 1)).toEqual(["eu"]);
    expect(await body("everything", 3)).toEqual(["o", "eu", "us"]);
    expect(await body("no-rules", 3)).toEqual(["o", "eu", "us"]);
    // Nothing more arrived anywhere (the duplicate was dropped, the filters held).
    const rest = await Promise.all(["by-subject", "by-property", "everything", "no-rules"].map((s) => client.createReceiver("events", s).peekMessages(5)));
    expect(rest.flat()).toHaveLength(0);
    const viaApi = client.createReceiver("events", "by-subject");
    await sender.sendMessages({ body: "o2", subject: "order.created" });
    const [m] = await viaApi.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    expect(m!.body).toBe("o2");
    await viaApi.completeMessage(m!);
    await viaApi.close();
    await sender.close();
  });

  it("accepts batches from createMessageBatch, one message per data section", async () => {
    const sender = client.createSender("batches");
    const batch = await sender.createMessageBatch();
    for (let i = 0; i < 5; i++) expect(batch.tryAddMessage({ body: { i }, applicationProperties: { i } })).toBe(true);
    await sender.sendMessages(batch);
    await sender.close();
    const got = await receiveAll("batches", 5);
    expect(got.map((m) => m.body)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(got.map((m) => m.applicationProperties?.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it("refuses unknown entities", async () => {
    await expect(client.createSender("nope").sendMessages({ body: 1 })).rejects.toMatchObject({ code: "MessagingEntityNotFound" });
  });
});

describe("local Service Bus broker persistence", () => {
  it("keeps active, dead-lettered, deferred and scheduled messages across a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sb-data-"));
    const decl: EntityDeclarations = { queues: [{ name: "durable", maxDeliveryCount: 1, requiresDuplicateDetection: true }] };
    try {
      let handle = await startServiceBusBroker({ port: 0, entities: decl, dataDir: dir });
      let c = new ServiceBusClient(handle.connectionString);
      const sender = c.createSender("durable");
      await sender.sendMessages([{ body: "active", messageId: "a" }, { body: "dead", messageId: "d" }, { body: "deferred", messageId: "f" }]);
      await sender.scheduleMessages({ body: "scheduled", messageId: "s" }, new Date(Date.now() + 60_000));
      const receiver = c.createReceiver("durable");
      const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 2000 });
      const byBody = new Map(got.map((m) => [m.body as string, m]));
      await receiver.abandonMessage(byBody.get("active")!);
      await receiver.deadLetterMessage(byBody.get("dead")!, { deadLetterReason: "r", deadLetterErrorDescription: "d" });
      await receiver.deferMessage(byBody.get("deferred")!);
      await c.close();
      await handle.stop();

      handle = await startServiceBusBroker({ port: 0, entities: decl, dataDir: dir });
      c = new ServiceBusClient(handle.connectionString);
      const peeked = await c.createReceiver("durable").peekMessages(10);
      expect(peeked.map((m) => [m.body, m.state])).toEqual([
        ["deferred", "deferred"],
        ["scheduled", "scheduled"],
      ]);
      const dead = await c.createReceiver("durable", { subQueueType: "deadLetter" }).peekMessages(10);
      expect(dead.map((m) => [m.body, m.deadLetterReason])).toEqual([
        ["active", "MaxDeliveryCountExceeded"],
        ["dead", "r"],
      ]);
      // Duplicate detection history survives too.
      await c.createSender("durable").sendMessages({ body: "again", messageId: "f" });
      await c.close();
      c = new ServiceBusClient(handle.connectionString); // peek position is kept per client and entity
      expect((await c.createReceiver("durable").peekMessages(10)).map((m) => m.body)).toEqual(["deferred", "scheduled"]);
      await c.close();
      await handle.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
