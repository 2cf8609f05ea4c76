// Durable instances in tests: move an instance's clock ahead through the local runtime's admin API, so a test does
// not wait days for an escalation or an expiry. The route acts on the engine of the host it is called on.
import type { RunningApp } from "./app.js";

export interface FiredTimer {
  timerId: number;
  fireAt: string;
}

/**
 * Moves the clock of `instanceId` `advanceHours` ahead (calls add up) and fires every open timer then due; resolves
 * once the episode that follows has run (its activities may still be running).
 */
export async function fireDurableTimers(app: RunningApp, instanceId: string, advanceHours: number): Promise<FiredTimer[]> {
  const res = await fetch(`${app.baseUrl}/admin/durable/instances/${encodeURIComponent(instanceId)}/timers/fire`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advanceHours }),
  });
  if (res.status !== 200) throw new Error(`Firing the timers of '${instanceId}' answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { fired: FiredTimer[] }).fired;
}
