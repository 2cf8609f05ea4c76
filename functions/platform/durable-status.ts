import type * as df from "durable-functions";

// The client answers a missing instance with an error naming HTTP 404.
const missingInstance = (err: unknown) => err instanceof Error && /\b404\b/.test(err.message);

/** The instance's status, or null when there is none; a task hub that cannot answer throws. */
export async function instanceStatus(client: df.DurableClient, instanceId: string): Promise<df.DurableOrchestrationStatus | null> {
  return client.getStatus(instanceId).catch((err: unknown) => {
    if (missingInstance(err)) return null;
    throw err;
  });
}
