import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { apiClient } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, expectAccessible, launchBrowser, openApp, openPage, screenshotOnFailure, settled, signedInPage, tabTo, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, strongPassword, type TestUser, uniqueEmail } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

/**
 * The journey issue 21 names, as one story on one course: an instructor builds it in the UI; a learner signs up in
 * the UI, enrolls, completes the lessons, takes the timed quiz reached from the course page and submits; the
 * instructor grades the essay from the queue; the learner reads the grade's explanation and downloads the
 * certificate. The area tests cover each page's other states (and axe on them); this file checks that the pages
 * connect.
 */
let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let instructor: TestUser;

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(started.app) });

beforeAll(async () => {
  // Submissions, grades and completion travel through the outbox: swept every second; durable state in memory.
  [started, browser] = await Promise.all([startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" }), launchBrowser()]);
  instructor = await signUp(started.app, started.db, { admin: true, label: "instructor" });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name }).waitFor();

/** The path and query of the first link to the app in a mail's text. */
function linkIn(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]*(${path}[^\\s"<>]*)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1]!;
}

describe("one course from its making to a learner's certificate", () => {
  it("is built, taken, graded and certified through the web app", async () => {
    const teacher = await signedInPage(browser, started.app, instructor);
    const t = teacher.page;
    screenshotOnFailure(t, "journey-instructor");

    // The instructor makes the course, with the keyboard for the main steps.
    await openPage(t, "/teach", "Teaching");
    await activate(t, t.getByRole("link", { name: "New course" }));
    await heading(t, "New course");
    await typeInto(t, t.getByLabel("Title"), "Sundials");
    await activate(t, t.getByRole("button", { name: "Create draft course" }));
    await heading(t, "Manage: Sundials");
    await settled(t);
    const courseId = /\/courses\/([0-9a-f-]{36})\/manage/.exec(t.url())?.[1] as string;
    expect(courseId).toBeTruthy();

    await activate(t, t.getByRole("link", { name: "Modules and lessons" }));
    await heading(t, "Content: Sundials");
    await settled(t);
    await typeInto(t, t.getByLabel("Module title"), "Shadows");
    await activate(t, t.getByRole("button", { name: "Add module" }));
    await t.getByRole("status").filter({ hasText: "Module “Shadows” added." }).waitFor();
    const shadows = t.getByRole("region", { name: "Shadows" });
    await typeInto(t, shadows.getByLabel("Lesson title"), "The gnomon");
    await typeInto(t, shadows.getByLabel("Text (Markdown)"), "The **gnomon** casts the shadow.");
    await activate(t, shadows.getByRole("button", { name: "Add lesson to Shadows" }));
    await t.getByRole("status").filter({ hasText: "Lesson “The gnomon” added." }).waitFor();
    await shadows.getByLabel("Lesson title").fill("Hour lines");
    await shadows.getByLabel("Kind").selectOption("file");
    await shadows.getByLabel("File", { exact: true }).setInputFiles({ name: "hours.txt", mimeType: "text/plain", buffer: Buffer.from("Hour lines: 15 degrees apart at the pole.\n") });
    await shadows.getByRole("button", { name: "Add lesson to Shadows" }).click();
    await shadows.getByText("file: hours.txt").waitFor();

    // A timed quiz that counts toward completion: a multiple-choice item (1 point) and an essay (5 points).
    await activate(t, t.getByRole("link", { name: "Back to the course" }));
    await heading(t, "Manage: Sundials");
    await settled(t);
    await activate(t, t.getByRole("link", { name: "New assessment" }));
    await heading(t, "New assessment");
    await typeInto(t, t.getByLabel("Title").first(), "Shadow quiz");
    const item = (n: number) => t.getByRole("group", { name: `Item ${n}`, exact: true });
    await item(1).getByLabel("Type").selectOption("single");
    await typeInto(t, item(1).getByLabel("Question"), "When is the shadow shortest?");
    await typeInto(t, item(1).getByLabel("Choice 1 text"), "At noon");
    await typeInto(t, item(1).getByLabel("Choice 2 text"), "At dusk");
    await activate(t, t.getByRole("button", { name: "Add an item" }));
    await item(2).getByLabel("Type").selectOption("essay");
    await typeInto(t, item(2).getByLabel("Question"), "Why does a sundial need its latitude?");
    await typeInto(t, item(2).getByLabel("Points"), "5");
    await typeInto(t, t.getByLabel("Time limit (minutes)"), "20");
    await tabTo(t, t.getByRole("checkbox", { name: /^Required for completion/ }));
    await t.keyboard.press("Space");
    await activate(t, t.getByRole("button", { name: "Create assessment" }));
    await heading(t, "Manage: Sundials");
    await t.getByText("Shadow quiz").waitFor();
    await settled(t);
    await activate(t, t.getByRole("button", { name: "Publish" }));
    await t.getByRole("status").filter({ hasText: "The course is published." }).waitFor();

    // A learner signs up in the UI and confirms the address from the mailbox.
    const learnerSide = await openApp(browser, started.app);
    const l = learnerSide.page;
    screenshotOnFailure(l, "journey-learner");
    const email = uniqueEmail("sol");
    await openPage(l, "/register", "Create an account");
    await typeInto(l, l.getByLabel("Your name"), "Sol Learner");
    await typeInto(l, l.getByLabel("Email"), email);
    await typeInto(l, l.getByLabel("Password"), strongPassword());
    await activate(l, l.getByRole("button", { name: "Create account" }));
    await heading(l, "Welcome, Sol Learner");
    await l.getByRole("button", { name: "Send a new link" }).waitFor();
    await expectAccessible(l, "home, email not confirmed");
    const mail = await waitForMail(started.app, email, "Confirm your email");
    await l.goto(linkIn(mail.text, "/verify-email"));
    await l.getByText("Your email address is confirmed").waitFor();
    await expectAccessible(l, "verify-email, confirmed");

    // Finds the course in the catalog and enrolls.
    await openPage(l, "/courses", "Catalog");
    await typeInto(l, l.getByLabel("Search courses"), "sundials");
    await l.keyboard.press("Enter");
    await activate(l, l.getByRole("link", { name: "Sundials" }));
    await heading(l, "Sundials");
    await settled(l);
    await expectAccessible(l, "course, not enrolled");
    await activate(l, l.getByRole("button", { name: "Enroll" }));
    await l.getByRole("status").filter({ hasText: "You are enrolled." }).waitFor();
    await expect.poll(() => l.locator('[role="status"]:focus').filter({ hasText: "You are enrolled." }).count()).toBe(1);

    // Completes both lessons.
    await activate(l, l.getByRole("region", { name: "Modules and lessons" }).getByRole("link", { name: "The gnomon" }));
    await l.getByText("casts the shadow.").waitFor();
    // The lesson's Markdown arrives rendered (bodyHtml): its bold is bold, not asterisks.
    expect(await l.locator(".lesson-text strong").textContent()).toBe("gnomon");
    await activate(l, l.getByRole("button", { name: "Mark complete" }));
    await l.getByRole("status").filter({ hasText: "Marked complete" }).waitFor();
    // The button is gone; the keyboard is on the status that says what happened.
    await expect.poll(() => l.locator('[role="status"]:focus').filter({ hasText: "Marked complete" }).count()).toBe(1);
    await expectAccessible(l, "lesson, completed");
    await activate(l, l.getByRole("link", { name: "Next: Hour lines" }));
    const download = l.getByRole("link", { name: "Download hours.txt" });
    await download.waitFor();
    expect(await (await l.request.get((await download.getAttribute("href"))!)).text()).toMatch(/^Hour lines/);
    await activate(l, l.getByRole("button", { name: "Mark complete" }));
    await l.getByRole("status").filter({ hasText: "Marked complete" }).waitFor();
    await activate(l, l.getByRole("link", { name: "Back to the course" }));
    await heading(l, "Sundials");

    // Opens the quiz from the course page (the lessons alone do not complete the course: the quiz is required).
    const quizLink = l.getByRole("list", { name: "Assessments of this course" }).getByRole("link", { name: "Shadow quiz" });
    await quizLink.waitFor();
    await settled(l);
    // The area tests see this page without a quiz: axe on it with one.
    await expectAccessible(l, "course page, enrolled, with its quiz");
    await activate(l, quizLink);
    await heading(l, "Shadow quiz");
    await settled(l);
    await activate(l, l.getByRole("button", { name: "Start" }));
    await heading(l, "Attempt 1");
    // The server's deadline: 20 minutes from the start, counted down.
    await expect.poll(() => l.getByRole("timer").textContent()).toMatch(/^(19|20):\d\d left$/);
    expect(await l.getByText("Due by").isVisible()).toBe(true);
    await tabTo(l, l.getByRole("radio", { name: "At noon" }));
    await l.keyboard.press("Space");
    await typeInto(l, l.locator("textarea"), "The gnomon must point at the celestial pole, which stands at the latitude's angle.");
    await l.getByText(/^Saved at/).waitFor();
    await activate(l, l.getByRole("button", { name: "Submit" }));
    await l.getByRole("dialog", { name: "Submit your answers?" }).waitFor();
    await activate(l, l.getByRole("button", { name: "Yes, submit" }));
    await heading(l, "Submission: attempt 1");
    const submissionId = new URL(l.url()).pathname.split("/").pop() as string;

    // The instructor grades the essay from the grading queue, with the keyboard.
    const staff = apiClient(started.app, instructor.accessToken);
    await until("the essay to wait for a grader", async () => {
      const { data } = await staff.GET("/v1/submissions/{submissionId}/grading", { params: { path: { submissionId } } });
      return data?.customStatus?.phase === "waiting-for-grader" ? data : undefined;
    });
    await activate(t, t.getByRole("link", { name: "Grading queue" }));
    await heading(t, "Grading: Sundials");
    await settled(t);
    await activate(t, t.getByRole("link", { name: /^Grade Sol Learner/ }));
    await heading(t, "Grade: Shadow quiz");
    await settled(t);
    await t.getByText("celestial pole").waitFor();
    // Only the essay waits for a grader (the choice was scored on submission).
    await expect.poll(() => t.getByLabel(/^Points for item/).count()).toBe(1);
    await typeInto(t, t.getByLabel(/^Points for item .*\(out of 5\)/), "4");
    await typeInto(t, t.getByLabel(/^Feedback on item/), "Right: the pole's height is the latitude.");
    await activate(t, t.getByRole("button", { name: "Save grades" }));
    await t.getByRole("status").filter({ hasText: "Graded." }).waitFor();

    // The learner reads the grade and how it was worked out: 1 + 4 of 6 points.
    await expect
      .poll(
        async () => {
          await openPage(l, "/grades", "Grades");
          return l.getByRole("link", { name: "How it was worked out for Shadow quiz" }).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    await activate(l, l.getByRole("link", { name: "How it was worked out for Shadow quiz" }));
    await heading(l, "How the grade was worked out");
    await settled(l);
    await l.getByText("83.3%").first().waitFor();
    await l.getByText("Right: the pole's height is the latitude.").waitFor();

    // The passing grade completes the course: its certificate, issued through the outbox, downloads as a PDF.
    await until("the certificate", async () => (await started.db.sql`select 1 from certificates where course_id = ${courseId}`)[0]);
    await openPage(l, "/certificates", "My certificates");
    const pdfLink = l.getByRole("link", { name: /Download the certificate for Sundials/ });
    await pdfLink.waitFor();
    await expectAccessible(l, "certificates, with one");
    const pdf = await l.request.get((await pdfLink.getAttribute("href"))!);
    expect(pdf.status()).toBe(200);
    expect((await pdf.body()).subarray(0, 5).toString()).toBe("%PDF-");
    await activate(l, l.getByRole("link", { name: "verification page" }));
    await l.getByText("Valid certificate.").waitFor();
    await l.getByText(/Sol Learner completed “Sundials”/).waitFor();
    await expectAccessible(l, "certificate verification, valid");
    // Home shows the course's progress, complete (client-side navigation: no reload).
    await activate(l, l.getByRole("link", { name: "Ringlet" }));
    await l.getByText("Progress: 100%").waitFor();

    expect([...teacher.errors, ...learnerSide.errors]).toEqual([]);
    await Promise.all([teacher.context.close(), learnerSide.context.close()]);
  }, 90_000);
});
