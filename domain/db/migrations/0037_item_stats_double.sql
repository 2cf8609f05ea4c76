ALTER TABLE "assessment_stats" ALTER COLUMN "sum_total" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "assessment_stats" ALTER COLUMN "sum_total_sq" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "sum_score" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "sum_score_sq" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "sum_rest" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "sum_rest_sq" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "sum_score_rest" SET DATA TYPE double precision;--> statement-breakpoint
ALTER TABLE "item_stats" ALTER COLUMN "time_sum" SET DATA TYPE double precision;