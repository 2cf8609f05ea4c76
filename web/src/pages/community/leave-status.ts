/** A leave application's status in words. */
export const leaveStatusText = {
  pending: "Waiting for a decision",
  escalated: "Escalated to an administrator",
  approved: "Approved",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
  expired: "Expired without a decision",
} as const;
