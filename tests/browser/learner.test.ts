import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { apiClient, must } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, expectAccessible, expectNoSidewaysScroll, launchBrowser, openApp, openPage, phone, screenshotOnFailure, signedInPage, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { strongPassword, type TestUser, signUp, uniqueEmail } from "../support/identity.js";
import { waitForMail } from "../support/mailbox.js";

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let admin: TestUser;

beforeAll(async () => {
  // The outbox is swept every second so completion turns into a certificate within the test.
  [started, browser] = await Promise.all([startAppOnOwnDatabase({ OUTBOX_SWEEP_SCHEDULE: "*/1 * * * * *" }), launchBrowser()]);
  admin = await signUp(started.app, started.db, { admin: true, label: "course-author" });
});
afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
});

const chart = "Polaris: RA 2h 31m, Dec +89°";

/** A published course with one module: a text lesson and a file lesson (uploaded straight to Blob), set up through the API. */
async function publishedCourse(title: string, options: { capacity?: number; waitlistMode?: "auto" | "offer" } = {}) {
  const client = apiClient(started.app, admin.accessToken);
  const course = await must(client.POST("/v1/courses", { body: { title, description: `Learn ${title.toLowerCase()} from the ground up.`, capacity: options.capacity ?? null, waitlistEnabled: true, waitlistMode: options.waitlistMode ?? "auto" } }));
  await must(client.POST("/v1/courses/{courseId}/publish", { params: { path: { courseId: course.id } } }));
  const mod = await must(client.POST("/v1/courses/{courseId}/modules", { params: { path: { courseId: course.id } }, body: { title: "The night sky" } }));
  const path = { courseId: course.id, moduleId: mod.id };
  await must(client.POST("/v1/courses/{courseId}/modules/{moduleId}/lessons", { params: { path }, body: { title: "Stars", kind: "text", body: "# Stars\n\nStars are suns, far away." } }));
  const file = await must(client.POST("/v1/courses/{courseId}/modules/{moduleId}/lessons", { params: { path }, body: { title: "Star chart", kind: "file" } }));
  const bytes = Buffer.from(chart);
  const grant = await must(client.POST("/v1/lessons/{lessonId}/files", { params: { path: { lessonId: file.id } }, body: { fileName: "chart.txt", contentType: "text/plain", sizeBytes: bytes.length } }));
  const put = await fetch(grant.url, { method: grant.method, headers: grant.headers, body: bytes });
  expect(put.status).toBe(201);
  await must(client.POST("/v1/lessons/{lessonId}/files/confirm", { params: { path: { lessonId: file.id } } }));
  return course;
}

/** The path and query of the first link to the app in a mail's text. */
function linkIn(text: string, path: string): string {
  const match = new RegExp(`https?://[^\\s"<>]*(${path}[^\\s"<>]*)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return match[1]!;
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: /^Welcome/ }).waitFor();
}

describe("the learner's pages", () => {
  // Signing up, confirming the email, finding and enrolling in a course, completing its lessons and downloading the
  // certificate: tests/browser/course-journey.test.ts (one story with the instructor's side; axe on each state there).
  it("shows a PDF lesson inline in a frame (an inline read URL) and keeps the Download link an attachment", async () => {
    const client = apiClient(started.app, admin.accessToken);
    const course = await must(client.POST("/v1/courses", { body: { title: "Optics" } }));
    const mod = await must(client.POST("/v1/courses/{courseId}/modules", { params: { path: { courseId: course.id } }, body: { title: "Light" } }));
    const lesson = await must(client.POST("/v1/courses/{courseId}/modules/{moduleId}/lessons", { params: { path: { courseId: course.id, moduleId: mod.id } }, body: { title: "Lenses", kind: "file" } }));
    const bytes = Buffer.from("%PDF-1.4\n%%EOF\n");
    const grant = await must(client.POST("/v1/lessons/{lessonId}/files", { params: { path: { lessonId: lesson.id } }, body: { fileName: "lenses.pdf", contentType: "application/pdf", sizeBytes: bytes.length } }));
    expect((await fetch(grant.url, { method: grant.method, headers: grant.headers, body: bytes })).status).toBe(201);
    await must(client.POST("/v1/lessons/{lessonId}/files/confirm", { params: { path: { lessonId: lesson.id } } }));
    const { page, context } = await signedInPage(browser, started.app, admin);
    screenshotOnFailure(page, "learner-pdf-lesson");
    await openPage(page, `/lessons/${lesson.id}`, "Lenses");
    const frame = page.locator('iframe[title="lenses.pdf"]');
    await frame.waitFor({ state: "attached" });
    const shown = await page.request.get((await frame.getAttribute("src"))!);
    expect(shown.headers()["content-disposition"]).toMatch(/^inline;/);
    const saved = await page.request.get((await page.getByRole("link", { name: "Download lenses.pdf" }).getAttribute("href"))!);
    expect(saved.headers()["content-disposition"]).toMatch(/^attachment;/);
    await context.close();
  }, 30_000);

  it("puts a learner on the waitlist of a full course and lets them take the seat offered when one frees, at 360 px", async () => {
    const course = await publishedCourse("Cartography", { capacity: 1, waitlistMode: "offer" });
    const first = await signUp(started.app, started.db, { label: "first" });
    await must(apiClient(started.app, first.accessToken).POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId: course.id } }, body: {} }));
    const second = await signUp(started.app, started.db, { label: "Second" });
    const { page, context, errors } = await openApp(browser, started.app, phone);
    screenshotOnFailure(page, "learner-waitlist");
    await signIn(page, second.email, second.password);
    await page.goto(`/courses/${course.id}`);
    await page.getByText("The course is full; the waitlist is open.").waitFor();
    await activate(page, page.getByRole("button", { name: "Join the waitlist" }));
    await page.getByRole("status").filter({ hasText: "You are on the waitlist, number 1." }).waitFor();
    await expectAccessible(page, "course, waitlisted");
    await expectNoSidewaysScroll(page, "course at 360 px");
    await page.getByRole("link", { name: "Ringlet" }).click();
    await page.getByText("On the waitlist, number 1").waitFor();
    await expectNoSidewaysScroll(page, "home at 360 px");

    // The first learner leaves: the seat is offered to the next in line, who takes it on the offer page.
    const left = await apiClient(started.app, first.accessToken).DELETE("/v1/courses/{courseId}/enrollments/{userId}", { params: { path: { courseId: course.id, userId: first.id } } });
    expect(left.response.status).toBe(204);
    await page.getByRole("link", { name: "Catalog" }).click();
    await page.getByRole("heading", { level: 1, name: "Catalog" }).waitFor();
    await page.getByRole("link", { name: "Ringlet" }).click();
    await page.getByRole("link", { name: "Accept or decline the seat" }).click();
    await page.getByRole("heading", { level: 1, name: "A seat in Cartography" }).waitFor();
    await expectAccessible(page, "offer");
    await expectNoSidewaysScroll(page, "offer at 360 px");
    await activate(page, page.getByRole("button", { name: "Accept the seat" }));
    await page.getByRole("status").filter({ hasText: "The seat is yours." }).waitFor();

    // Dropping out asks first, on the page (Cancel keeps the seat), and the keyboard ends on what happened.
    await page.goto(`/courses/${course.id}`);
    await activate(page, page.getByRole("button", { name: "Drop out" }));
    await page.getByRole("group", { name: "Leave “Cartography”?" }).waitFor();
    await activate(page, page.getByRole("button", { name: "Cancel" }));
    await expect.poll(() => page.locator("button:focus", { hasText: "Drop out" }).count()).toBe(1);
    await page.keyboard.press("Enter");
    await activate(page, page.getByRole("button", { name: "Yes, leave" }));
    await page.getByRole("status").filter({ hasText: "You left the course." }).waitFor();
    await expect.poll(() => page.locator('[role="status"]:focus').filter({ hasText: "You left the course." }).count()).toBe(1);
    await page.getByRole("button", { name: "Enroll" }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("resets a forgotten password through the emailed link and signs in with the new one", async () => {
    const user = await signUp(started.app, started.db, { label: "Forgetful" });
    const { page, context, errors } = await openApp(browser, started.app);
    screenshotOnFailure(page, "learner-reset");
    await page.goto("/sign-in");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByRole("heading", { level: 1, name: "Forgot your password?" }).waitFor();
    await typeInto(page, page.getByLabel("Email"), user.email);
    await activate(page, page.getByRole("button", { name: "Send the link" }));
    await page.getByRole("status").filter({ hasText: /.+/ }).waitFor();
    await expectAccessible(page, "forgot-password, sent");
    const mail = await waitForMail(started.app, user.email, "Reset your Ringlet password");
    await page.goto(linkIn(mail.text, "/reset-password"));
    await page.getByRole("heading", { level: 1, name: "Choose a new password" }).waitFor();
    const newPassword = strongPassword();
    await typeInto(page, page.getByLabel("New password"), newPassword);
    await activate(page, page.getByRole("button", { name: "Change the password" }));
    await page.getByRole("status").filter({ hasText: "Your password is changed." }).waitFor();
    await expectAccessible(page, "reset-password, done");
    await signIn(page, user.email, newPassword);
    await page.getByRole("heading", { level: 1, name: "Welcome, Forgetful" }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("accepts a course invitation from its email, signing in first and coming back to it", async () => {
    const course = await publishedCourse("Botany");
    const invited = await signUp(started.app, started.db, { label: "Invited" });
    await must(apiClient(started.app, admin.accessToken).POST("/v1/courses/{courseId}/invitations", { params: { path: { courseId: course.id } }, body: { email: invited.email } }));
    const mail = await waitForMail(started.app, invited.email, "You are invited to Botany");
    const { page, context, errors } = await openApp(browser, started.app);
    screenshotOnFailure(page, "course-invitation");
    await page.goto(linkIn(mail.text, "/invitations/accept"));
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await typeInto(page, page.getByLabel("Email"), invited.email);
    await typeInto(page, page.getByLabel("Password"), invited.password);
    await activate(page, page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { level: 1, name: "Course invitation" }).waitFor();
    await activate(page, page.getByRole("button", { name: "Accept the invitation" }));
    await page.getByRole("status").filter({ hasText: "Enrolled." }).waitFor();
    await expectAccessible(page, "course invitation, accepted");
    await page.getByRole("link", { name: "Open the course" }).click();
    await page.getByRole("heading", { level: 1, name: "Botany" }).waitFor();
    await page.getByText("Enrolled.").waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("creates an invited account from its email and signs in with it", async () => {
    const email = uniqueEmail("newcomer");
    await must(apiClient(started.app, admin.accessToken).POST("/v1/users/invitations", { body: { email, displayName: "Newcomer" } }));
    const mail = await waitForMail(started.app, email, "You are invited to Ringlet");
    const { page, context, errors } = await openApp(browser, started.app);
    screenshotOnFailure(page, "account-invitation");
    await page.goto(linkIn(mail.text, "/accept-invitation"));
    await page.getByRole("heading", { level: 1, name: "Create your account" }).waitFor();
    await typeInto(page, page.getByLabel("Password"), strongPassword());
    await activate(page, page.getByRole("button", { name: "Create the account" }));
    await page.getByRole("heading", { level: 1, name: "Welcome, Newcomer" }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("passes axe and fits 360 px on the pages emails link to", async () => {
    const { page, context, errors } = await openApp(browser, started.app, phone);
    screenshotOnFailure(page, "email-pages-360");
    const signedOut: [string, string][] = [
      ["/forgot-password", "Forgot your password?"],
      ["/reset-password?token=x", "Choose a new password"],
      ["/verify-email?token=x", "Confirm your email"],
      ["/accept-invitation?token=x", "Create your account"],
      ["/account/erasure/cancel?token=x", "Keep your account"],
      ["/certificates/verify/AAAA-BBBB-CCCC", "Verify a certificate"],
    ];
    for (const [path, title] of signedOut) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1, name: title }).waitFor();
      await expectAccessible(page, `${path} at 360 px`);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it("passes axe and fits 360 px on the signed-in learner and account pages", async () => {
    const user = await signUp(started.app, started.db, { label: "Phone" });
    const course = await publishedCourse("Geology");
    await must(apiClient(started.app, user.accessToken).POST("/v1/courses/{courseId}/enrollments", { params: { path: { courseId: course.id } }, body: {} }));
    const lesson = (await must(apiClient(started.app, user.accessToken).GET("/v1/courses/{courseId}/modules", { params: { path: { courseId: course.id } } }))).items[0]!.lessons![1]!;
    const { page, context, errors } = await openApp(browser, started.app, phone);
    screenshotOnFailure(page, "learner-pages-360");
    await signIn(page, user.email, user.password);
    const signedIn: [string, string | RegExp, string][] = [
      ["/", "Welcome, Phone", "Geology"],
      [`/courses/${course.id}`, "Geology", "Star chart"],
      [`/lessons/${lesson.id}`, "Star chart", "Download chart.txt"],
      [`/courses/${course.id}/offer`, "A seat in Geology", "no open offer"],
      ["/certificates", "My certificates", "No certificate yet"],
      ["/invitations/accept?token=x", "Course invitation", "Accept the invitation"],
    ];
    for (const [path, title, content] of signedIn) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1, name: title }).waitFor();
      await page.getByText(content).first().waitFor();
      await expectAccessible(page, `${path} at 360 px`);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it("passes axe and fits 360 px on the account page, two-factor enrolment included", async () => {
    const user = await signUp(started.app, started.db, { label: "Account" });
    const { page, context, errors } = await openApp(browser, started.app, phone);
    screenshotOnFailure(page, "account-360");
    await signIn(page, user.email, user.password);
    await page.goto("/account");
    await page.getByText("This browser").waitFor();
    await expectAccessible(page, "/account at 360 px");
    await expectNoSidewaysScroll(page, "/account at 360 px");
    // Two-factor enrolment shows the secret and its otpauth link as text (no QR library), within 360 px.
    await page.getByLabel("Your password (to turn it on)").fill(user.password);
    await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await page.getByRole("button", { name: "Copy the secret" }).waitFor();
    expect(await page.getByLabel("Link for authenticator apps (otpauth)").inputValue()).toMatch(/^otpauth:\/\/totp\//);
    await expectAccessible(page, "/account, two-factor enrolment");
    await expectNoSidewaysScroll(page, "/account, two-factor enrolment at 360 px");
    expect(errors).toEqual([]);
    await context.close();
  });
});
