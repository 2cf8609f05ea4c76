import {
  type BlobClient,
  BlobSASPermissions,
  type BlobSASSignatureValues,
  type BlobServiceClient,
  generateBlobSASQueryParameters,
  RestError,
  SASProtocol,
  StorageSharedKeyCredential,
  type UserDelegationKey,
} from "@azure/storage-blob";
import type { FileStore, StoredFile, UploadGrant } from "../../domain/catalog/file-store.js";
import type { BlobWriter } from "../../domain/certificates/issue-certificate.js";
import type { BlobRemover } from "../../domain/privacy/erasure.js";

export interface BlobFileStore extends FileStore, BlobWriter, BlobRemover {
  /** Creates the containers, private, unless they exist; safe to call at every start. */
  ensureContainer(): Promise<void>;
  /** The blob of this name in its container, for server-side streaming (data-export archives). */
  blobClient(blobName: string): BlobClient;
  /** The names of the blobs whose name starts with the prefix (a data export's attempt files). */
  list(prefix: string): AsyncIterable<string>;
}

export type FetchUserDelegationKey = (startsOn: Date, expiresOn: Date) => Promise<UserDelegationKey>;

export interface BlobFileStoreOptions {
  blob: BlobServiceClient;
  /** The container of every blob whose name starts with none of `containersByPrefix`. */
  container: string;
  /**
   * Blob-name prefixes kept in containers of their own (e.g. `submissions/` → `submissions`), so each kind of
   * file has its own access, lifecycle and retention rules. Blob names stay whole inside their container.
   */
  containersByPrefix?: Readonly<Record<string, string>>;
  clock?: () => Date;
  /**
   * Where user-delegation keys come from: `blob.getUserDelegationKey` unless given. Only the managed-identity
   * path uses it; tests pass a fake to check the key cache, which no local emulator can serve.
   */
  getUserDelegationKey?: FetchUserDelegationKey;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
// The SAS starts a little in the past: a client or storage clock slightly ahead must not see "not yet valid".
const CLOCK_SKEW_MS = 5 * MINUTE_MS;
const KEY_LIFETIME_MS = 6 * HOUR_MS;
// A cached key is replaced once it is this close to its own expiry.
const KEY_REFRESH_MARGIN_MS = HOUR_MS;
// The service refuses a user-delegation key (and so a SAS signed with it) reaching further than 7 days.
const KEY_MAX_LIFETIME_MS = 7 * 24 * HOUR_MS;

/** Signs SAS values for one blob and returns the query string. */
type Signer = (values: BlobSASSignatureValues, now: Date) => Promise<string>;

/**
 * The domain's FileStore over Blob Storage (one container per kind of file). Clients move the bytes themselves through
 * short-lived SAS URLs scoped to one blob; nothing here streams file content.
 */
export function createBlobFileStore(options: BlobFileStoreOptions): BlobFileStore {
  const { blob } = options;
  const clock = options.clock ?? (() => new Date());
  const routes = Object.entries(options.containersByPrefix ?? {});
  const containerOf = (blobName: string): string => routes.find(([prefix]) => blobName.startsWith(prefix))?.[1] ?? options.container;
  const blobClient = (blobName: string) => blob.getContainerClient(containerOf(blobName)).getBlobClient(blobName);
  // A prefix never spans containers: each kind of file (and so each prefix the domain names) has its own.
  async function* list(prefix: string): AsyncIterable<string> {
    for await (const item of blob.getContainerClient(containerOf(prefix)).listBlobsFlat({ prefix })) yield item.name;
  }
  const sign = signerFor(blob, options.getUserDelegationKey);
  // Azurite speaks plain http; in Azure the SAS is only honoured over https.
  const protocol = new URL(blob.url).protocol === "http:" ? SASProtocol.HttpsAndHttp : SASProtocol.Https;

  const signedUrl = async (blobName: string, ttlSeconds: number, values: Partial<BlobSASSignatureValues>) => {
    if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be positive, got ${ttlSeconds}`);
    const now = clock();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    const query = await sign(
      {
        ...values,
        containerName: containerOf(blobName),
        blobName,
        startsOn: new Date(now.getTime() - CLOCK_SKEW_MS),
        expiresOn: expiresAt,
        protocol,
      },
      now,
    );
    return { url: `${blobClient(blobName).url}?${query}`, expiresAt };
  };

  return {
    blobClient,

    async ensureContainer() {
      // No `access` option: the containers stay private; every read goes through a SAS.
      for (const name of new Set([options.container, ...routes.map(([, c]) => c)])) await blob.getContainerClient(name).createIfNotExists();
    },

    async uploadUrl(blobName, contentType, ttlSeconds): Promise<UploadGrant> {
      // Create only: the grant makes the blob once and cannot replace it after the upload was confirmed.
      const { url, expiresAt } = await signedUrl(blobName, ttlSeconds, { permissions: BlobSASPermissions.parse("c") });
      return { url, method: "PUT", headers: { "x-ms-blob-type": "BlockBlob", "content-type": contentType }, expiresAt };
    },

    async downloadUrl(blobName, ttlSeconds, downloadName, options) {
      const disposition = options?.inline ? inlineDisposition(downloadName ?? "file") : downloadName === undefined ? undefined : attachmentDisposition(downloadName);
      return signedUrl(blobName, ttlSeconds, {
        permissions: BlobSASPermissions.parse("r"),
        ...(disposition === undefined ? {} : { contentDisposition: disposition }),
      });
    },

    /** Files the app makes itself (certificates) are written server-side; they are small. */
    async write(blobName, bytes, contentType) {
      await blobClient(blobName).getBlockBlobClient().uploadData(bytes, { blobHTTPHeaders: { blobContentType: contentType } });
    },

    async remove(blobName) {
      // deleteIfExists: an erasure retried after a failure finds some files gone already.
      await blobClient(blobName).deleteIfExists({ deleteSnapshots: "include" });
    },

    async removePrefix(prefix) {
      let deleted = 0;
      for await (const name of list(prefix)) {
        if ((await blobClient(name).deleteIfExists({ deleteSnapshots: "include" })).succeeded) deleted++;
      }
      return deleted;
    },

    list,

    async stat(blobName): Promise<StoredFile | null> {
      try {
        const props = await blobClient(blobName).getProperties();
        return { contentType: props.contentType ?? null, sizeBytes: props.contentLength ?? 0 };
      } catch (err) {
        if (err instanceof RestError && err.statusCode === 404) return null;
        throw err;
      }
    },
  };
}

/**
 * An account key (a connection string, Azurite locally) signs directly. A token credential (managed identity
 * in Azure) has no key: it signs with a user-delegation key, fetched from the service and reused.
 */
function signerFor(blob: BlobServiceClient, fetchKey: FetchUserDelegationKey | undefined): Signer {
  const credential = blob.credential;
  if (credential instanceof StorageSharedKeyCredential) {
    return async (values) => generateBlobSASQueryParameters(values, credential).toString();
  }
  if (!("getToken" in credential)) {
    throw new Error("the blob client can sign no SAS: it has neither an account key nor a token credential");
  }
  const keyFor = userDelegationKeyCache(fetchKey ?? ((startsOn, expiresOn) => blob.getUserDelegationKey(startsOn, expiresOn)));
  return async (values, now) => {
    // A user-delegation SAS is refused once its key has expired, so the key must outlive the SAS.
    const key = await keyFor(now, values.expiresOn ?? now);
    return generateBlobSASQueryParameters(values, key, blob.accountName).toString();
  };
}

/**
 * One key serves every SAS until it comes within an hour of its expiry (or a SAS would outlive it).
 * Concurrent callers share one request; a failed request is not cached.
 */
function userDelegationKeyCache(fetchKey: FetchUserDelegationKey) {
  let pending: Promise<UserDelegationKey> | undefined;
  const fits = (key: UserDelegationKey, now: Date, sasExpiresOn: Date) =>
    key.signedExpiresOn.getTime() - KEY_REFRESH_MARGIN_MS > now.getTime() &&
    key.signedExpiresOn.getTime() >= sasExpiresOn.getTime();

  return async (now: Date, sasExpiresOn: Date): Promise<UserDelegationKey> => {
    const latest = now.getTime() + KEY_MAX_LIFETIME_MS;
    if (sasExpiresOn.getTime() > latest) throw new RangeError("a user-delegation SAS cannot last longer than 7 days");
    for (;;) {
      const seen = pending;
      if (!seen) break;
      const key = await seen.catch(() => undefined);
      if (key && fits(key, now, sasExpiresOn)) return key;
      // Another caller may have started a fresh request while this one waited; share it rather than add one.
      if (pending === seen) break;
    }
    const expiresOn = Math.min(latest, Math.max(now.getTime() + KEY_LIFETIME_MS, sasExpiresOn.getTime() + KEY_REFRESH_MARGIN_MS));
    const request = fetchKey(new Date(now.getTime() - CLOCK_SKEW_MS), new Date(expiresOn));
    pending = request;
    request.catch(() => {
      if (pending === request) pending = undefined;
    });
    return request;
  };
}

// Bidirectional overrides can disguise an extension ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf").
const UNSAFE_IN_NAME = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `attachment` with the given file name, per RFC 6266: a plain-ASCII `filename` every client understands and,
 * when the name needs more, an RFC 8187 `filename*` in UTF-8 that current browsers prefer.
 */
export function attachmentDisposition(fileName: string): string {
  const name =
    fileName
      .replace(/\p{Cs}/gu, "_") // a lone surrogate cannot be encoded as UTF-8
      .replace(UNSAFE_IN_NAME, "")
      .replace(/[/\\]/g, "_")
      .normalize("NFC")
      .trim() || "download";
  // Quotes and backslashes would need quoted-pair escaping that clients handle unevenly; '%' may be decoded by some.
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  if (fallback === name) return `attachment; filename="${name}"`;
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** `inline` with the file name (same encoding as `attachmentDisposition`): the browser shows the file, e.g. in a frame. */
export function inlineDisposition(fileName: string): string {
  return attachmentDisposition(fileName).replace(/^attachment;/, "inline;");
}
