import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { apiClient, must } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, expectAccessible, expectNoSidewaysScroll, launchBrowser, openApp, openPage, phone, screenshotOnFailure, signedInPage, tabTo, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";
import { fireFunction } from "../support/timers.js";

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let instructor: TestUser;
let learner: TestUser;
let courseId: string;
let quizId: string;
// One signed-in learner's tab for the whole file: the journeys follow each other.
let context: BrowserContext;
let page: Page;
let errors: string[];
/** Every page this file visited, checked again at 360 px at the end. */
const visited = new Set<string>();

beforeAll(async () => {
  [started, browser] = await Promise.all([
    // The outbox and deadline timers run every second, so grading and deadline submissions follow quickly.
    startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", ATTEMPT_DEADLINES_SCHEDULE: "*/1 * * * * *" }),
    launchBrowser(),
  ]);
  const { app, db } = started;
  [instructor, learner] = await Promise.all([signUp(app, db, { admin: true, label: "instructor" }), signUp(app, db, { label: "learner" })]);
  const staff = apiClient(app, instructor.accessToken);
  courseId = (await must(staff.POST("/v1/courses", { body: { title: "Geography" } }))).id;
  await must(staff.POST("/v1/courses/{courseId}/publish", { params: { path: { courseId } } }));
  await must(apiClient(app, learner.accessToken).POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId } }, body: {} }));
  quizId = (
    await must(
      staff.POST("/v1/courses/{courseId}/assessments", {
        params: { path: { courseId } },
        body: {
          title: "Capitals",
          kind: "quiz",
          timeLimitMinutes: 30,
          items: [
            { id: "q1", type: "single", points: 1, prompt: "The capital of France?", choices: [{ id: "a", text: "Paris" }, { id: "b", text: "Lyon" }] },
            { id: "q2", type: "multiple", points: 1, prompt: "Capitals on a river?", choices: [{ id: "a", text: "Vienna" }, { id: "b", text: "Madrid" }, { id: "c", text: "Budapest" }] },
            { id: "q3", type: "true-false", points: 1, prompt: "Canberra is the capital of Australia." },
            { id: "q4", type: "numeric", points: 1, prompt: "How many capitals has South Africa?" },
            { id: "q5", type: "short-text", points: 1, prompt: "The capital of Italy?" },
            { id: "q6", type: "essay", points: 5, prompt: "Why do capitals move?" },
            { id: "q7", type: "file", points: 1, prompt: "Upload your map." },
          ],
          keys: {
            q1: { type: "single", correct: "a" },
            q2: { type: "multiple", correct: ["a", "c"] },
            q3: { type: "true-false", correct: true },
            q4: { type: "numeric", mode: "exact", value: 3 },
            q5: { type: "short-text", mode: "normalized", accepted: ["Rome"] },
          },
        },
      }),
    )
  ).id;
  ({ context, page, errors } = await openApp(browser, started.app));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

/** Waits until the page's data has loaded (no busy "Loading…" line left). */
async function settled(): Promise<void> {
  await page.locator('[aria-busy="true"]').first().waitFor({ state: "detached" });
}

async function visit(path: string, heading: string | RegExp): Promise<void> {
  await page.goto(path);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  await settled();
  visited.add(path);
}

describe("a learner's assessments in the web app", () => {
  it("takes a timed quiz with the keyboard: deadline shown, answers autosaved across a reload, a file straight to Blob, submitted", async () => {
    screenshotOnFailure(page, "assessments-take-quiz");
    // Signing in, then from the course page to the quiz (the course lists its assessments).
    await page.goto("/sign-in");
    await typeInto(page, page.getByLabel("Email"), learner.email);
    await typeInto(page, page.getByLabel("Password"), learner.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { level: 1, name: /^Welcome/ }).waitFor();
    await page.getByRole("link", { name: "Geography" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Geography" }).waitFor();
    const listed = page.getByRole("list", { name: "Assessments of this course" }).getByRole("listitem").filter({ hasText: "Capitals" });
    await listed.waitFor();
    expect(await listed.textContent()).toMatch(/Quiz, no due date, open$/);
    visited.add(`/courses/${courseId}`);
    await activate(page, listed.getByRole("link", { name: "Capitals" }));
    await page.getByRole("heading", { level: 1, name: "Capitals" }).waitFor();
    await settled();
    visited.add(`/assessments/${quizId}`);
    await page.getByText("30 minutes from the start").waitFor();

    await activate(page, page.getByRole("button", { name: "Start" }));
    await page.getByRole("heading", { level: 1, name: "Attempt 1" }).waitFor();
    const attemptPath = new URL(page.url()).pathname;
    visited.add(attemptPath);
    await expect.poll(() => page.getByRole("timer").textContent()).toMatch(/^(29|30):\d\d left$/);
    await page.getByText("Due by").waitFor();

    await tabTo(page, page.getByRole("radio", { name: "Paris" }));
    await page.keyboard.press("Space");
    await tabTo(page, page.getByRole("checkbox", { name: "Vienna" }));
    await page.keyboard.press("Space");
    await tabTo(page, page.getByRole("checkbox", { name: "Budapest" }));
    await page.keyboard.press("Space");
    await typeInto(page, page.getByRole("textbox", { name: "Your answer", exact: true }).first(), "Rome");
    // Saved on the server a moment after typing stops (read back with the learner's own token).
    const attemptId = attemptPath.split("/").pop() as string;
    const own = apiClient(started.app, learner.accessToken);
    await expect.poll(async () => (await must(own.GET("/v1/attempts/{attemptId}", { params: { path: { attemptId } } }))).answers.q5).toBe("Rome");
    await page.getByText(/^Saved at/).waitFor();
    await expectAccessible(page, "the attempt");

    // Autosave: a reload keeps every saved answer.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Attempt 1" }).waitFor();
    await expect.poll(() => page.getByRole("radio", { name: "Paris" }).isChecked()).toBe(true);
    expect(await page.getByRole("checkbox", { name: "Budapest" }).isChecked()).toBe(true);
    expect(await page.getByRole("checkbox", { name: "Madrid" }).isChecked()).toBe(false);
    expect(await page.getByRole("textbox", { name: "Your answer", exact: true }).first().inputValue()).toBe("Rome");

    // True or false: Tab reaches the group's first radio, Space chooses it.
    await tabTo(page, page.getByRole("radio", { name: "True" }));
    await page.keyboard.press("Space");
    await typeInto(page, page.getByRole("textbox", { name: "Your answer (a number)" }), "3");
    await typeInto(page, page.locator("textarea"), "Wars, trade and new borders.");
    // The file goes straight to Blob with the granted URL; its blob name becomes the answer.
    await page.getByLabel("Your file").setInputFiles({ name: "map.txt", mimeType: "text/plain", buffer: Buffer.from("a map") });
    await page.getByRole("status").filter({ hasText: "Uploaded map.txt." }).waitFor();
    // The file answer is saved on the server (the "Saved at" line was already there from the earlier answers).
    await expect.poll(async () => (await must(own.GET("/v1/attempts/{attemptId}", { params: { path: { attemptId } } }))).answers.q7).toBeTruthy();

    await activate(page, page.getByRole("button", { name: "Submit" }));
    await page.getByRole("dialog", { name: "Submit your answers?" }).waitFor();
    await expectAccessible(page, "the submit confirmation");
    await activate(page, page.getByRole("button", { name: "Yes, submit" }));
    await page.getByRole("heading", { level: 1, name: "Submission: attempt 1" }).waitFor();
    visited.add(new URL(page.url()).pathname);
    await page.getByText("Wars, trade and new borders.").waitFor();
    await page.getByRole("link", { name: "Download the file" }).waitFor();
    await expectAccessible(page, "the submission");
    expect(errors).toEqual([]);
  }, 40_000);

  it("shows the grade once the essay and file are graded, and its explanation step by step", async () => {
    screenshotOnFailure(page, "assessments-grade");
    const staff = apiClient(started.app, instructor.accessToken);
    const submissionId = new URL(page.url()).pathname.split("/").pop() as string;
    await expect
      .poll(async () => (await must(staff.GET("/v1/submissions/{submissionId}/grading", { params: { path: { submissionId } } }))).customStatus?.phase, { timeout: 20_000 })
      .toBe("waiting-for-grader");
    await must(
      staff.POST("/v1/submissions/{submissionId}/grades", {
        params: { path: { submissionId } },
        body: { scores: [{ itemId: "q6", points: 4, feedback: "Good reasons" }, { itemId: "q7", points: 1 }] },
      }),
    );
    await expect
      .poll(
        async () => {
          await visit("/grades", "Grades");
          return page.getByRole("link", { name: "How it was worked out for Capitals" }).count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    // 5 auto points + 4 + 1 of 11.
    await page.getByRole("row", { name: /Capitals/ }).filter({ hasText: "90.9%" }).waitFor();

    await activate(page, page.getByRole("link", { name: "How it was worked out for Capitals" }));
    await page.getByRole("heading", { level: 1, name: "How the grade was worked out" }).waitFor();
    visited.add(new URL(page.url()).pathname);
    const steps = page.getByRole("heading", { name: "Steps to the grade" }).locator("xpath=following-sibling::ol[1]/li");
    await expect.poll(() => steps.allTextContents()).toEqual([expect.stringMatching(/^Raw score:/), expect.stringMatching(/^Late deduction: on time/), expect.stringMatching(/^Attempts policy:/)]);
    // The essay's grader score and the grader's written feedback.
    await page.getByText("scored by a grader: 4 of 5").waitFor();
    await page.getByText("Grader's feedback: Good reasons").waitFor();

    await visit(`/courses/${courseId}/grades`, "Grades: Geography");
    await visit("/submissions", "My submissions");
    expect(errors).toEqual([]);
  }, 40_000);

  it("saves what is typed up to a near deadline, says when it passes, and the server submits what was saved", async () => {
    // Its own tab. The attempt starts with half an hour of room and is answered; then its deadline is moved to a few
    // seconds from now and the page reloaded, and the learner types on, slowly, past the deadline. Near the end the
    // page does not wait for a pause in typing (a pause that would come after the deadline, when the server refuses
    // the save): what reached the server before the deadline is a start of the typed text, and it is submitted.
    const tab = await signedInPage(browser, started.app, learner);
    const p = tab.page;
    screenshotOnFailure(p, "assessments-deadline");
    const staff = apiClient(started.app, instructor.accessToken);
    const sprint = await must(
      staff.POST("/v1/courses/{courseId}/assessments", {
        params: { path: { courseId } },
        body: {
          title: "Sprint",
          kind: "quiz",
          timeLimitMinutes: 30,
          items: [
            { id: "q", type: "true-false", points: 1, prompt: "Fast?" },
            { id: "w", type: "short-text", points: 1, prompt: "Why?" },
          ],
          keys: { q: { type: "true-false", correct: true }, w: { type: "short-text", mode: "normalized", accepted: ["because"] } },
        },
      }),
    );
    await openPage(p, `/assessments/${sprint.id}`, "Sprint");
    await activate(p, p.getByRole("button", { name: "Start" }));
    await p.getByRole("heading", { level: 1, name: "Sprint: attempt 1" }).waitFor();
    const attemptId = new URL(p.url()).pathname.split("/").pop() as string;
    await tabTo(p, p.getByRole("radio", { name: "True" }));
    await p.keyboard.press("Space");
    const own = apiClient(started.app, learner.accessToken);
    const attempt = () => must(own.GET("/v1/attempts/{attemptId}", { params: { path: { attemptId } } }));
    await expect.poll(async () => (await attempt()).answers.q).toBe(true);

    await started.db.sql`update attempts set deadline_at = now() + interval '6 seconds' where id = ${attemptId}`;
    await p.reload();
    await p.getByRole("heading", { level: 1, name: "Sprint: attempt 1" }).waitFor();
    const text = "because the bell rings soon and every word counts";
    // ~8 s of typing, a key every 160 ms: it goes on past the deadline.
    await tabTo(p, p.getByRole("textbox", { name: "Your answer", exact: true }));
    await p.keyboard.type(text, { delay: 160 });
    await p.getByRole("alert").filter({ hasText: "The time is up." }).waitFor();
    expect(await p.getByRole("radio", { name: "True" }).isDisabled()).toBe(true);
    await expectAccessible(p, "an attempt past its deadline");
    // The server submits past-deadline attempts from its attempt-deadlines sweep (behind each attempt's durable timer,
    // still set for the original deadline): the sweep is run until it has.
    await expect
      .poll(
        async () => {
          await fireFunction(started.app, "attempt-deadlines");
          return (await attempt()).submittedAt;
        },
        { timeout: 20_000, interval: 500 },
      )
      .not.toBeNull();
    const saved = (await attempt()).answers.w;
    expect(typeof saved === "string" && saved.length > 0 && text.startsWith(saved), `saved before the deadline: ${JSON.stringify(saved)}`).toBe(true);

    await activate(p, p.getByRole("link", { name: "See what was saved" }));
    await p.getByRole("heading", { level: 1, name: "Submission: attempt 1" }).waitFor();
    await expect
      .poll(
        async () => {
          await p.reload();
          await p.getByText("Started").waitFor();
          return p.getByText("(by the server, at the deadline)").count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    expect(tab.errors).toEqual([]);
    await tab.context.close();
  }, 40_000);

  it("fits every page it visited at 360 px", async () => {
    screenshotOnFailure(page, "assessments-phone");
    await page.setViewportSize(phone);
    for (const path of visited) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await settled();
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
      // axe at 360 px too: what only the narrow layout has (scrolling tables) is checked as well.
      await expectAccessible(page, `${path} at 360 px`);
    }
  }, 30_000);
});
