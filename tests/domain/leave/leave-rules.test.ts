import { describe, expect, it } from "vitest";
import { checkLeaveRange, leaveDeadlines, mayDecide } from "../../../domain/leave/leave-rules.js";

const DAY = 86_400_000;
const now = new Date("2026-12-06T12:00:00Z");
const limits = { maxPastDays: 7, maxDays: 90 };
const range = (startOffsetDays: number, lengthDays: number) => ({
  startsAt: new Date(now.getTime() + startOffsetDays * DAY),
  endsAt: new Date(now.getTime() + (startOffsetDays + lengthDays) * DAY),
});

describe("checkLeaveRange", () => {
  it("accepts a range starting exactly LEAVE_MAX_PAST_DAYS back and one exactly LEAVE_MAX_DAYS long", () => {
    expect(checkLeaveRange(range(-7, 1), now, limits).ok).toBe(true);
    expect(checkLeaveRange(range(1, 90), now, limits).ok).toBe(true);
  });

  it("refuses an empty or inverted range", () => {
    expect(checkLeaveRange(range(1, 0), now, limits)).toMatchObject({ ok: false, error: { code: "LEAVE_RANGE_INVALID" } });
    expect(checkLeaveRange(range(1, -1), now, limits)).toMatchObject({ ok: false, error: { code: "LEAVE_RANGE_INVALID" } });
  });

  it("refuses a start more than LEAVE_MAX_PAST_DAYS back, and a leave longer than LEAVE_MAX_DAYS", () => {
    expect(checkLeaveRange(range(-7.01, 1), now, limits)).toMatchObject({ ok: false, error: { code: "LEAVE_TOO_FAR_IN_PAST", extensions: { maxPastDays: 7 } } });
    expect(checkLeaveRange(range(1, 90.01), now, limits)).toMatchObject({ ok: false, error: { code: "LEAVE_TOO_LONG", extensions: { maxDays: 90 } } });
  });
});

describe("mayDecide", () => {
  it("lets approvers decide, administrators only once escalated, and never the applicant", () => {
    expect(mayDecide({ isApprover: true, isAdmin: false, isApplicant: false }, "pending")).toBe(true);
    expect(mayDecide({ isApprover: false, isAdmin: true, isApplicant: false }, "pending")).toBe(false);
    expect(mayDecide({ isApprover: false, isAdmin: true, isApplicant: false }, "escalated")).toBe(true);
    expect(mayDecide({ isApprover: false, isAdmin: false, isApplicant: false }, "escalated")).toBe(false);
    expect(mayDecide({ isApprover: true, isAdmin: true, isApplicant: true }, "escalated")).toBe(false);
  });
});

describe("leaveDeadlines", () => {
  it("counts both deadlines from created_at, the final one never before the escalation", () => {
    expect(leaveDeadlines({ createdAt: "2026-12-06T12:00:00.000Z", escalationHours: 48, decisionHours: 120 })).toEqual({
      escalatesAt: new Date("2026-12-08T12:00:00.000Z"),
      expiresAt: new Date("2026-12-11T12:00:00.000Z"),
    });
    expect(leaveDeadlines({ createdAt: now, escalationHours: 48, decisionHours: 24 }).expiresAt).toEqual(new Date("2026-12-08T12:00:00.000Z"));
  });
});
