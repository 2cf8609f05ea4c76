import { describe, expect, it } from "vitest";
import { type DeliveryKind, sendDue } from "../../../domain/notifications/delivery-queue.js";

type Result = { ok: boolean; error?: string };

/** A queue of `due` rows handed out `limit` at a time, each send recorded as sent. */
function queue(due: number): DeliveryKind<number, Result, string> & { sent: number[] } {
  let next = 0;
  const sent: number[] = [];
  return {
    sent,
    claim: async (limit) => {
      const rows = Array.from({ length: Math.min(limit, due - next) }, (_, i) => next + i);
      next += rows.length;
      return rows;
    },
    send: async (row) => {
      sent.push(row);
      return { ok: true };
    },
    record: async () => ({ status: "sent", attempts: 1, nextAttemptAt: null }),
  };
}

describe("sendDue", () => {
  it("works through a whole backlog within its time budget, not a fixed number of claims", async () => {
    const backlog = queue(5_000);
    const outcomes = await sendDue(backlog, 20, (error) => ({ ok: false, error }), { timeBudgetMs: 60_000 });
    expect(outcomes).toHaveLength(5_000);
    expect(new Set(backlog.sent).size).toBe(5_000);
  });

  it("stops claiming once the budget is spent", async () => {
    const backlog = queue(5_000);
    const outcomes = await sendDue(backlog, 20, (error) => ({ ok: false, error }), { timeBudgetMs: 0 });
    expect(outcomes).toHaveLength(100);
  });

  it("still honours maxRounds", async () => {
    expect(await sendDue(queue(5_000), 20, (error) => ({ ok: false, error }), { maxRounds: 2 })).toHaveLength(200);
  });
});
