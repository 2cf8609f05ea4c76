import createClient, { type Client } from "openapi-fetch";
import type { paths } from "../../web/src/api/schema.js";
import type { RunningApp } from "./app.js";

/**
 * The typed client the web app uses (web/src/api/schema.ts, generated from the served OpenAPI document), for
 * tests: a request the document does not allow fails the typecheck, and answers come typed as documented.
 */
export function apiClient(app: RunningApp, accessToken?: string): Client<paths> {
  return createClient<paths>({
    baseUrl: `${app.baseUrl}/api`,
    ...(accessToken ? { headers: { authorization: `Bearer ${accessToken}` } } : {}),
  });
}

/** The data of a typed call, or a thrown error naming the status and problem when the call failed. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || data === undefined) throw new Error(`${response.url} answered ${response.status}: ${JSON.stringify(error)}`);
  return data;
}
