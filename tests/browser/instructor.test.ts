import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { apiClient, must } from "../support/api-client.js";
import { activate, expectAccessible, expectNoSidewaysScroll, launchBrowser, openPage, phone, screenshotOnFailure, settled, signedInPage, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let instructor: TestUser;
let learner: TestUser;
/** A second learner, so the gradebook has more than one page at a page size of 1. */
let classmate: TestUser;
/** What the journey built, for the 360 px pass over the same pages. */
const built = { courseId: "", submissionId: "" };

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitFor(what, probe, { timeoutMs: 20_000, diagnostics: () => recentErrors(started.app) });

beforeAll(async () => {
  // Grading runs through the outbox and the grading orchestration: sweep often, keep durable state in memory.
  [started, browser] = await Promise.all([startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *", LOCAL_DURABLE_DATA: "memory" }), launchBrowser()]);
  [instructor, learner, classmate] = await Promise.all([
    // A new instructor: no course yet and no admin rights, only the role that lets them create their first course.
    signUp(started.app, started.db, { courseCreator: true, label: "instructor" }),
    signUp(started.app, started.db, { label: "learner" }),
    signUp(started.app, started.db, { label: "classmate" }),
  ]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

const heading = (page: Page, name: string | RegExp) => page.getByRole("heading", { level: 1, name }).waitFor();

describe("the instructor pages", () => {
  it("builds a course through the UI, grades the learner's essay from the queue, exports the gradebook and shows the charts", async () => {
    const { page, context, errors } = await signedInPage(browser, started.app, instructor);
    screenshotOnFailure(page, "instructor-journey");
    await openPage(page, "/teach", "Teaching");

    // A new course, with the keyboard alone.
    await activate(page, page.getByRole("link", { name: "New course" }));
    await heading(page, "New course");
    await typeInto(page, page.getByLabel("Title"), "Optics");
    await typeInto(page, page.getByLabel("Code (optional)"), "PHY-210");
    await activate(page, page.getByRole("button", { name: "Create draft course" }));
    await heading(page, "Manage: Optics");
    const courseId = /\/courses\/([0-9a-f-]{36})\/manage/.exec(page.url())?.[1] as string;
    expect(courseId).toBeTruthy();
    built.courseId = courseId;
    // Its lists load after the heading; let them arrive so the keyboard's Enter is not lost in a re-render.
    await page.getByText("No assessment yet.").waitFor();
    await settled(page);

    // A module, with the keyboard alone; then a text lesson and a file lesson (the file goes straight to Blob).
    await activate(page, page.getByRole("link", { name: "Modules and lessons" }));
    await heading(page, "Content: Optics");
    await typeInto(page, page.getByLabel("Module title"), "Week 1");
    await activate(page, page.getByRole("button", { name: "Add module" }));
    await page.getByRole("status").filter({ hasText: "Module “Week 1” added." }).waitFor();
    const week = page.getByRole("region", { name: "Week 1" });
    await week.getByLabel("Lesson title").fill("Light as a wave");
    await week.getByLabel("Text (Markdown)").fill("Light **bends** at an edge.");
    await week.getByRole("button", { name: "Add lesson to Week 1" }).click();
    await page.getByRole("status").filter({ hasText: "Lesson “Light as a wave” added." }).waitFor();
    await week.getByLabel("Lesson title").fill("Lecture notes");
    await week.getByLabel("Kind").selectOption("file");
    await week.getByLabel("File", { exact: true }).setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Snell's law: n1 sin a = n2 sin b\n") });
    // The first PUT to Blob fails: the lesson is kept, and the retry uploads to it instead of creating a second one.
    let refused = false;
    await page.route(
      (url) => !url.pathname.startsWith("/api/") && url.origin !== new URL(page.url()).origin,
      async (route) => {
        if (!refused && route.request().method() === "PUT") {
          refused = true;
          await route.abort();
        } else await route.fallback();
      },
    );
    await week.getByRole("button", { name: "Add lesson to Week 1" }).click();
    await week.getByText("was created, but its file was not uploaded").waitFor();
    await week.getByRole("button", { name: "Retry the upload to Week 1" }).click();
    await week.getByText("file: notes.txt").waitFor();
    await page.unrouteAll();
    await expect.poll(() => week.getByRole("list", { name: "Lessons of Week 1" }).locator("strong").allTextContents()).toEqual(["Light as a wave", "Lecture notes"]);
    // Reordering is a button press, not a drag.
    await week.getByRole("button", { name: "Move up Lecture notes" }).click();
    await expect.poll(() => week.getByRole("list", { name: "Lessons of Week 1" }).locator("strong").allTextContents()).toEqual(["Lecture notes", "Light as a wave"]);

    // A quiz with every item type, its keys and rules.
    await page.goto(`/courses/${courseId}/manage/assessments/new`);
    await heading(page, "New assessment");
    await page.getByLabel("Title").first().fill("Week 1 quiz");
    const item = (n: number) => page.getByRole("group", { name: `Item ${n}`, exact: true });
    const addItem = async (n: number, type: string, prompt: string) => {
      if (n > 1) await page.getByRole("button", { name: "Add an item" }).click();
      await item(n).getByLabel("Type").selectOption(type);
      await item(n).getByLabel("Question").fill(prompt);
    };
    await addItem(1, "single", "Which is a wave property?");
    await item(1).getByLabel("Choice 1 text").fill("Diffraction");
    await item(1).getByLabel("Choice 2 text").fill("Mass");
    await addItem(2, "multiple", "Which are colours of the spectrum?");
    await item(2).getByLabel("Choice 1 text").fill("Red");
    await item(2).getByLabel("Choice 2 text").fill("Blue");
    await item(2).getByLabel("Choice 2 is correct").check();
    await addItem(3, "true-false", "Light travels at a finite speed.");
    await addItem(4, "numeric", "Refractive index of vacuum?");
    await item(4).getByLabel("Correct number").fill("1");
    await addItem(5, "short-text", "Name the law of refraction.");
    await item(5).getByLabel("Accepted answers, one a line").fill("Snell's law\nSnell");
    await addItem(6, "essay", "Explain diffraction in your own words.");
    await item(6).getByLabel("Points").fill("5");
    await addItem(7, "file", "Upload a sketch of the experiment (optional).");
    await page.getByLabel("Due").fill("2030-01-10T17:00");
    await page.getByLabel("Time limit (minutes)").fill("30");
    await page.getByLabel("Late work").selectOption("per-day");
    await page.getByLabel("Penalty (%)").fill("10");
    // axe runs here on the states the 360 px pass does not see (every item type; the grading form); that pass covers
    // every page once.
    await expectAccessible(page, "/courses/:id/manage/assessments/new with every item type");
    await page.getByRole("button", { name: "Create assessment" }).click();
    await heading(page, "Manage: Optics");
    await page.getByText("Week 1 quiz").waitFor();
    await activate(page, page.getByRole("button", { name: "Publish" }));
    await page.getByRole("status").filter({ hasText: "The course is published." }).waitFor();

    // Settings saved over someone else's change: 412, said as such, with a reload that shows their change.
    const asInstructor = apiClient(started.app, instructor.accessToken);
    await must(asInstructor.PATCH("/v1/courses/{courseId}", { params: { path: { courseId } }, body: { description: "Changed in another tab." } }));
    await page.getByLabel("Pass mark (%)").fill("70");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("alert").filter({ hasText: "Someone else changed this course" }).waitFor();
    await page.getByRole("button", { name: "Reload the course" }).click();
    await expect.poll(() => page.getByLabel("Description").inputValue()).toBe("Changed in another tab.");
    await page.getByLabel("Pass mark (%)").fill("70");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "The settings are saved." }).waitFor();

    // The learner (through the API) enrolls, answers and submits.
    const asLearner = apiClient(started.app, learner.accessToken);
    await must(asLearner.POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId } }, body: {} }));
    const quiz = (await must(asLearner.GET("/v1/courses/{courseId}/assessments", { params: { path: { courseId } } }))).items[0]!;
    const attempt = await must(asLearner.POST("/v1/assessments/{assessmentId}/attempts", { params: { path: { assessmentId: quiz.id } } }));
    const answers = { q1: "a", q2: ["a", "b"], q3: true, q4: 1, q5: "snell", q6: "Waves bend around an edge and spread out." };
    await must(asLearner.PUT("/v1/attempts/{attemptId}/answers", { params: { path: { attemptId: attempt.id } }, body: { answers } }));
    await must(asLearner.POST("/v1/attempts/{attemptId}/submit", { params: { path: { attemptId: attempt.id } } }));
    built.submissionId = attempt.id;
    const asClassmate = apiClient(started.app, classmate.accessToken);
    await must(asClassmate.POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId } }, body: {} }));
    const waiting = await until("the submission to wait for a grader", async () => {
      const { data } = await asInstructor.GET("/v1/submissions/{submissionId}/grading", { params: { path: { submissionId: attempt.id } } });
      return data?.customStatus?.phase === "waiting-for-grader" ? data.customStatus.items : undefined;
    });

    // The instructor grades the essay from the queue, with the keyboard alone.
    await activate(page, page.getByRole("link", { name: "Grading queue" }));
    await heading(page, "Grading: Optics");
    await activate(page, page.getByRole("link", { name: /^Grade learner/ }));
    await heading(page, "Grade: Week 1 quiz");
    await page.getByText("Waves bend around an edge and spread out.").waitFor();
    await expectAccessible(page, "/submissions/:id/grade with its form");
    // Only the essay waits (the file item was left unanswered), numbered as in the editor, with its prompt.
    expect(waiting).toEqual(["q6"]);
    await expect.poll(() => page.getByRole("heading", { level: 2 }).allTextContents()).toEqual(["Item 6 (5 points)"]);
    await page.getByText("Explain diffraction in your own words.").waitFor();
    await typeInto(page, page.getByLabel("Points for item 6 (out of 5)"), "4");
    await typeInto(page, page.getByLabel("Feedback on item 6"), "Good: say why the wavelength matters.");
    await activate(page, page.getByRole("button", { name: "Save grades" }));
    const graded = page.getByRole("status").filter({ hasText: "Graded." });
    await graded.waitFor();
    // The form went away with the last waiting item: focus is on the status that says so, not on <body>.
    await expect.poll(() => graded.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    await page.goto(`/courses/${courseId}/grading`);
    await page.getByText("Nothing is waiting to be graded.").waitFor();

    // The learner sees the grade through the API.
    const grade = await until("the learner's grade", async () => {
      const { data } = await asLearner.GET("/v1/me/grades", { params: { query: { courseId } } });
      return data?.items[0]?.grades.find((g) => g.submissionId === attempt.id);
    });
    expect(grade.percent).toBeGreaterThan(0);

    // The gradebook and its CSV export (a download of an object URL made from the typed client's blob).
    await page.goto(`/courses/${courseId}/gradebook`);
    await heading(page, "Gradebook: Optics");
    await page.getByRole("rowheader", { name: /learner/ }).waitFor();
    await page.getByRole("button", { name: "Export as CSV" }).click();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: /^Download gradebook-PHY-210\.csv/ }).click()]);
    const csv = await readFile((await download.path()) as string, "utf8");
    const lines = csv.trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/Week 1 quiz/);
    // Every learner, one header: the export is one file however many pages the learners take.
    expect(lines).toHaveLength(3);
    expect(csv).toContain(learner.email);
    expect(csv).toContain(classmate.email);
    const pagedCsv = await must(asInstructor.GET("/v1/courses/{courseId}/gradebook", { params: { path: { courseId }, query: { format: "csv", limit: 1 } }, parseAs: "text" }));
    expect(pagedCsv).toBe(csv);

    // Analytics: the numbers and the four SVG charts, fetched with the token and shown through object URLs.
    await page.goto(`/courses/${courseId}/analytics`);
    await heading(page, "Analytics: Optics");
    const charts = page.locator("figure img");
    await expect.poll(() => charts.count()).toBe(4);
    await expect
      .poll(() => charts.evaluateAll((imgs) => (imgs as unknown as { naturalWidth: number; src: string }[]).map((i) => i.naturalWidth > 0 && i.src.startsWith("blob:"))))
      .toEqual([true, true, true, true]);

    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it("passes axe and fits 360 px on every instructor page", async () => {
    expect(built.courseId, "the journey built a course").toBeTruthy();
    const { page, context, errors } = await signedInPage(browser, started.app, instructor, phone);
    screenshotOnFailure(page, "instructor-360");
    const c = built.courseId;
    for (const [path, title] of [
      ["/teach", "Teaching"],
      ["/teach/new", "New course"],
      [`/courses/${c}/manage`, "Manage: Optics"],
      [`/courses/${c}/manage/content`, "Content: Optics"],
      [`/courses/${c}/manage/assessments/new`, "New assessment"],
      [`/courses/${c}/grading`, "Grading: Optics"],
      [`/submissions/${built.submissionId}/grade`, "Grade: Week 1 quiz"],
      [`/courses/${c}/gradebook`, "Gradebook: Optics"],
      [`/courses/${c}/analytics`, "Analytics: Optics"],
    ] as const) {
      // Loading lines and charts still on their way carry aria-busy: openPage waits for them, to check the page as it ends up.
      await openPage(page, path, title);
      await expectAccessible(page, `${path} at 360 px`);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
