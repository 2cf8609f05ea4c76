ALTER TABLE "generation_jobs" DROP CONSTRAINT "generation_jobs_request_key_unique";--> statement-breakpoint
ALTER TABLE "generation_jobs" DROP COLUMN "request_key";