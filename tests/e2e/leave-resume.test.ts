import { afterAll, beforeAll, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { type RunningApp, startApp } from "../support/app.js";
import { persistentRuntimeState } from "../support/restartable-services.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { call, createCourse, signUp, type TestUser } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

// A leave application whose runtime is killed (SIGKILL: no shutdown) while its orchestration waits for a decision,
// then started again on the same database, broker data and durable store: the decision after the restart ends the
// orchestration once (one decision email, one leave.decided event, the instance Completed).

let db: TestDatabase;
let app: RunningApp;
let runtimeState: Awaited<ReturnType<typeof persistentRuntimeState>>;
let learner: TestUser;
let instructor: TestUser;

interface View {
  status: string;
  instanceId: string;
  orchestration: { runtimeStatus: string | null; customStatus: { stage: string; status?: string } | null };
}

async function startRuntime(): Promise<RunningApp> {
  return startApp({ env: { DATABASE_URL: db.url, ...runtimeState.env } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  runtimeState = await persistentRuntimeState();
  app = await startRuntime();
  [learner, instructor] = await Promise.all([signUp(app, db, { label: "resume-learner" }), signUp(app, db, { label: "resume-instructor" })]);
  const courseId = await createCourse(db, [{ userId: instructor.id, role: "instructor" }]);
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${learner.id}, 'active', 'staff', now())`;
});

afterAll(async () => {
  await app?.stop();
  await db?.drop();
  await runtimeState?.remove();
});

const view = async (id: string) => (await (await call(app, "GET", `/v1/leave-applications/${id}`, { token: learner.accessToken })).json()) as View;
const viewWhen = (id: string, what: string, ok: (v: View) => boolean) =>
  waitFor(
    what,
    async () => {
      const v = await view(id);
      return ok(v) ? v : undefined;
    },
    { timeoutMs: 20_000, diagnostics: () => recentErrors(app) },
  );

it("resumes a waiting leave orchestration after the runtime is killed, and records the decision once", async () => {
  const day = 86_400_000;
  const res = await call(app, "POST", "/v1/leave-applications", {
    token: learner.accessToken,
    body: { startsAt: new Date(Date.now() + 5 * day).toISOString(), endsAt: new Date(Date.now() + 6 * day).toISOString(), reason: "Appointment" },
  });
  expect(res.status).toBe(201);
  const { application } = (await res.json()) as { application: { id: string } };
  await viewWhen(application.id, "the orchestration to wait for a decision", (v) => v.orchestration.customStatus?.stage === "waiting");
  await waitForMail(app, instructor.email, "resume-learner asks for leave");

  app.process.kill("SIGKILL");
  await app.stop();
  app = await startRuntime();

  expect((await view(application.id)).orchestration.runtimeStatus).toBe("Running");
  const decided = await call(app, "POST", `/v1/leave-applications/${application.id}/decision`, { token: instructor.accessToken, body: { decision: "reject", comment: "Exams" } });
  expect(decided.status, await decided.clone().text()).toBe(200);
  const done = await viewWhen(application.id, "the orchestration to complete after the restart", (v) => v.orchestration.runtimeStatus === "Completed");
  expect(done).toMatchObject({ status: "rejected", orchestration: { customStatus: { stage: "done", status: "rejected" } } });
  await waitForMail(app, learner.email, "Your leave from");

  const [counts] = await db.sql<{ decided: number; decisionEmails: number; requestEmails: number; statuses: number }[]>`
    select (select count(*)::int from outbox where type = 'leave.decided' and aggregate_id = ${application.id}) as decided,
           (select count(*)::int from email_deliveries where template = 'leave-decided' and recipient = ${learner.email}) as "decisionEmails",
           (select count(*)::int from email_deliveries where template = 'leave-requested' and recipient = ${instructor.email}) as "requestEmails",
           (select count(*)::int from leave_applications where id = ${application.id} and status = 'rejected') as statuses`;
  expect(counts).toEqual({ decided: 1, decisionEmails: 1, requestEmails: 1, statuses: 1 });
});
