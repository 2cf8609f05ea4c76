import "./platform/telemetry.js";
import { app } from "@azure/functions";
import { bootstrapAdminFromSettings } from "./platform/bootstrap-admin.js";
import { createLogger } from "./platform/log.js";
import { closePlatform, platform } from "./platform/platform.js";
import { settings } from "./platform/settings.js";
import "./http/system.js";
import "./http/auth.js";
import "./http/account-email.js";
import "./http/me.js";
import "./http/me-sessions.js";
import "./http/me-grades.js";
import "./http/notification-preferences.js";
import "./http/unsubscribe.js";
import "./http/users.js";
import "./http/two-factor.js";
import "./http/user-invitations.js";
import "./http/audit-log.js";
import "./http/courses.js";
import "./http/content.js";
import "./http/enrollments.js";
import "./http/sections.js";
import "./http/assessments.js";
import "./timers/attempt-deadlines.js";
import "./timers/due-reminders.js";
import "./http/grading.js";
import "./http/gradebook.js";
import "./grading/grade-submission.js";
import "./grading/attempt-deadline.js";
import "./grading/regrade.js";
import "./privacy/data-export.js";
import "./http/privacy-export.js";
import "./events/grading.js";
import "./events/progress.js";
import "./http/progress.js";
import "./events/certificates.js";
import "./http/certificates.js";
import "./http/activity.js";
import "./events/activity.js";
import "./http/analytics.js";
import "./timers/analytics-rollup.js";
import "./timers/waitlist-offers.js";
import "./timers/outbox-sweep.js";
import "./timers/webhook-retries.js";
import "./timers/email-retries.js";
import "./timers/housekeeping.js";
import "./events/webhooks.js";
import "./events/emails.js";
import "./http/webhooks.js";
import "./http/ops-webhook-secrets.js";
import "./http/ops.js";
import "./http/ops-dead-letters.js";
import "./privacy/erasure.js";
import "./http/privacy-erasure.js";
import "./imports/bulk-import.js";
import "./imports/import-queue.js";
import "./http/imports.js";
import "./http/not-found.js";

// Fail fast: a bad setting stops the app at load, naming each problem, before any request arrives.
settings();

app.setup({ enableHttpStream: false });
app.hook.appStart(async () => {
  const p = platform();
  try {
    await p.files.ensureContainer();
  } catch (err) {
    // A Blob outage or a missing role at start must not stop the app; /api/ready reports Blob.
    createLogger({ level: p.settings.LOG_LEVEL, fields: { task: "ensure-container" } }).error("course files container not ensured", { err });
  }
  await bootstrapAdminFromSettings();
});
app.hook.appTerminate(async () => {
  await closePlatform();
});
