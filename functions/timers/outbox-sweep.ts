import { app, type InvocationContext, type Timer } from "@azure/functions";
import { type Gauge, metrics } from "@opentelemetry/api";
import { createLogger } from "../platform/log.js";
import { platform } from "../platform/platform.js";
import { outboxHealth } from "../platform/readiness.js";

// Created at first use: telemetry.ts installs the meter provider while the app loads, and instruments made
// before that would stay no-ops. Without telemetry they are no-ops anyway and cost nothing.
let gauges: { backlog: Gauge; oldestAge: Gauge } | undefined;
const outboxGauges = () => {
  const meter = metrics.getMeter("ringlet");
  return (gauges ??= {
    backlog: meter.createGauge("ringlet.outbox.backlog", { description: "Committed events not yet published", unit: "{event}" }),
    oldestAge: meter.createGauge("ringlet.outbox.oldest_age_seconds", { description: "Age of the oldest unpublished event (0 when none)", unit: "s" }),
  });
};

// Every 10 s: publishes committed events whose post-commit publish was lost (crash, timeout, outage).
app.timer("outbox-sweep", {
  schedule: "%OUTBOX_SWEEP_SCHEDULE%",
  handler: async (timer: Timer, context: InvocationContext) => {
    const p = platform();
    const log = createLogger({ level: p.settings.LOG_LEVEL, context, fields: { timer: "outbox-sweep" } });
    const published = await p.relay.publishPending({ log });
    // What is left after the sweep: a backlog that stays or an oldest event that keeps ageing means publishing
    // is stuck. Alerts read these as metrics and, where only logs are at hand, from this line.
    const health = await outboxHealth(p);
    const oldestAgeSeconds = Math.round(health.oldestAgeSeconds ?? 0);
    const g = outboxGauges();
    g.backlog.record(health.backlog);
    g.oldestAge.record(oldestAgeSeconds);
    const fields = { published, backlog: health.backlog, oldestAgeSeconds, publishPausedUntil: health.publishPausedUntil, isPastDue: timer.isPastDue };
    // Every 10 s: an idle sweep logs at debug so the log stays readable; anything to report is info.
    if (published > 0 || health.backlog > 0 || timer.isPastDue) log.info("outbox swept", fields);
    else log.debug("outbox swept", fields);
  },
});
