import type { AzureOpenAI } from "openai";
import type { ModelAnswer, ModelRequest, QuestionModel } from "../../domain/generation/question-model.js";
import { defaultAzureCredential } from "./azure-credential.js";
import { lazy } from "./lazy.js";
import type { Settings } from "./settings.js";

const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";

// The SDK does not retry (its retries would be requests the job's `calls` never sees): a 429 puts the job back on
// the queue for the Retry-After time, and a fault has the message redelivered, counted on the job up to its limit.
const SDK_RETRIES = 0;
const FALLBACK_RETRY_AFTER_MS = 10_000;

/**
 * The generator's model: Azure OpenAI through the official `openai` package's AzureOpenAI client (loaded on first
 * use), with an API key, or else the managed identity's token (Cognitive Services OpenAI User). Structured output:
 * the answer must follow the request's JSON schema (strict).
 */
export function azureOpenAIModel(s: Pick<Settings, "AZURE_OPENAI_ENDPOINT" | "AZURE_OPENAI_DEPLOYMENT" | "AZURE_OPENAI_API_VERSION" | "AZURE_OPENAI_API_KEY" | "AZURE_OPENAI_CLIENT_ID">): QuestionModel {
  const client = lazy(async (): Promise<AzureOpenAI> => {
    const { AzureOpenAI } = await import("openai");
    const common = { endpoint: s.AZURE_OPENAI_ENDPOINT, deployment: s.AZURE_OPENAI_DEPLOYMENT, apiVersion: s.AZURE_OPENAI_API_VERSION, maxRetries: SDK_RETRIES, timeout: 120_000 };
    if (s.AZURE_OPENAI_API_KEY) return new AzureOpenAI({ ...common, apiKey: s.AZURE_OPENAI_API_KEY });
    const { getBearerTokenProvider } = await import("@azure/identity");
    return new AzureOpenAI({ ...common, azureADTokenProvider: getBearerTokenProvider(defaultAzureCredential(s.AZURE_OPENAI_CLIENT_ID || undefined), COGNITIVE_SERVICES_SCOPE) });
  });
  return {
    async complete(request: ModelRequest): Promise<ModelAnswer> {
      const openai = await client();
      try {
        const completion = await openai.chat.completions.create({
          model: s.AZURE_OPENAI_DEPLOYMENT,
          messages: [
            { role: "system", content: request.system },
            { role: "user", content: request.user },
          ],
          response_format: { type: "json_schema", json_schema: { name: request.schema.name, strict: true, schema: request.schema.schema } },
        });
        // A refusal or an empty message is an answer that is not JSON: the generator retries it a bounded number of times.
        return { kind: "answer", content: completion.choices[0]?.message.content ?? "" };
      } catch (err) {
        const { RateLimitError } = await import("openai");
        if (err instanceof RateLimitError) return { kind: "rate-limited", retryAfterMs: retryAfterMs(err.headers) };
        throw err;
      }
    },
  };
}

/** Retry-After (seconds or an HTTP date) or retry-after-ms, as milliseconds from now; 10 s when absent. */
function retryAfterMs(headers: Headers | undefined): number {
  const ms = Number(headers?.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return FALLBACK_RETRY_AFTER_MS;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? FALLBACK_RETRY_AFTER_MS : Math.max(0, at - Date.now());
}
