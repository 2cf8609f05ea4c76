import type { Item } from "../db/schema/assessment-json.js";

// The shapes live with the schema that stores them; re-exported for the modules that read them from here.
export { type Answer, type Item, type ItemKey, itemSchema, keySchema } from "../db/schema/assessment-json.js";

export const isManual = (item: Item): boolean => item.type === "essay" || item.type === "file";
