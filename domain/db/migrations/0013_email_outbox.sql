ALTER TABLE "email_deliveries" ALTER COLUMN "status" SET DEFAULT 'pending';--> statement-breakpoint
ALTER TABLE "email_deliveries" ALTER COLUMN "attempts" SET DEFAULT 0;--> statement-breakpoint
ALTER TABLE "email_deliveries" ADD COLUMN "text" text;--> statement-breakpoint
ALTER TABLE "email_deliveries" ADD COLUMN "html" text;--> statement-breakpoint
ALTER TABLE "email_deliveries" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "email_deliveries" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "email_deliveries_next_attempt_at_idx" ON "email_deliveries" USING btree ("next_attempt_at") WHERE "email_deliveries"."status" = 'pending';