// A development mail sink: an SMTP server on loopback that accepts every message (no auth needed, any sender
// and recipient, no TLS) and keeps the last few, parsed, in memory for the mailbox page (`mailbox-page.ts`).
import { randomUUID } from "node:crypto";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";
import PostalMime, { type Address, type Email } from "postal-mime";

export interface StoredMail {
  id: string;
  /** ISO 8601, when the sink accepted the message. */
  receivedAt: string;
  /** The From header as `Name <address>` (or just the address); the envelope sender when the header is missing. */
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html: string;
  /** Header name (lower case) → value as sent (unfolded, encoded words left as they are); repeats joined by ", ". */
  headers: Record<string, string>;
  /** SMTP envelope: the real recipients, Bcc included. */
  envelope: { from: string; to: string[] };
  /** Attachments are not kept, only described. */
  attachments: { filename: string | null; mimeType: string; size: number }[];
  /** Size of the raw message in bytes. */
  size: number;
}

export interface MailSinkOptions {
  /** 0 (default) = a free port. */
  port?: number;
  host?: string;
  /** The ring keeps the newest this many messages (default 500). */
  maxMessages?: number;
  /** Larger messages are refused with 552 (default 10 MB). */
  maxMessageBytes?: number;
}

export interface MailSink {
  /** `smtp://<host>:<port>` */
  url: string;
  port: number;
  /** Newest first. */
  messages(): StoredMail[];
  clear(): void;
  stop(): Promise<void>;
}

const defaultMaxBytes = 10 * 1024 * 1024;

export async function startMailSink(options: MailSinkOptions = {}): Promise<MailSink> {
  const host = options.host ?? "127.0.0.1";
  const maxMessages = Math.max(1, options.maxMessages ?? 500);
  const maxMessageBytes = options.maxMessageBytes ?? defaultMaxBytes;
  let stored: StoredMail[] = [];

  const server = new SMTPServer({
    banner: "local development mailbox",
    logger: false,
    secure: false,
    // Loopback only: no STARTTLS; credentials are optional and any are accepted (apps configured with a user work too).
    disabledCommands: ["STARTTLS"],
    hideSTARTTLS: true,
    authOptional: true,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    disableReverseLookup: true,
    size: maxMessageBytes,
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? "anonymous" });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxMessageBytes) chunks.push(chunk);
      });
      stream.on("error", (error: Error) => callback(error));
      stream.on("end", () => {
        if (stream.sizeExceeded || size > maxMessageBytes) {
          callback(Object.assign(new Error(`Message exceeds the fixed maximum message size (${maxMessageBytes} bytes)`), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks, size);
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r: SMTPServerAddress) => r.address),
        };
        const receivedAt = new Date().toISOString();
        parseMail(raw)
          .then((email) => toStoredMail(email, raw, envelope, receivedAt))
          .catch((error: unknown) => unparsedMail(raw, envelope, receivedAt, error))
          .then((mail) => {
            stored.push(mail);
            if (stored.length > maxMessages) stored.splice(0, stored.length - maxMessages);
            callback(null, `Queued as ${mail.id}`);
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", onError);
      const address = server.server.address();
      resolve(typeof address === "object" && address ? address.port : (options.port ?? 0));
    });
  });
  // Errors on single connections are the client's business; keep them from becoming unhandled 'error' events.
  server.on("error", () => undefined);

  let stopping: Promise<void> | undefined;
  return {
    url: `smtp://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    messages: () => stored.slice().reverse(),
    clear: () => {
      stored = [];
    },
    stop: () => (stopping ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

function parseMail(raw: Buffer): Promise<Email> {
  return PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
}

function toStoredMail(email: Email, raw: Buffer, envelope: StoredMail["envelope"], receivedAt: string): StoredMail {
  const headers: Record<string, string> = {};
  for (const { key, value } of email.headers) headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  return {
    id: randomUUID(),
    receivedAt,
    from: email.from ? (formatAddresses([email.from])[0] ?? envelope.from) : envelope.from,
    to: formatAddresses(email.to ?? []),
    cc: formatAddresses(email.cc ?? []),
    subject: email.subject ?? "",
    text: email.text ?? "",
    html: email.html ?? "",
    headers,
    envelope,
    attachments: email.attachments.map((a) => ({
      filename: a.filename,
      mimeType: a.mimeType,
      size: typeof a.content === "string" ? Buffer.byteLength(a.content) : a.content.byteLength,
    })),
    size: raw.length,
  };
}

/** A message postal-mime could not parse is still kept, its raw text as the body. */
function unparsedMail(raw: Buffer, envelope: StoredMail["envelope"], receivedAt: string, error: unknown): StoredMail {
  return {
    id: randomUUID(),
    receivedAt,
    from: envelope.from,
    to: envelope.to,
    cc: [],
    subject: `(unparsable message: ${error instanceof Error ? error.message : String(error)})`,
    text: raw.toString("utf8"),
    html: "",
    headers: {},
    envelope,
    attachments: [],
    size: raw.length,
  };
}

/** Groups are flattened into their members. */
function formatAddresses(addresses: Address[]): string[] {
  const out: string[] = [];
  for (const address of addresses) {
    if (address.group) for (const member of address.group) out.push(formatMailbox(member.name, member.address));
    else out.push(formatMailbox(address.name, address.address));
  }
  return out;
}

function formatMailbox(name: string, address: string): string {
  return name ? `${name} <${address}>` : address;
}

// --- The runtime's sink: started by backing-services.ts, shown by http-server.ts under /admin/mailbox ---
let active: MailSink | undefined;

export function activeMailSink(): MailSink | undefined {
  return active;
}

export function setActiveMailSink(sink: MailSink | undefined): void {
  active = sink;
}

/** The setting value that asks for the development mailbox. */
export const developmentMailboxValue = "UseDevelopmentMailbox=true";

/** Names of the settings whose value is exactly `UseDevelopmentMailbox=true` (surrounding blanks ignored). */
export function developmentMailboxSettings(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter((name) => env[name]?.trim() === developmentMailboxValue);
}
