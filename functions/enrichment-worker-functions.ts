// The enrichment worker's functions (APP_ROLE enrichment-worker, or all): the item-analysis subscription. A host of
// its own, so a burst of published grades neither shares a process with the API nor scales with it
// (docs/architecture.md, "The workers").
import "./events/item-analysis.js";
