CREATE TABLE "bank_item_versions" (
	"item_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"item" jsonb NOT NULL,
	"key" jsonb,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bank_item_versions_item_id_version_pk" PRIMARY KEY("item_id","version")
);
--> statement-breakpoint
CREATE TABLE "bank_items" (
	"id" uuid PRIMARY KEY NOT NULL,
	"bank_id" uuid NOT NULL,
	"type" text NOT NULL,
	"current_version" integer DEFAULT 1 NOT NULL,
	"status" text DEFAULT 'approved' NOT NULL,
	"origin" text DEFAULT 'authored' NOT NULL,
	"generation_job_id" uuid,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"difficulty" text,
	"created_by_user_id" uuid,
	"approved_by_user_id" uuid,
	"approved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "generation_jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"bank_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"requested_by_user_id" uuid,
	"request_key" text,
	"source" jsonb NOT NULL,
	"item_types" text[] NOT NULL,
	"count" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"progress" jsonb NOT NULL,
	"discarded" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"calls" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "generation_jobs_request_key_unique" UNIQUE("request_key")
);
--> statement-breakpoint
CREATE TABLE "question_bank_courses" (
	"bank_id" uuid NOT NULL,
	"course_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "question_bank_courses_bank_id_course_id_pk" PRIMARY KEY("bank_id","course_id")
);
--> statement-breakpoint
CREATE TABLE "question_banks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"course_id" uuid,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_by_user_id" uuid,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rubrics" (
	"id" uuid PRIMARY KEY NOT NULL,
	"course_id" uuid NOT NULL,
	"title" text NOT NULL,
	"criteria" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assessment_stats" (
	"assessment_id" uuid PRIMARY KEY NOT NULL,
	"n" integer DEFAULT 0 NOT NULL,
	"sum_total" real DEFAULT 0 NOT NULL,
	"sum_total_sq" real DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_analysis_contributions" (
	"submission_id" uuid PRIMARY KEY NOT NULL,
	"assessment_id" uuid NOT NULL,
	"grade_id" uuid NOT NULL,
	"grade_version" integer NOT NULL,
	"total" real NOT NULL,
	"items" jsonb NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "item_choice_counts" (
	"assessment_id" uuid NOT NULL,
	"item_id" text NOT NULL,
	"item_version" integer NOT NULL,
	"choice_id" text NOT NULL,
	"picks" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "item_choice_counts_assessment_id_item_id_item_version_choice_id_pk" PRIMARY KEY("assessment_id","item_id","item_version","choice_id")
);
--> statement-breakpoint
CREATE TABLE "item_stats" (
	"assessment_id" uuid NOT NULL,
	"item_id" text NOT NULL,
	"item_version" integer NOT NULL,
	"item_type" text NOT NULL,
	"max_points" real NOT NULL,
	"n" integer DEFAULT 0 NOT NULL,
	"sum_score" real DEFAULT 0 NOT NULL,
	"sum_score_sq" real DEFAULT 0 NOT NULL,
	"sum_rest" real DEFAULT 0 NOT NULL,
	"sum_rest_sq" real DEFAULT 0 NOT NULL,
	"sum_score_rest" real DEFAULT 0 NOT NULL,
	"time_n" integer DEFAULT 0 NOT NULL,
	"time_sum" real DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "item_stats_assessment_id_item_id_item_version_pk" PRIMARY KEY("assessment_id","item_id","item_version")
);
--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "pools" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "shuffle_items" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "shuffle_choices" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "assessments" ADD COLUMN "rubrics" jsonb DEFAULT '{"items":{},"whole":null}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "attempts" ADD COLUMN "items" jsonb;--> statement-breakpoint
ALTER TABLE "attempts" ADD COLUMN "draw" jsonb;--> statement-breakpoint
ALTER TABLE "attempts" ADD COLUMN "item_seconds" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "manual_scores" ADD COLUMN "rubric" jsonb;--> statement-breakpoint
ALTER TABLE "bank_item_versions" ADD CONSTRAINT "bank_item_versions_item_id_bank_items_id_fk" FOREIGN KEY ("item_id") REFERENCES "public"."bank_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_item_versions" ADD CONSTRAINT "bank_item_versions_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_items" ADD CONSTRAINT "bank_items_bank_id_question_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."question_banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_items" ADD CONSTRAINT "bank_items_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bank_items" ADD CONSTRAINT "bank_items_approved_by_user_id_users_id_fk" FOREIGN KEY ("approved_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD CONSTRAINT "generation_jobs_bank_id_question_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."question_banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD CONSTRAINT "generation_jobs_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "generation_jobs" ADD CONSTRAINT "generation_jobs_requested_by_user_id_users_id_fk" FOREIGN KEY ("requested_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "question_bank_courses" ADD CONSTRAINT "question_bank_courses_bank_id_question_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."question_banks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "question_bank_courses" ADD CONSTRAINT "question_bank_courses_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "question_banks" ADD CONSTRAINT "question_banks_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "question_banks" ADD CONSTRAINT "question_banks_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rubrics" ADD CONSTRAINT "rubrics_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rubrics" ADD CONSTRAINT "rubrics_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_stats" ADD CONSTRAINT "assessment_stats_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_analysis_contributions" ADD CONSTRAINT "item_analysis_contributions_submission_id_attempts_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."attempts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_choice_counts" ADD CONSTRAINT "item_choice_counts_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_stats" ADD CONSTRAINT "item_stats_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bank_items_bank_id_status_idx" ON "bank_items" USING btree ("bank_id","status","id");--> statement-breakpoint
CREATE INDEX "bank_items_tags_idx" ON "bank_items" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "bank_items_generation_job_id_idx" ON "bank_items" USING btree ("generation_job_id");--> statement-breakpoint
CREATE INDEX "generation_jobs_bank_id_idx" ON "generation_jobs" USING btree ("bank_id","created_at");--> statement-breakpoint
CREATE INDEX "generation_jobs_queued_idx" ON "generation_jobs" USING btree ("created_at") WHERE "generation_jobs"."status" in ('queued', 'running');--> statement-breakpoint
CREATE INDEX "question_bank_courses_course_id_idx" ON "question_bank_courses" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "question_banks_course_id_idx" ON "question_banks" USING btree ("course_id");--> statement-breakpoint
CREATE INDEX "rubrics_course_id_idx" ON "rubrics" USING btree ("course_id");