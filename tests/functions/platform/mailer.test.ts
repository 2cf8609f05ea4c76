import { createServer, type Server, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailer } from "../../../functions/platform/mailer.js";
import { testSettings } from "../../support/settings.js";

const settingsFor = (smtpUrl: string, extra: Record<string, string> = {}) => testSettings({ EmailSmtp: smtpUrl, ...extra });

const email = (i: number) => ({ to: `learner${i}@example.org`, subject: `Hello ${i}`, text: "text", html: "<p>html</p>", template: "welcome", locale: "en" });

/** An SMTP server that counts the connections it was opened and keeps the subjects it received. */
let smtp: SMTPServer;
let smtpPort: number;
let connections = 0;
const subjects: string[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, _session, callback) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString()));
      stream.on("end", () => {
        subjects.push(/^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "");
        callback();
      });
    },
  });
  smtpPort = await new Promise<number>((resolve) =>
    smtp.listen(0, "127.0.0.1", () => {
      const address = smtp.server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    }),
  );
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe("the SMTP mailer", () => {
  it("sends a burst over a few pooled connections, not one connection per email", async () => {
    const mailer = createMailer(settingsFor(`smtp://127.0.0.1:${smtpPort}`, { EMAIL_SEND_CONCURRENCY: "3" }));
    try {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => mailer.send(email(i))));
      expect(results.every((r) => typeof r.messageId === "string")).toBe(true);
      expect(subjects.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `Hello ${i}`).sort());
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThanOrEqual(3);
      // The pool keeps its connections open for the next burst.
      await mailer.send(email(30));
      expect(connections).toBeLessThanOrEqual(3);
    } finally {
      mailer.close();
    }
  });

  it("fails a send to a server that never answers within a quarter of the lease", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    const port = await new Promise<number>((resolve) =>
      silent.listen(0, "127.0.0.1", () => {
        const address = silent.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      }),
    );
    const mailer = createMailer(settingsFor(`smtp://127.0.0.1:${port}`, { EMAIL_LEASE_S: "4" }));
    try {
      const started = Date.now();
      await expect(mailer.send(email(0))).rejects.toThrow(/greeting|timeout/i);
      expect(sockets.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      mailer.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
