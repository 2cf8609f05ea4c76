ALTER TABLE "item_analysis_contributions" ALTER COLUMN "total" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ADD COLUMN "sum_max" double precision DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Rows counted before this column: their versions were counted at the points they show.
UPDATE "item_stats" SET "sum_max" = "n" * "max_points";
