import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { leaveInstanceId } from "../../domain/leave/apply-leave.js";
import { leaveLeftUnstarted, leaveOverdue } from "../../domain/leave/decide-leave.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { LEAVE_DECIDED_EVENT, type LeaveDecidedPayload } from "./leave-approval.js";
import { startLeaveApproval } from "./start-leave-approval.js";

// An application whose orchestration never ran its first step a minute after it was made (the start after the
// apply's commit was lost: the host stopped, or the task hub was away) gets it started here.
const LEFT_UNSTARTED_MS = 60_000;
// An open application still waiting this long after a deadline passed: its instance failed (activities out of
// retries), was terminated, or missed its timer. A failed/terminated/missing one is started again; a running one is
// nudged (it reads the row and re-arms its timer, now due).
const OVERDUE_MS = 15 * 60_000;

app.timer("leave-resume", {
  schedule: "0 */5 * * * *",
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "leave-resume" } });
    const client = df.getClient(context);
    const now = p.clock();
    let started = 0;
    for (const application of await leaveLeftUnstarted(p.database.db, new Date(now.getTime() - LEFT_UNSTARTED_MS))) {
      try {
        if ((await startLeaveApproval(p, client, application)) === "started") started++;
      } catch (err) {
        log.warn("leave orchestration not started; tried again at the next run", { applicationId: application.id, err });
      }
    }
    if (started > 0) log.warn("leave orchestrations started late", { started });
    const overdue = await leaveOverdue(p.database.db, now, {
      escalationHours: p.settings.LEAVE_ESCALATION_HOURS,
      decisionHours: p.settings.LEAVE_DECISION_HOURS,
      marginMs: OVERDUE_MS,
    });
    for (const application of overdue) {
      try {
        const outcome = await startLeaveApproval(p, client, application);
        if (outcome === df.OrchestrationRuntimeStatus.Running || outcome === df.OrchestrationRuntimeStatus.Pending) {
          await client.raiseEvent(leaveInstanceId(application.id), LEAVE_DECIDED_EVENT, { nudge: true } satisfies LeaveDecidedPayload);
        }
        log.warn("overdue leave orchestration resumed", { applicationId: application.id, outcome });
      } catch (err) {
        log.warn("overdue leave orchestration not resumed; tried again at the next run", { applicationId: application.id, err });
      }
    }
  },
});
