import type { ScriptedAnswer, SeenRequest } from "@ringlet/local-runtime/openai";
import type { RunningApp } from "./app.js";

export type { ScriptedAnswer, SeenRequest };

/** Settings that start the runtime's OpenAI stand-in and point the app at it. */
export const openAIStandInSettings = { AZURE_OPENAI_ENDPOINT: "UseDevelopmentOpenAI=true", AZURE_OPENAI_DEPLOYMENT: "gpt-4o-items", AZURE_OPENAI_API_KEY: "local-standin-key" };

/** The next answers of the stand-in, in order (then valid items again). */
export async function scriptOpenAI(app: RunningApp, responses: ScriptedAnswer[]): Promise<void> {
  const res = await fetch(`${app.baseUrl}/admin/openai/script`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ responses }) });
  if (res.status !== 200) throw new Error(`POST /admin/openai/script answered ${res.status}: ${await res.text()}`);
}

/** What the stand-in was asked, oldest first. */
export async function openAIRequests(app: RunningApp): Promise<SeenRequest[]> {
  const res = await fetch(`${app.baseUrl}/admin/openai/requests`);
  if (res.status !== 200) throw new Error(`GET /admin/openai/requests answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as SeenRequest[];
}
