// More deliveries on one connection than an AMQP session has slots: the broker must free them as it settles.
import { ServiceBusClient } from "@azure/service-bus";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServiceBusBroker, type ServiceBusBrokerHandle } from "../../src/servicebus/broker.js";

let broker: ServiceBusBrokerHandle;
let client: ServiceBusClient;

beforeAll(async () => {
  broker = await startServiceBusBroker({ port: 0, entities: { queues: [{ name: "volume" }], topics: [] }, dataDir: "memory" });
  client = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

it("keeps delivering past 2,048 peek-lock messages on one receiver", async () => {
  const total = 3000;
  const sender = client.createSender("volume");
  for (let i = 0; i < total; i += 500) {
    const batch = await sender.createMessageBatch();
    for (let j = i; j < Math.min(i + 500, total); j++) expect(batch.tryAddMessage({ body: j, messageId: `m-${j}` })).toBe(true);
    await sender.sendMessages(batch);
  }
  await sender.close();
  const receiver = client.createReceiver("volume");
  const seen = new Set<number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${total} arrived`)), 30_000);
    const sub = receiver.subscribe(
      {
        processMessage: async (m) => {
          seen.add(m.body as number);
          if (seen.size === total) {
            clearTimeout(timer);
            void sub.close().then(() => resolve());
          }
        },
        processError: async (args) => reject(args.error),
      },
      { maxConcurrentCalls: 50 },
    );
  });
  await receiver.close();
  expect(seen.size).toBe(total);
}, 40_000);
