// The import worker's functions (APP_ROLE import-worker or all): the bulk-imports queue trigger, the imports-resend
// timer and the bulkImport orchestration with its activities. A host of its own, so a large import neither shares a
// process with the API and the event subscriptions nor scales with them (docs/architecture.md, "The import worker").
import "./bulk-import.js";
import "./import-queue.js";
