import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { apiClient, must } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, desktop, expectAccessible, expectNoSidewaysScroll, launchBrowser, openPage, phone, screenshotOnFailure, signedInPage, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";
import { waitFor } from "../support/wait-for.js";

// The community and school pages (web/src/pages/community): a learner's journey through inbox, announcement,
// discussion, evaluation, schedule and invoice, everything else set up through the API (or, for what has no
// route of its own here, the database).

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let learner: TestUser;
let courseId: string;
let announcementId: string;
let topicId: string;
let evaluationId: string;
let sessionId: string;
/** The session's day: the schedule is opened at its week (this week may have begun since). */
let sessionDate: string;
let invoiceId: string;
let noticeIds: string[];

beforeAll(async () => {
  [started, browser] = await Promise.all([startAppOnOwnDatabase(), launchBrowser()]);
  const { app, db } = started;
  const [admin, instructor, student] = await Promise.all([signUp(app, db, { admin: true, label: "admin" }), signUp(app, db, { label: "instructor" }), signUp(app, db, { label: "lena" })]);
  learner = student;
  const asAdmin = apiClient(app, admin.accessToken);
  const asInstructor = apiClient(app, instructor.accessToken);

  courseId = uuidv7();
  await db.sql`insert into courses (id, title, status, published_at) values (${courseId}, 'Community 101', 'published', now())`;
  await db.sql`insert into course_staff (course_id, user_id, role) values (${courseId}, ${instructor.id}, 'instructor')`;
  await db.sql`insert into enrollments (id, course_id, user_id, status, source, enrolled_at) values (${uuidv7()}, ${courseId}, ${learner.id}, 'active', 'staff', now())`;

  // A paid course the learner enrolls in: the invoices subscription issues the invoice (awaited at the end).
  const paid = await must(asAdmin.POST("/v1/courses", { body: { title: "Paid 201" } }));
  await must(asAdmin.POST("/v1/courses/{courseId}/publish", { params: { path: { courseId: paid.id } } }));
  const feeId = uuidv7();
  await db.sql`insert into fees (id, course_id, name, term, currency, amount_minor, requirement) values (${feeId}, ${paid.id}, 'Tuition', '2026-autumn', 'USD', 120000, 'first-instalment')`;
  await db.sql`insert into fee_instalments (fee_id, seq, amount_minor, due_after_days) values (${feeId}, 1, 40000, 0), (${feeId}, 2, 80000, 30)`;
  await must(apiClient(app, learner.accessToken).POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId: paid.id } } }));

  const announcement = await must(asInstructor.POST("/v1/courses/{courseId}/announcements", { params: { path: { courseId } }, body: { title: "Room change", body: "We meet in **room 4** from now on." } }));
  announcementId = announcement.id;
  const topic = await must(asInstructor.POST("/v1/courses/{courseId}/discussions", { params: { path: { courseId } }, body: { title: "Introduce yourself", body: "Say hello to the class." } }));
  topicId = topic.topic.id;
  const template = await must(
    asAdmin.POST("/v1/evaluation-templates", {
      body: {
        title: "End of course",
        questions: [
          { id: "pace", kind: "likert", prompt: "The pace suited me", required: true },
          { id: "best", kind: "choice", prompt: "The best part", options: ["Lectures", "Discussions"] },
          { id: "more", kind: "text", prompt: "Anything else?" },
        ],
      },
    }),
  );
  const evaluation = await must(
    asInstructor.POST("/v1/courses/{courseId}/evaluations", {
      params: { path: { courseId } },
      body: { templateId: template.id, term: "2026 autumn", opensAt: new Date(Date.now() + 3_600_000).toISOString(), closesAt: new Date(Date.now() + 7 * 86_400_000).toISOString() },
    }),
  );
  evaluationId = evaluation.id;
  // Opening is the evaluations timer's work (tests/e2e/evaluations.test.ts); here it is simply open.
  await db.sql`update course_evaluations set status = 'open', opens_at = now() - interval '1 hour', opened_at = now() where id = ${evaluationId}`;
  // A session that began five minutes ago: the attendance report lists started sessions only, and check-in is open.
  const start = new Date(Date.now() - 5 * 60_000).toISOString();
  sessionDate = start.slice(0, 10);
  const session = await must(
    asInstructor.POST("/v1/courses/{courseId}/sessions", { params: { path: { courseId } }, body: { title: "Week 1 seminar", date: sessionDate, startTime: start.slice(11, 16), durationMinutes: 60, timeZone: "UTC", location: "Room 4" } }),
  );
  sessionId = session.id;

  // Two inbox entries as the fan-out would write them (its own tests: tests/e2e/announcements.test.ts).
  noticeIds = [uuidv7(), uuidv7()];
  await db.sql`insert into notifications (id, user_id, event_id, template, title, body, url) values
    (${noticeIds[0]!}, ${learner.id}, ${uuidv7()}, 'course-evaluation', 'Tell us how the course went', 'The evaluation is open.', ${`${app.baseUrl}/courses/${courseId}/evaluations/${evaluationId}`}),
    (${noticeIds[1]!}, ${learner.id}, ${uuidv7()}, 'announcement', 'New room for Community 101', 'We meet in room 4.', ${`${app.baseUrl}/courses/${courseId}/announcements/${announcementId}`})`;

  const invoices = apiClient(app, learner.accessToken);
  invoiceId = await waitFor("the learner's invoice", async () => (await must(invoices.GET("/v1/me/invoices"))).items[0]?.id, { timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

/** A browser context signed in as the user (a fresh session of theirs). */
const signedIn = (user: TestUser, viewport = desktop) => signedInPage(browser, started.app, user, viewport);

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name }).waitFor();

describe("the community pages", () => {
  // axe runs on each page once, in the 360 px pass below (it covers every page this journey visits); the journey
  // itself checks axe only on the evaluation's form, which the 360 px pass sees answered.
  it("takes a learner from the inbox through an announcement, a reply, an evaluation, the schedule and an invoice", async () => {
    const { page, context, errors } = await signedIn(learner);
    screenshotOnFailure(page, "community-journey");
    const asLearner = apiClient(started.app, learner.accessToken);

    await page.goto("/notifications");
    await heading(page, "Notifications");
    await page.getByRole("link", { name: "New room for Community 101" }).waitFor();
    // The header says how many are unread: a badge, and in words in the link's name.
    const mainNav = page.getByRole("navigation", { name: "Main" });
    const unreadBefore = (await must(asLearner.GET("/v1/me/notifications", { params: { query: { limit: 1 } } }))).unreadCount;
    expect(unreadBefore).toBeGreaterThan(1);
    await mainNav.getByRole("link", { name: `Notifications (${unreadBefore} unread)`, exact: true }).waitFor();
    // Following a notification opens its page and marks it read.
    await activate(page, page.getByRole("link", { name: "New room for Community 101" }));
    await heading(page, "Room change");
    await page.getByText("room 4").waitFor();
    await expect.poll(async () => (await must(asLearner.GET("/v1/announcements/{announcementId}", { params: { path: { announcementId } } }))).read).toBe(true);
    const inbox = await must(asLearner.GET("/v1/me/notifications"));
    expect(inbox.items.find((n) => n.id === noticeIds[1])?.readAt).not.toBeNull();
    await activate(page, page.getByRole("link", { name: "All announcements of the course" }));
    await heading(page, "Announcements");

    // Mark all read with the keyboard.
    await page.goto("/notifications");
    await heading(page, "Notifications");
    await page.getByText(/[1-9] unread notifications?\./).waitFor();
    await activate(page, page.getByRole("button", { name: "Mark all read" }));
    await expect.poll(() => page.getByRole("status").first().textContent()).toMatch(/marked read/);
    // "Mark all read" is disabled now: the keyboard is on the status that says what happened, not on <body>.
    await expect.poll(() => page.locator('[role="status"]:focus').filter({ hasText: "marked read" }).count()).toBe(1);
    await page.getByText("0 unread notifications.").waitFor();
    // ...and the header's count goes with them, without leaving the page.
    await mainNav.getByRole("link", { name: "Notifications", exact: true }).waitFor();

    // The forum, then a reply with the keyboard.
    await page.goto(`/courses/${courseId}/discussions`);
    await heading(page, "Discussions");
    await activate(page, page.getByRole("link", { name: "Introduce yourself" }));
    await heading(page, "Introduce yourself");
    await typeInto(page, page.getByLabel("Your reply (Markdown)"), "Hello, I am *Lena*.");
    await activate(page, page.getByRole("button", { name: "Post the reply" }));
    await page.getByText("Your reply is posted.").waitFor();
    await page.getByRole("list", { name: "Posts" }).getByText("Hello, I am").waitFor();
    await page.getByRole("button", { name: "Follow this topic" }).click();
    await page.getByText("You follow this topic").waitFor();

    // The evaluation, answered once.
    await page.goto(`/courses/${courseId}/evaluations/${evaluationId}`);
    await heading(page, "Course evaluation: 2026 autumn");
    await expectAccessible(page, "/courses/:courseId/evaluations/:evaluationId");
    await page.getByRole("radio", { name: "4: Agree" }).check();
    await page.getByRole("radio", { name: "Discussions" }).check();
    await page.getByLabel("Anything else?").fill("More examples, please.");
    await page.getByRole("button", { name: "Send my answers" }).click();
    await page.getByText("your answers are recorded").waitFor();
    await page.reload();
    await page.getByText("You have answered this evaluation").waitFor();

    // The schedule with this week's session, and the calendar feed.
    await page.goto(`/schedule?week=${sessionDate}`);
    await heading(page, "Schedule");
    await page.getByRole("heading", { name: "Week 1 seminar" }).waitFor();
    await page.getByRole("button", { name: "Make a calendar feed" }).click();
    await expect.poll(() => page.getByLabel(/Your feed URL/).inputValue()).toMatch(/\/api\/v1\/calendar\/.+\.ics$/);
    await page.getByRole("link", { name: "Check in to Week 1 seminar" }).click();
    await heading(page, "Check in");
    await page.getByText("Week 1 seminar:").waitFor();

    await page.goto(`/courses/${courseId}/attendance`);
    await page.getByRole("table", { name: "Attendance by class session" }).waitFor();

    // Invoices: the list, then one with its lines and instalments.
    await page.goto("/invoices");
    await heading(page, "Invoices");
    await page.getByRole("table", { name: "My invoices" }).getByRole("link").first().click();
    await heading(page, /^Invoice /);
    await page.getByRole("table", { name: "Lines" }).waitFor();
    expect(await page.getByRole("table", { name: "Instalments" }).getByRole("row").count()).toBe(3);
    await page.getByRole("button", { name: "Pay online" }).waitFor();

    // Leave: apply, and see the application.
    await page.goto("/leave");
    await heading(page, "Leave");
    await page.getByLabel("From").fill("2026-12-20T09:00");
    await page.getByLabel("Until").fill("2026-12-21T17:00");
    await page.getByLabel("Reason").fill("Family matters");
    await page.getByRole("button", { name: "Apply" }).click();
    await heading(page, "Leave application");
    await page.getByText("Family matters").waitFor();

    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it("fits every community page on a 360 px screen, and axe finds nothing serious there", async () => {
    const { page, context, errors } = await signedIn(learner, phone);
    screenshotOnFailure(page, "community-phone");
    const leave = await must(apiClient(started.app, learner.accessToken).GET("/v1/me/leave-applications"));
    const paths = [
      "/notifications",
      `/schedule?week=${sessionDate}`,
      `/courses/${courseId}/announcements`,
      `/courses/${courseId}/announcements/${announcementId}`,
      `/courses/${courseId}/discussions?q=hello`,
      `/discussions/${topicId}`,
      `/courses/${courseId}/attendance`,
      `/sessions/${sessionId}/check-in`,
      `/courses/${courseId}/evaluations/${evaluationId}`,
      "/invoices",
      `/invoices/${invoiceId}`,
      "/leave",
      ...(leave.items[0] ? [`/leave-applications/${leave.items[0].id}`] : []),
    ];
    for (const path of paths) {
      // Loaded: the page's data is in (nothing busy), so its widest content is on the screen.
      await openPage(page, path);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
      // axe on every page at this width too: tables scrolling sideways exist only here.
      await expectAccessible(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
