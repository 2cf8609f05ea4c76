// The AI generator worker's functions (APP_ROLE generation-worker, or all): the question-generation queue trigger
// and its generation-resend timer. A host of its own, so a slow model call never holds a process the API answers
// from, and the queue's depth alone scales it (docs/architecture.md, "The workers").
import "./generation/generation-queue.js";
