ALTER TABLE "inbox" ADD COLUMN "status" text DEFAULT 'processed' NOT NULL;--> statement-breakpoint
ALTER TABLE "inbox" ADD COLUMN "reason" text;