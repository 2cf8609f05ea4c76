CREATE TABLE "import_rows" (
	"import_id" uuid NOT NULL,
	"file" text NOT NULL,
	"line" integer NOT NULL,
	"key" text,
	"data" jsonb NOT NULL,
	"outcome" jsonb,
	CONSTRAINT "import_rows_import_id_file_line_pk" PRIMARY KEY("import_id","file","line")
);
--> statement-breakpoint
CREATE TABLE "imports" (
	"id" uuid PRIMARY KEY NOT NULL,
	"created_by_user_id" uuid NOT NULL,
	"course_id" uuid,
	"kind" text,
	"dry_run" boolean DEFAULT false NOT NULL,
	"run" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'awaiting-upload' NOT NULL,
	"blob_name" text,
	"file_name" text NOT NULL,
	"content_type" text NOT NULL,
	"declared_size" integer NOT NULL,
	"refusal_reason" text,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rows_read" integer DEFAULT 0 NOT NULL,
	"rows_applied" integer DEFAULT 0 NOT NULL,
	"rows_failed" integer DEFAULT 0 NOT NULL,
	"rows_skipped" integer DEFAULT 0 NOT NULL,
	"entity_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"current_part" text,
	"current_line" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"staged_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"cancel_requested_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "import_rows" ADD CONSTRAINT "import_rows_import_id_imports_id_fk" FOREIGN KEY ("import_id") REFERENCES "public"."imports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "imports" ADD CONSTRAINT "imports_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "imports_created_by_user_id_id_idx" ON "imports" USING btree ("created_by_user_id","id");--> statement-breakpoint
CREATE INDEX "imports_queued_idx" ON "imports" USING btree ("started_at") WHERE "imports"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "imports_created_at_idx" ON "imports" USING btree ("created_at");