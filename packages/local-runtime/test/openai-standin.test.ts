// The development OpenAI stand-in, driven by the real `openai` package's AzureOpenAI client the app uses: valid
// structured-output items by default, scripted malformed items, unreadable answers, 429s with Retry-After (the client
// retrying after it), the service's error shapes, and the admin routes' validation. Only the stand-in starts here.
import { AzureOpenAI, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIStandIn, startOpenAIStandIn } from "../src/services/openai-standin.js";

let standIn: OpenAIStandIn;
let client: AzureOpenAI;
const schema = { type: "object", properties: { items: { type: "array", items: { type: "object", properties: { item: { anyOf: [{ type: "object", properties: { type: { enum: ["numeric"] } } }] } } } } } };
const ask = (first: string) =>
  client.chat.completions.create({
    model: "items",
    messages: [{ role: "user", content: `${first}\n<source>\nOsmosis moves water across membranes.\n</source>` }],
    response_format: { type: "json_schema", json_schema: { name: "generated_items", strict: true, schema } },
  });

beforeAll(async () => {
  standIn = await startOpenAIStandIn();
  client = new AzureOpenAI({ endpoint: standIn.endpoint, apiKey: "k", apiVersion: "2024-10-21", deployment: "items", maxRetries: 1 });
});

afterAll(async () => {
  await standIn?.stop();
});

describe("the OpenAI stand-in", () => {
  it("answers the asked count and types as items with keys, words from the source in the prompts", async () => {
    const completion = await ask("generate count=3 types=single,numeric");
    expect(completion).toMatchObject({ object: "chat.completion", choices: [{ finish_reason: "stop", message: { role: "assistant" } }] });
    const { items } = JSON.parse(completion.choices[0]!.message.content!) as { items: { item: { type: string; prompt: string }; key: unknown }[] };
    expect(items.map((i) => i.item.type)).toEqual(["single", "numeric", "single"]);
    expect(items[0]!.item.prompt).toContain("Osmosis moves water");
    expect(standIn.requests().at(-1)).toMatchObject({ deployment: "items", apiVersion: "2024-10-21", auth: "api-key", ask: "generate count=3 types=single,numeric", responseFormat: { type: "json_schema", name: "generated_items", strict: true } });
  });

  it("falls back on the schema's item types when the first line does not ask", async () => {
    const { items } = JSON.parse((await ask("Write me something")).choices[0]!.message.content!) as { items: { item: { type: string } }[] };
    expect(items.map((i) => i.item.type)).toEqual(["numeric"]);
  });

  it("plays scripted answers in order: a 429 the client retries after Retry-After, malformed items, text that is not JSON", async () => {
    standIn.script([{ status: 429, retryAfterSeconds: 1 }, { malformedItems: [0] }, { invalidJson: true }]);
    const started = Date.now();
    const malformed = JSON.parse((await ask("generate count=1 types=numeric")).choices[0]!.message.content!) as { items: { key: { tolerance: number; value: number } }[] };
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(malformed.items[0]!.key.tolerance).toBeGreaterThanOrEqual(Math.abs(malformed.items[0]!.key.value));
    const text = (await ask("generate count=1 types=numeric")).choices[0]!.message.content!;
    expect(() => JSON.parse(text) as unknown).toThrow();
    standIn.script([{ status: 429, retryAfterSeconds: 0 }, { status: 429, retryAfterSeconds: 0 }]);
    const limited = await ask("generate count=1 types=numeric").catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get("retry-after")).toBe("0");
  });

  it("refuses calls without a key or an api-version, in the service's error shape", async () => {
    const noKey = await fetch(`${standIn.endpoint}/openai/deployments/items/chat/completions?api-version=2024-10-21`, { method: "POST", body: "{}" });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { code: "401" } });
    const noVersion = await fetch(`${standIn.endpoint}/openai/deployments/items/chat/completions`, { method: "POST", headers: { "api-key": "k" }, body: "{}" });
    expect(noVersion.status).toBe(404);
    const noMessages = await fetch(`${standIn.endpoint}/openai/deployments/items/chat/completions?api-version=2024-10-21`, { method: "POST", headers: { "api-key": "k" }, body: "{}" });
    expect(await noMessages.json()).toMatchObject({ error: { type: "invalid_request_error", param: "messages" } });
  });
});
