import { applyGrades } from "../../domain/item-analysis/apply-grades.js";
import { subscriptionHandler } from "../platform/subscription.js";

// The `item-analysis` subscription (the enrichment worker): every published grade version updates the item
// statistics of its assessment, a batch at a time. Each submission's newest grade counts once; a regrade's new
// version replaces the old share, and an old or repeated one changes nothing.
subscriptionHandler({
  name: "update-item-analysis-on-grade-published",
  subscription: "item-analysis",
  handleMany: async (events, ctx) => {
    const gradeIds = events.flatMap((e) => (e.type === "grade.published" ? [e.data.gradeId] : []));
    if (gradeIds.length === 0) return;
    const result = await applyGrades(ctx.tx, gradeIds);
    ctx.log.info("item analysis updated", { applied: result.applied.length, skipped: result.skipped.length });
  },
});
