import { createServer, type Server } from "node:http";
import { ServiceBusClient } from "@azure/service-bus";
import type { Browser, Page } from "playwright-core";
import { v7 as uuidv7 } from "uuid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, must } from "../support/api-client.js";
import { type RunningApp, startAppOnOwnDatabase, stopAppAndDatabase } from "../support/app.js";
import { activate, desktop, expectAccessible, expectNoSidewaysScroll, launchBrowser, openPage, phone, screenshotOnFailure, signedInPage, tabTo, typeInto } from "../support/browser.js";
import type { TestDatabase } from "../support/database.js";
import { signUp, type TestUser } from "../support/identity.js";
import { recentErrors, waitFor } from "../support/wait-for.js";

let started: { db: TestDatabase; app: RunningApp };
let browser: Browser;
let admin: TestUser;
/** A webhook receiver on loopback that answers 204 to everything. */
let receiver: Server;
let receiverUrl: string;
let webhookId: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;
  [started, browser] = await Promise.all([startAppOnOwnDatabase({ WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true" }), launchBrowser()]);
  admin = await signUp(started.app, started.db, { admin: true, label: "ada" });
  const hook = await must(apiClient(started.app, admin.accessToken).POST("/v1/webhooks", { body: { url: receiverUrl, eventTypes: ["lesson.completed"], description: "lessons" } }));
  webhookId = hook.id;
});
afterAll(async () => {
  await browser?.close();
  await stopAppAndDatabase(started ?? {});
  await new Promise((r) => receiver?.close(r));
});

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => waitFor(what, probe, { timeoutMs, diagnostics: () => recentErrors(started.app) });

/** The app opened as the administrator (its own fresh sign-in per context). */
const asAdmin = (viewport = desktop) => signedInPage(browser, started.app, admin, viewport);

/** How many elements matching `selector` (and holding `text`) have the keyboard focus: 1 or 0. */
const focusedCount = (page: Page, selector: string, text: string | RegExp) => page.locator(`${selector}:focus`).filter({ hasText: text }).count();

/** A valid `lesson.completed` envelope on the topic (a course nobody is in: only the webhooks subscription reacts). */
async function publishLessonCompleted(): Promise<string> {
  const id = uuidv7();
  const data = { lessonId: uuidv7(), courseId: uuidv7(), userId: uuidv7(), completedAt: new Date().toISOString() };
  const body = { id, type: "lesson.completed", occurredAt: new Date().toISOString(), actor: { userId: null }, data, traceparent: null };
  const client = new ServiceBusClient(started.app.env.ServiceBusConnection as string);
  try {
    await client.createSender("lms-events").sendMessages({ messageId: id, subject: "lesson.completed", contentType: "application/json", body });
  } finally {
    await client.close();
  }
  return id;
}

describe("the administrator's pages", () => {
  it("replays a real dead letter with the keyboard: it leaves the list and is handled", async () => {
    const api = apiClient(started.app, admin.accessToken);
    // A real fault: the webhooks handler's table is gone, so every delivery of the event throws until the broker
    // dead-letters it at the subscription's max delivery count.
    await started.db.sql`alter table webhook_deliveries rename to webhook_deliveries_away`;
    let eventId: string;
    try {
      eventId = await publishLessonCompleted();
      await until("the dead letter", async () => (await must(api.GET("/v1/ops/dead-letters", { params: { query: { subscription: "webhooks" } } }))).items.find((d) => d.messageId === eventId));
    } finally {
      await started.db.sql`alter table webhook_deliveries_away rename to webhook_deliveries`;
    }

    const { page, context, errors } = await asAdmin();
    screenshotOnFailure(page, "admin-dead-letters");
    await openPage(page, "/administration", "Administration");
    await expect.poll(() => page.locator("dt:text-is('Dead letters') + dd").textContent()).toBe("1 review them");
    await activate(page, page.getByRole("link", { name: "Dead letters", exact: true }));
    await page.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
    const replay = page.getByRole("button", { name: `Replay lesson.completed ${eventId}` });
    await replay.waitFor();
    await expect.poll(() => page.getByRole("row").filter({ hasText: eventId }).textContent()).toMatch(/MaxDeliveryCountExceeded/);
    await expectAccessible(page, "/administration/dead-letters with a dead letter");
    await activate(page, replay);
    await expect.poll(() => page.getByRole("status").filter({ hasText: "sent again" }).textContent()).toBe("1 message of webhooks sent again.");
    // The pressed button left with its row: the keyboard is on the status that says what happened, not on <body>.
    await expect.poll(() => focusedCount(page, '[role="status"]', "1 message of webhooks sent again.")).toBe(1);
    // The page read the list again: the message is gone from it, and the subscription handled it this time.
    await page.getByText("No dead letters: every subscription handled its messages.").waitFor();
    expect((await must(api.GET("/v1/ops/dead-letters", { params: { query: { subscription: "webhooks" } } }))).items).toEqual([]);
    await until("the replayed event handled", async () => {
      const [row] = await started.db.sql`select 1 from webhook_deliveries where event_id = ${eventId}`;
      return row;
    });
    expect(await started.db.sql`select subscription from inbox where message_id = ${eventId} and subscription = 'webhooks'`).toHaveLength(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("grants a user the admin role from the user page, and the audit log shows the change", async () => {
    const someone = await signUp(started.app, started.db, { label: "grace" });
    const { page, context, errors } = await asAdmin();
    screenshotOnFailure(page, "admin-roles");
    await openPage(page, "/administration/users", "Users");
    await typeInto(page, page.getByLabel("Email contains"), someone.email.split("@")[0] as string);
    await activate(page, page.getByRole("button", { name: "Search" }));
    const link = page.getByRole("link", { name: "grace", exact: true });
    await expect.poll(() => page.getByRole("row").count()).toBe(2);

    // An invitation sent and withdrawn, the withdrawal confirmed first (the confirm button takes the focus).
    const invitee = `invitee-${someone.id.slice(-8)}@example.test`;
    await typeInto(page, page.getByLabel("Email to invite"), invitee);
    await activate(page, page.getByRole("button", { name: "Send invitation" }));
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Invitation" }).textContent()).toBe(`Invitation sent to ${invitee}.`);
    await activate(page, page.getByRole("button", { name: `Withdraw the invitation to ${invitee}` }));
    // The confirm button takes the focus once it shows: Enter on it (activate waits for it, then presses).
    await activate(page, page.getByRole("button", { name: "Withdraw it" }));
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Invitation" }).textContent()).toBe(`Invitation to ${invitee} withdrawn.`);
    await page.getByText("No pending invitation.").waitFor();

    await activate(page, link);
    await page.getByRole("heading", { level: 1, name: "grace", exact: true }).waitFor();
    const adminBox = page.getByRole("checkbox", { name: "Administrator" });
    await tabTo(page, adminBox);
    await page.keyboard.press("Space");
    expect(await adminBox.isChecked()).toBe(true);
    await activate(page, page.getByRole("button", { name: "Save roles" }));
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Roles saved" }).textContent()).toBe("Roles saved: Administrator.");
    await expect.poll(() => page.locator("dt:text-is('Roles') + dd").textContent()).toBe("Administrator");
    expect((await must(apiClient(started.app, admin.accessToken).GET("/v1/users/{userId}", { params: { path: { userId: someone.id } } }))).roles).toEqual(["admin"]);

    await activate(page, page.getByRole("link", { name: "Audit log entries about this user" }));
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    const row = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: "user.roles-changed" }) });
    await row.waitFor();
    expect(await row.textContent()).toContain('"after":["admin"]');
    expect(errors).toEqual([]);
    await context.close();
  });

  it("registers a webhook and shows its signing secret once", async () => {
    const { page, context, errors } = await asAdmin();
    screenshotOnFailure(page, "admin-webhooks");
    await openPage(page, "/administration/webhooks", "Webhooks");
    await typeInto(page, page.getByLabel("URL (HTTPS)"), `${receiverUrl}?from=ui`);
    await typeInto(page, page.getByLabel("Description (optional)"), "from the admin page");
    await tabTo(page, page.getByRole("checkbox", { name: "enrollment.created" }), 120);
    await page.keyboard.press("Space");
    await activate(page, page.getByRole("button", { name: "Register endpoint" }));
    await page.getByText("you will not see it again").waitFor();
    const secret = await page.getByRole("textbox", { name: "Signing secret" }).inputValue();
    expect(secret.length).toBeGreaterThan(20);
    await expectAccessible(page, "/administration/webhooks with the new secret");
    const listed = (await must(apiClient(started.app, admin.accessToken).GET("/v1/webhooks"))).items.find((h) => h.url === `${receiverUrl}?from=ui`);
    expect(listed).toMatchObject({ eventTypes: ["enrollment.created"], description: "from the admin page", active: true });
    expect(JSON.stringify(listed)).not.toContain(secret);
    await activate(page, page.getByRole("button", { name: "I have saved it" }));
    await expect.poll(() => page.getByRole("textbox", { name: "Signing secret" }).count()).toBe(0);
    // Once means once: the endpoint's own page never shows it.
    await activate(page, page.getByRole("link", { name: `${receiverUrl}?from=ui` }));
    await page.getByRole("heading", { level: 1, name: "Webhook endpoint" }).waitFor();
    await page.getByRole("checkbox", { name: "enrollment.created" }).waitFor();
    expect(await page.getByRole("checkbox", { name: "enrollment.created" }).isChecked()).toBe(true);
    expect(await page.content()).not.toContain(secret);
    // A two-step confirm cancelled puts the keyboard back on the button that opened it.
    const remove = page.getByRole("button", { name: "Delete endpoint…" });
    await activate(page, remove);
    await expect.poll(() => focusedCount(page, "button", /^Delete/)).toBe(1);
    await activate(page, page.getByRole("button", { name: "Cancel" }));
    await expect.poll(() => focusedCount(page, "button", "Delete endpoint…")).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("fits every admin page in 360 px, and axe finds nothing serious there", async () => {
    const { page, context, errors } = await asAdmin(phone);
    screenshotOnFailure(page, "admin-phone");
    for (const [path, heading] of [
      ["/administration", "Administration"],
      ["/administration/users", "Users"],
      [`/administration/users/${admin.id}`, "ada"],
      ["/administration/audit-log", "Audit log"],
      ["/administration/dead-letters", "Dead letters"],
      ["/administration/webhooks", "Webhooks"],
      [`/administration/webhooks/${webhookId}`, "Webhook endpoint"],
    ] as const) {
      await openPage(page, path, heading);
      await expectNoSidewaysScroll(page, `${path} at 360 px`);
      // axe here too: a table scrolling sideways exists only at this width.
      await expectAccessible(page, `${path} at 360 px`);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
