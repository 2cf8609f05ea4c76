CREATE TABLE "erasure_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"status" text NOT NULL,
	"requested_by_user_id" uuid,
	"due_at" timestamp with time zone NOT NULL,
	"disabled_account" boolean DEFAULT false NOT NULL,
	"cancel_token_hash" text,
	"cancelled_at" timestamp with time zone,
	"cancelled_by_user_id" uuid,
	"completed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "erasure_requests" ADD CONSTRAINT "erasure_requests_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "erasure_requests" ADD CONSTRAINT "erasure_requests_requested_by_user_id_users_id_fk" FOREIGN KEY ("requested_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "erasure_requests" ADD CONSTRAINT "erasure_requests_cancelled_by_user_id_users_id_fk" FOREIGN KEY ("cancelled_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "erasure_requests_user_id_scheduled_idx" ON "erasure_requests" USING btree ("user_id") WHERE "erasure_requests"."status" = 'scheduled';--> statement-breakpoint
CREATE UNIQUE INDEX "erasure_requests_cancel_token_hash_idx" ON "erasure_requests" USING btree ("cancel_token_hash");--> statement-breakpoint
CREATE INDEX "erasure_requests_user_id_created_at_idx" ON "erasure_requests" USING btree ("user_id","created_at");