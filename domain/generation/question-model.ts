/**
 * The model that drafts items, as the generator sees it (functions/platform/openai-model.ts implements it with the
 * `openai` package's Azure client): one chat call asking for structured output. No SDK types cross this line.
 */
export interface QuestionModel {
  complete(request: ModelRequest): Promise<ModelAnswer>;
}

export interface ModelRequest {
  system: string;
  user: string;
  /** The JSON schema the answer must follow (strict structured output), and its name. */
  schema: { name: string; schema: Record<string, unknown> };
}

export type ModelAnswer =
  /** The answer's text (meant to be JSON in the schema's shape; checked by the caller). */
  | { kind: "answer"; content: string }
  /** The service refused for its rate limit: try again no sooner than this. Each `complete` is one request. */
  | { kind: "rate-limited"; retryAfterMs: number };
