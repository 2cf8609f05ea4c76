import { randomBytes } from "node:crypto";
import { BlobServiceClient, type UserDelegationKey } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  attachmentDisposition,
  type BlobFileStore,
  createBlobFileStore,
} from "../../../functions/platform/file-store.js";

const HOUR_MS = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("blob file store against Azurite", () => {
  const blob = BlobServiceClient.fromConnectionString(inject("storageConnectionString"));
  const container = `file-store-${randomBytes(6).toString("hex")}`;
  let store: BlobFileStore;

  beforeAll(async () => {
    store = createBlobFileStore({ blob, container });
    await store.ensureContainer();
  });

  afterAll(async () => {
    await blob.getContainerClient(container).deleteIfExists();
  });

  const upload = async (blobName: string, body: string, contentType = "text/plain") => {
    const grant = await store.uploadUrl(blobName, contentType, 300);
    return fetch(grant.url, { method: grant.method, headers: grant.headers, body });
  };

  it("keeps prefixed blobs in their own containers, for every operation", async () => {
    const suffix = randomBytes(4).toString("hex");
    const [files, answers, certs] = [`rt-files-${suffix}`, `rt-answers-${suffix}`, `rt-certs-${suffix}`];
    const routed = createBlobFileStore({ blob, container: files, containersByPrefix: { "submissions/": answers, "certificates/": certs } });
    try {
      await routed.ensureContainer();
      await routed.write("certificates/c/u/1.pdf", Buffer.from("%PDF-1.7"), "application/pdf");
      const grant = await routed.uploadUrl("submissions/c/a/answer.txt", "text/plain", 300);
      expect(new URL(grant.url).pathname).toMatch(new RegExp(`/${answers}/submissions/c/a/answer\\.txt$`));
      expect((await fetch(grant.url, { method: grant.method, headers: grant.headers, body: "42" })).status).toBe(201);
      await routed.write("lessons/l/notes.txt", Buffer.from("notes"), "text/plain");

      const names = async (c: string) => {
        const out: string[] = [];
        for await (const b of blob.getContainerClient(c).listBlobsFlat()) out.push(b.name);
        return out;
      };
      expect([await names(files), await names(answers), await names(certs)]).toEqual([["lessons/l/notes.txt"], ["submissions/c/a/answer.txt"], ["certificates/c/u/1.pdf"]]);
      expect(await routed.stat("submissions/c/a/answer.txt")).toEqual({ contentType: "text/plain", sizeBytes: 2 });
      const cert = await routed.downloadUrl("certificates/c/u/1.pdf", 60);
      expect(await (await fetch(cert.url)).text()).toBe("%PDF-1.7");
    } finally {
      for (const c of [files, answers, certs]) await blob.getContainerClient(c).deleteIfExists();
    }
  });

  it("ensureContainer is idempotent and leaves the container private", async () => {
    await store.ensureContainer();
    await store.ensureContainer();
    const props = await blob.getContainerClient(container).getProperties();
    expect(props.blobPublicAccess).toBeUndefined();
    // Without a SAS nothing can be read.
    await upload("private.txt", "secret");
    const anonymous = await fetch(blob.getContainerClient(container).getBlobClient("private.txt").url);
    // Azurite answers 403; Azure answers 404 (as if the blob did not exist). Either way, no bytes.
    expect([403, 404]).toContain(anonymous.status);
  });

  it("uploads through the upload URL with the headers it returns, and stat sees size and content type", async () => {
    const grant = await store.uploadUrl("lessons/a/notes.txt", "text/plain; charset=utf-8", 300);
    expect(grant.method).toBe("PUT");
    expect(grant.headers).toEqual({ "x-ms-blob-type": "BlockBlob", "content-type": "text/plain; charset=utf-8" });
    // Azurite is plain http: the SAS must allow http there.
    expect(new URL(grant.url).searchParams.get("spr")).toBe("https,http");
    expect(new URL(grant.url).searchParams.get("sp")).toBe("c");

    const res = await fetch(grant.url, { method: "PUT", headers: grant.headers, body: "hello, ringlet" });
    expect(res.status).toBe(201);
    expect(await store.stat("lessons/a/notes.txt")).toEqual({ contentType: "text/plain; charset=utf-8", sizeBytes: 14 });
  });

  it("an upload URL cannot read its blob", async () => {
    const grant = await store.uploadUrl("upload-only.txt", "text/plain", 300);
    expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: "x" })).status).toBe(201);
    expect((await fetch(grant.url)).status).toBe(403);
  });

  it("an upload URL cannot write a different blob", async () => {
    const grant = await store.uploadUrl("granted.txt", "text/plain", 300);
    const other = new URL(grant.url);
    other.pathname = other.pathname.replace(/granted\.txt$/, "other.txt");
    const res = await fetch(other, { method: "PUT", headers: grant.headers, body: "x" });
    expect(res.status).toBe(403);
    expect(await store.stat("other.txt")).toBeNull();
  });

  it("a download URL returns the bytes with the requested file name", async () => {
    const bytes = randomBytes(2048);
    const grant = await store.uploadUrl("files/report.bin", "application/pdf", 300);
    expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: bytes })).status).toBe(201);

    const { url, expiresAt } = await store.downloadUrl("files/report.bin", 300, "Rapport d'été.pdf");
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now() + 290_000);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="Rapport d'_t_.pdf"; filename*=UTF-8''Rapport%20d%27%C3%A9t%C3%A9.pdf`,
    );
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("a download URL without a file name sets no content-disposition", async () => {
    await upload("plain.txt", "plain");
    const res = await fetch((await store.downloadUrl("plain.txt", 300)).url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(await res.text()).toBe("plain");
  });

  it("a download URL cannot write", async () => {
    await upload("read-only.txt", "original");
    const { url } = await store.downloadUrl("read-only.txt", 300);
    expect(new URL(url).searchParams.get("sp")).toBe("r");
    const res = await fetch(url, { method: "PUT", headers: { "x-ms-blob-type": "BlockBlob" }, body: "overwritten" });
    expect(res.status).toBe(403);
    expect(await (await fetch(url)).text()).toBe("original");
  });

  it("refuses a SAS whose expiry has passed", async () => {
    const grant = await store.uploadUrl("short-lived.txt", "text/plain", 2);
    expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: "in time" })).status).toBe(201);
    await sleep(grant.expiresAt.getTime() - Date.now() + 1_500);
    expect((await fetch(grant.url, { method: "PUT", headers: grant.headers, body: "too late" })).status).toBe(403);
  });

  it("refuses a SAS signed by a clock an hour behind", async () => {
    await upload("past.txt", "past");
    const late = createBlobFileStore({ blob, container, clock: () => new Date(Date.now() - HOUR_MS) });
    const { url, expiresAt } = await late.downloadUrl("past.txt", 600);
    expect(expiresAt.getTime()).toBeLessThan(Date.now());
    expect((await fetch(url)).status).toBe(403);
  });

  it("accepts a SAS from a clock a minute ahead of storage (the start is backdated)", async () => {
    await upload("skew.txt", "skew");
    const ahead = createBlobFileStore({ blob, container, clock: () => new Date(Date.now() + 60_000) });
    expect((await fetch((await ahead.downloadUrl("skew.txt", 60)).url)).status).toBe(200);
  });

  it("signs names that need escaping in the URL", async () => {
    const name = "lessons/a b/résumé #1.txt";
    expect((await upload(name, "escaped")).status).toBe(201);
    const res = await fetch((await store.downloadUrl(name, 60)).url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("escaped");
  });

  it("stat of a missing blob is null", async () => {
    expect(await store.stat("never/uploaded.txt")).toBeNull();
  });

  it("rejects a non-positive ttl", async () => {
    await expect(store.uploadUrl("x.txt", "text/plain", 0)).rejects.toThrow(RangeError);
  });
});

describe("user-delegation signing (managed identity)", () => {
  // A token credential selects the user-delegation path; it is never asked for a token, because the key
  // comes from the fake below. What the service does with such a SAS cannot be checked locally.
  const blob = new BlobServiceClient("https://ringletfiles.blob.core.windows.net", {
    getToken: () => Promise.reject(new Error("no token in this test")),
  });

  function fakeKeys() {
    const calls: { startsOn: Date; expiresOn: Date }[] = [];
    const getUserDelegationKey = async (startsOn: Date, expiresOn: Date): Promise<UserDelegationKey> => {
      calls.push({ startsOn, expiresOn });
      return {
        signedObjectId: "00000000-0000-0000-0000-00000000000a",
        signedTenantId: "00000000-0000-0000-0000-00000000000b",
        signedStartsOn: startsOn,
        signedExpiresOn: expiresOn,
        signedService: "b",
        signedVersion: "2025-01-05",
        value: randomBytes(32).toString("base64"),
      };
    };
    return { calls, getUserDelegationKey };
  }

  function fakeClock(start: Date) {
    let now = start.getTime();
    return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
  }

  it("signs a read-only, https-only SAS with the delegation key", async () => {
    const keys = fakeKeys();
    const store = createBlobFileStore({ blob, container: "course-files", getUserDelegationKey: keys.getUserDelegationKey });
    const { url } = await store.downloadUrl("a/b.pdf", 600, "b.pdf");
    const u = new URL(url);
    expect(u.origin + u.pathname).toBe("https://ringletfiles.blob.core.windows.net/course-files/a/b.pdf");
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      sp: "r",
      sr: "b",
      spr: "https",
      skoid: "00000000-0000-0000-0000-00000000000a",
      sktid: "00000000-0000-0000-0000-00000000000b",
      rscd: 'attachment; filename="b.pdf"',
    });
    expect(u.searchParams.get("sig")).toBeTruthy();
  });

  it("signs an inline read URL on request, so a frame shows the file instead of saving it", async () => {
    const keys = fakeKeys();
    const store = createBlobFileStore({ blob, container: "course-files", getUserDelegationKey: keys.getUserDelegationKey });
    const { url } = await store.downloadUrl("a/b.pdf", 600, "b.pdf", { inline: true });
    expect(new URL(url).searchParams.get("rscd")).toBe('inline; filename="b.pdf"');
  });

  it("asks for one key, reuses it, and refreshes it within an hour of its expiry", async () => {
    const keys = fakeKeys();
    const t = fakeClock(new Date("2026-03-01T08:00:00Z"));
    const store = createBlobFileStore({ blob, container: "c1", clock: t.clock, getUserDelegationKey: keys.getUserDelegationKey });

    await Promise.all([store.uploadUrl("a", "text/plain", 900), store.downloadUrl("b", 900)]);
    expect(keys.calls).toHaveLength(1);
    expect(keys.calls[0]!.startsOn).toEqual(new Date("2026-03-01T07:55:00Z"));
    expect(keys.calls[0]!.expiresOn).toEqual(new Date("2026-03-01T14:00:00Z"));

    t.advance(4 * HOUR_MS + 59 * 60_000); // 12:59, the key still has more than an hour
    await store.downloadUrl("c", 60);
    expect(keys.calls).toHaveLength(1);

    t.advance(2 * 60_000); // 13:01, within an hour of 14:00
    await store.downloadUrl("d", 60);
    expect(keys.calls).toHaveLength(2);
    expect(keys.calls[1]!.expiresOn).toEqual(new Date("2026-03-01T19:01:00Z"));
  });

  it("gets a longer key when a SAS would outlive the cached one, and refuses more than 7 days", async () => {
    const keys = fakeKeys();
    const t = fakeClock(new Date("2026-03-01T08:00:00Z"));
    const store = createBlobFileStore({ blob, container: "c1", clock: t.clock, getUserDelegationKey: keys.getUserDelegationKey });
    await store.downloadUrl("a", 60);
    await store.downloadUrl("a", 24 * 3600);
    expect(keys.calls).toHaveLength(2);
    expect(keys.calls[1]!.expiresOn).toEqual(new Date("2026-03-02T09:00:00Z"));
    await expect(store.downloadUrl("a", 8 * 24 * 3600)).rejects.toThrow(RangeError);
  });

  it("does not cache a failed key request", async () => {
    const keys = fakeKeys();
    let fail = true;
    const store = createBlobFileStore({
      blob,
      container: "c1",
      getUserDelegationKey: (s, e) => (fail ? Promise.reject(new Error("throttled")) : keys.getUserDelegationKey(s, e)),
    });
    await expect(store.downloadUrl("a", 60)).rejects.toThrow("throttled");
    fail = false;
    await store.downloadUrl("a", 60);
    await store.downloadUrl("a", 60);
    expect(keys.calls).toHaveLength(1);
  });
});

describe("attachmentDisposition", () => {
  it("keeps a plain ASCII name as a quoted filename", () => {
    expect(attachmentDisposition("notes v2.pdf")).toBe('attachment; filename="notes v2.pdf"');
  });

  it("adds filename* in UTF-8 for a name ASCII cannot carry", () => {
    expect(attachmentDisposition("日本語.txt")).toBe(
      `attachment; filename="___.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt`,
    );
  });

  it("cannot be broken out of: quotes, backslashes, line breaks and path separators", () => {
    const header = attachmentDisposition('a"b\\c\r\nSet-Cookie: x=1/../d.txt');
    expect(header).not.toMatch(/[\r\n]/);
    expect(header).toBe(
      `attachment; filename="a_b_cSet-Cookie: x=1_.._d.txt"; filename*=UTF-8''a%22b_cSet-Cookie%3A%20x%3D1_.._d.txt`,
    );
  });

  it("drops bidirectional overrides and falls back to a name when nothing is left", () => {
    expect(attachmentDisposition("invoice\u202Efdp.exe")).toBe('attachment; filename="invoicefdp.exe"');
    expect(attachmentDisposition(" \t ")).toBe('attachment; filename="download"');
  });
});
