import { app, type InvocationContext, type Timer } from "@azure/functions";
import * as df from "durable-functions";
import { leaveLeftUnstarted } from "../../domain/leave/decide-leave.js";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { startLeaveApproval } from "./start-leave-approval.js";

// An application whose orchestration never ran its first step a minute after it was made (the start after the
// apply's commit was lost: the host stopped, or the task hub was away) gets it started here.
const LEFT_UNSTARTED_MS = 60_000;

app.timer("leave-resume", {
  schedule: "0 */5 * * * *",
  extraInputs: [df.input.durableClient()],
  handler: async (_timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "leave-resume" } });
    const client = df.getClient(context);
    let started = 0;
    for (const application of await leaveLeftUnstarted(p.database.db, new Date(p.clock().getTime() - LEFT_UNSTARTED_MS))) {
      try {
        if (await startLeaveApproval(p, client, application)) started++;
      } catch (err) {
        log.warn("leave orchestration not started; tried again at the next run", { applicationId: application.id, err });
      }
    }
    if (started > 0) log.warn("leave orchestrations started late", { started });
  },
});
