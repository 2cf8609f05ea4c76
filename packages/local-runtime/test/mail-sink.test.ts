import nodemailer, { type SendMailOptions } from "nodemailer";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMailSink, type MailSink, type StoredMail } from "../src/services/mail-sink.js";
import type { StoredSms } from "../src/services/sms-endpoint.js";
import type { BrowserPushSubscription, StoredPush } from "../src/services/push-service.js";
import { escapeHtml } from "../src/html.js";
import { renderMailboxPage } from "../src/mailbox-page.js";
import { copyFixture, freePort, startRuntime, type RunningRuntime } from "./runtime-harness.js";

async function send(url: string, mail: SendMailOptions): Promise<void> {
  const transport = nodemailer.createTransport({ url, ignoreTLS: true });
  try {
    await transport.sendMail(mail);
  } finally {
    transport.close();
  }
}

describe("startMailSink", () => {
  let sink: MailSink | undefined;
  afterEach(async () => {
    await sink?.stop();
    sink = undefined;
  });

  it("accepts a multipart text+html mail over plain SMTP and keeps it parsed", async () => {
    sink = await startMailSink({ port: 0 });
    expect(sink.url).toBe(`smtp://127.0.0.1:${sink.port}`);
    expect(sink.port).toBeGreaterThan(0);
    await send(sink.url, {
      from: '"Example" <noreply@example.test>',
      to: ["Ada Lovelace <ada@example.test>", "bob@example.test"],
      cc: "carol@example.test",
      bcc: "hidden@example.test",
      subject: "Welcome to Example – ünïcode",
      text: "Hello Ada,\nwelcome!",
      html: "<p>Hello <b>Ada</b>, welcome!</p>",
      headers: { "X-Custom-Thing": "custom value" },
    });
    const [mail, ...rest] = sink.messages();
    expect(rest).toHaveLength(0);
    expect(mail).toMatchObject({
      from: "Example <noreply@example.test>",
      to: ["Ada Lovelace <ada@example.test>", "bob@example.test"],
      cc: ["carol@example.test"],
      subject: "Welcome to Example – ünïcode",
      envelope: { from: "noreply@example.test", to: ["ada@example.test", "bob@example.test", "carol@example.test", "hidden@example.test"] },
    } satisfies Partial<StoredMail>);
    // postal-mime keeps the line break that ends each part.
    expect(mail?.text.trim()).toBe("Hello Ada,\nwelcome!");
    expect(mail?.html.trim()).toBe("<p>Hello <b>Ada</b>, welcome!</p>");
    expect(mail?.headers["x-custom-thing"]).toBe("custom value");
    expect(mail?.headers["content-type"]).toMatch(/^multipart\/alternative/);
    expect(mail?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(mail?.receivedAt ?? "")).not.toBeNaN();
    expect(mail?.size).toBeGreaterThan(100);
  });

  it("keeps only the newest maxMessages, newest first, and clears", async () => {
    sink = await startMailSink({ port: 0, maxMessages: 3 });
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: sink.port, secure: false, ignoreTLS: true });
    try {
      for (let i = 1; i <= 5; i++) await transport.sendMail({ from: "a@example.test", to: "b@example.test", subject: `mail ${i}`, text: `body ${i}` });
    } finally {
      transport.close();
    }
    expect(sink.messages().map((m) => m.subject)).toEqual(["mail 5", "mail 4", "mail 3"]);
    // messages() is a copy: changing it does not change the store.
    sink.messages().length = 0;
    expect(sink.messages()).toHaveLength(3);
    sink.clear();
    expect(sink.messages()).toEqual([]);
    await send(sink.url, { from: "a@example.test", to: "b@example.test", subject: "after clear", text: "x" });
    expect(sink.messages().map((m) => m.subject)).toEqual(["after clear"]);
  });

  it("accepts any credentials and refuses messages over the size limit", async () => {
    sink = await startMailSink({ port: 0, maxMessageBytes: 2000 });
    const withAuth = nodemailer.createTransport({ host: "127.0.0.1", port: sink.port, ignoreTLS: true, auth: { user: "someone", pass: "anything" } });
    try {
      await withAuth.sendMail({ from: "a@example.test", to: "b@example.test", subject: "with auth", text: "small" });
      await expect(withAuth.sendMail({ from: "a@example.test", to: "b@example.test", subject: "too big", text: "x".repeat(5000) })).rejects.toThrow(/552|size/i);
    } finally {
      withAuth.close();
    }
    expect(sink.messages().map((m) => m.subject)).toEqual(["with auth"]);
  });

  it("fails to start on a port that is taken", async () => {
    sink = await startMailSink({ port: 0 });
    await expect(startMailSink({ port: sink.port })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe("mailbox page", () => {
  it("escapes every value and puts the HTML body into a sandboxed srcdoc frame", () => {
    const mail: StoredMail = {
      id: "id-1",
      receivedAt: "2024-01-01T00:00:00.000Z",
      from: "Eve <eve@example.test>",
      to: ['"><img src=x onerror=alert(1)>@example.test'],
      cc: [],
      subject: '<script>alert("s")</script>',
      text: "a < b & c",
      html: '<p title="x">"quoted" &amp; <script>alert(1)</script></p>',
      headers: { "x-evil": "</pre><script>" },
      envelope: { from: "eve@example.test", to: ["x@example.test"] },
      attachments: [],
      size: 10,
    };
    const page = renderMailboxPage([mail], { smtpUrl: "smtp://127.0.0.1:1", nonce: "n0nce" });
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain(escapeHtml('<script>alert("s")</script>'));
    expect(page).toContain("a &#60; b &#38; c");
    expect(page).toContain("Eve &#60;eve@example.test&#62;");
    const frame = /<iframe sandbox [^>]*srcdoc="([^"]*)"><\/iframe>/.exec(page);
    expect(frame).not.toBeNull();
    // The attribute decodes back to the mail's HTML exactly.
    const decoded = (frame?.[1] ?? "").replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
    expect(decoded).toBe(mail.html);
    // Only the page's own script (with its nonce) is a real script element.
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).toContain('<script nonce="n0nce">');
    expect(page).not.toMatch(/(src|href)="https?:/);
  });
});

describe("runtime with UseDevelopmentMailbox=true", () => {
  let runtime: RunningRuntime;
  let smtpPort: number;

  beforeAll(async () => {
    smtpPort = await freePort();
    runtime = await startRuntime({
      appRoot: copyFixture("mail-app"),
      env: { LOCAL_MAILBOX_SMTP_PORT: String(smtpPort), SMS_ACS: "UseDevelopmentSms=true", PUSH_ORIGIN: "UseDevelopmentPush=true" },
    });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it("starts a sink, hands the app its smtp:// URL and logs the mailbox page", () => {
    const out = runtime.output();
    expect(out).toContain(`Development mailbox started: smtp://127.0.0.1:${smtpPort} (MAIL_SMTP)`);
    expect(out).toContain(`Mailbox: ${runtime.baseUrl}/admin/mailbox`);
  });

  it("shows mail the app sent in /admin/mailbox/messages and /admin/mailbox, escaped, and clears it", async () => {
    const subject = 'Hello <script>alert("x")</script> & welcome';
    const sent = await fetch(`${runtime.baseUrl}/api/send-mail`, {
      method: "POST",
      body: JSON.stringify({ to: "Ada <ada@example.test>", subject, text: "Plain <b>text</b> body", html: '<h1>Hi "Ada"</h1>' }),
    });
    expect(sent.status).toBe(200);
    expect(await sent.json()).toMatchObject({ smtp: `smtp://127.0.0.1:${smtpPort}`, accepted: ["ada@example.test"] });

    const list = await fetch(`${runtime.baseUrl}/admin/mailbox/messages`);
    expect(list.status).toBe(200);
    expect(list.headers.get("content-type")).toMatch(/^application\/json/);
    const mails = (await list.json()) as StoredMail[];
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      from: "Mail Fixture <noreply@example.test>",
      to: ["Ada <ada@example.test>"],
      subject,
    });
    expect(mails[0]?.html.trim()).toBe('<h1>Hi "Ada"</h1>');
    expect(mails[0]?.headers["x-fixture"]).toBe("mail-app");

    const page = await fetch(`${runtime.baseUrl}/admin/mailbox`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const html = await page.text();
    expect(html).toContain(escapeHtml(subject));
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("Plain &#60;b&#62;text&#60;/b&#62; body");
    expect(html).toContain(`srcdoc="${escapeHtml('<h1>Hi "Ada"</h1>')}`);
    expect(html).toContain("Ada &#60;ada@example.test&#62;");

    const cleared = await fetch(`${runtime.baseUrl}/admin/mailbox/messages`, { method: "DELETE" });
    expect(cleared.status).toBe(204);
    expect(await (await fetch(`${runtime.baseUrl}/admin/mailbox/messages`)).json()).toEqual([]);
  });

  it("hands the app an SMS connection string and a push origin, and shows what it sent through the real SDKs", async () => {
    const out = runtime.output();
    expect(out).toMatch(/Development SMS endpoint started: http:\/\/127\.0\.0\.1:\d+\/ \(SMS_ACS\)/);
    expect(out).toMatch(/Development push service started: http:\/\/127\.0\.0\.1:\d+ \(PUSH_ORIGIN\)/);

    const sent = await fetch(`${runtime.baseUrl}/api/send-sms`, { method: "POST", body: JSON.stringify({ to: ["+14255550123"], message: "Code <b>42</b>" }) });
    expect(sent.status).toBe(200);
    const { connectionString, results } = (await sent.json()) as { connectionString: string; results: { successful: boolean }[] };
    expect(connectionString).toMatch(/^endpoint=http:\/\/127\.0\.0\.1:\d+\/;accesskey=[A-Za-z0-9+/]+=*$/);
    expect(results).toMatchObject([{ successful: true }]);
    const texts = (await (await fetch(`${runtime.baseUrl}/admin/mailbox/sms`)).json()) as StoredSms[];
    expect(texts).toMatchObject([{ to: "+14255550123", from: "+18005550100", message: "Code <b>42</b>" }]);

    const subscribed = await fetch(`${runtime.baseUrl}/admin/push/subscriptions`, { method: "POST" });
    expect(subscribed.status).toBe(201);
    const subscription = (await subscribed.json()) as BrowserPushSubscription;
    const pushed = await fetch(`${runtime.baseUrl}/api/send-push`, { method: "POST", body: JSON.stringify({ subscription, payload: "Hola <i>push</i>" }) });
    expect(await pushed.json()).toMatchObject({ statusCode: 201 });
    const pushes = (await (await fetch(`${runtime.baseUrl}/admin/mailbox/push`)).json()) as StoredPush[];
    expect(pushes).toMatchObject([{ endpoint: subscription.endpoint, payload: "Hola <i>push</i>", vapidSubject: "mailto:fixture@example.test" }]);

    const html = await (await fetch(`${runtime.baseUrl}/admin/mailbox`)).text();
    expect(html).toContain("Code &#60;b&#62;42&#60;/b&#62;");
    expect(html).toContain("Hola &#60;i&#62;push&#60;/i&#62;");
  });

  it("answers 405 for other methods on the mailbox paths", async () => {
    expect((await fetch(`${runtime.baseUrl}/admin/mailbox`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${runtime.baseUrl}/admin/mailbox/messages`, { method: "PUT" })).status).toBe(405);
  });

  it("stops the sink, the SMS endpoint and the push service with the host", async () => {
    const out = runtime.output();
    const smsUrl = /Development SMS endpoint started: (\S+)/.exec(out)?.[1] ?? "";
    const pushOrigin = /Development push service started: (\S+)/.exec(out)?.[1] ?? "";
    expect(await runtime.stop()).toBe(0);
    await expect(fetch(`${smsUrl}sms`, { method: "POST" })).rejects.toThrow();
    await expect(fetch(`${pushOrigin}/push/x`, { method: "POST" })).rejects.toThrow();
    const transport = nodemailer.createTransport({ host: "127.0.0.1", port: smtpPort, ignoreTLS: true, connectionTimeout: 2000 });
    await expect(transport.sendMail({ from: "a@example.test", to: "b@example.test", text: "late" })).rejects.toThrow(/ECONNREFUSED|connect/i);
    transport.close();
  });
});

describe("runtime without a development mailbox", () => {
  it("answers 404 on the mailbox paths", async () => {
    const runtime = await startRuntime({ appRoot: copyFixture() });
    try {
      expect(runtime.output()).not.toContain("Mailbox:");
      for (const [method, url] of [
        ["GET", "/admin/mailbox"],
        ["GET", "/admin/mailbox/messages"],
        ["DELETE", "/admin/mailbox/messages"],
        ["GET", "/admin/mailbox/sms"],
        ["GET", "/admin/mailbox/push"],
        ["POST", "/admin/push/subscriptions"],
      ] as const) {
        const res = await fetch(`${runtime.baseUrl}${url}`, { method });
        expect(res.status, `${method} ${url}`).toBe(404);
      }
    } finally {
      await runtime.stop();
    }
  });
});
