import createClient from "openapi-fetch";
import { apiBaseUrl } from "./base-url";
import type { components, paths } from "./schema";
import { session, type Tokens } from "./session";

export type Problem = components["schemas"]["Problem"];
export type Schemas = components["schemas"];

const baseUrl = apiBaseUrl();
/** Renew the access token this long before it expires, so a request never carries one about to lapse. */
const renewMargin = 30_000;

/** What a rotation came to: new tokens, a refusal (the session is over), or no answer (it may still be good). */
export type Rotation = "rotated" | "refused" | "unavailable";

const sessionEnded = "Your session ended. Please sign in again.";
let rotating: Promise<Rotation> | null = null;

/**
 * Exchanges the stored refresh token for new tokens. One rotation at a time in this tab, and across tabs through a
 * Web Lock: the server treats a refresh token used twice as stolen and ends the session, so a second tab waits and
 * then rotates the token the first one stored. Only a refusal (401/403) ends the session: a network error, 429 or
 * 5xx (a cold start, a deploy) leaves the stored token for the next try.
 */
export function rotateTokens(): Promise<Rotation> {
  rotating ??= (async () => {
    const run = async (): Promise<Rotation> => {
      const stored = session.stored();
      if (!stored) {
        // Another tab signed out (or was refused) meanwhile.
        session.endHere(sessionEnded);
        return "refused";
      }
      const shown = session.get().user;
      if (shown && stored.userId !== shown.id) {
        // Another tab signed in as someone else (or is signing in: whose token it is is not known yet): rotating
        // it would act as them under this user's name.
        session.endHere("Another tab signed in to a different account. Please sign in again.");
        return "refused";
      }
      const response = await fetch(`${baseUrl}/v1/auth/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken: stored.refreshToken }),
      }).catch(() => null);
      if (!response) return "unavailable";
      if (!response.ok) {
        if (response.status !== 401 && response.status !== 403) return "unavailable";
        session.end(sessionEnded);
        return "refused";
      }
      session.signedIn((await response.json()) as Tokens, stored.userId);
      return "rotated";
    };
    try {
      return "locks" in navigator ? await navigator.locks.request("ringlet-token-rotation", run) : await run();
    } finally {
      rotating = null;
    }
  })();
  return rotating;
}

async function withToken(request: Request): Promise<Request> {
  const current = session.get();
  let accessToken = current.accessToken;
  if (session.stored() && (!accessToken || current.accessExpiresAt - renewMargin < Date.now())) {
    await rotateTokens();
    accessToken = session.get().accessToken;
  }
  if (accessToken && !request.headers.has("authorization")) request.headers.set("authorization", `Bearer ${accessToken}`);
  return request;
}

/** The sign-in routes answer 401 for a wrong password or code: replaying those would count the attempt twice. */
const authRoutes = `${baseUrl}/v1/auth/`;

/** True when a 401 says the access token is missing, not valid, or its session ended (not a wrong password). */
async function tokenRefused(response: Response): Promise<boolean> {
  try {
    const body = (await response.clone().json()) as { code?: unknown } | null;
    return body?.code === "UNAUTHENTICATED";
  } catch {
    return false;
  }
}

/**
 * fetch for the typed client: sends the session's access token (renewed before it lapses), and on a 401 for the
 * token rotates the refresh token once and repeats the request. A refused rotation ends the session (signs out);
 * when the server could not answer the rotation, the 401 goes back to the page and the session stays.
 */
async function sessionFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const hadToken = Boolean(session.get().accessToken || session.stored());
  const response = await fetch(await withToken(input));
  if (response.status !== 401 || !hadToken || input.url.startsWith(authRoutes)) return response;
  if (!(await tokenRefused(response))) return response;
  if ((await rotateTokens()) === "rotated") return fetch(await withToken(retry));
  return response;
}

/** The typed API client: every path, parameter, body and answer comes from the served OpenAPI document. */
export const api = createClient<paths>({ baseUrl, fetch: sessionFetch });

/** The problem+json of a failed call, or a generic one when the answer was not problem+json (a network error). */
export function problemOf(error: unknown, response?: Response): Problem {
  if (error && typeof error === "object" && "code" in error && "title" in error) return error as Problem;
  return {
    type: "about:blank",
    title: response ? `The server answered ${response.status}` : "The server could not be reached",
    status: response?.status ?? 0,
    code: "NETWORK_ERROR",
    detail: "Check your connection and try again.",
  };
}

/** Loads the signed-in user into the session (after sign-in, and when the app starts with a stored session). */
export async function loadUser(): Promise<void> {
  const { data } = await api.GET("/v1/me");
  session.setUser(data ?? null);
}

/** Signs out: the server ends the session of the refresh token, and this tab forgets it. */
export async function signOut(): Promise<void> {
  const stored = session.stored();
  if (stored) await api.POST("/v1/auth/logout", { body: { refreshToken: stored.refreshToken } }).catch(() => undefined);
  session.end();
}
