CREATE TABLE "grade_categories" (
	"course_id" uuid NOT NULL,
	"name" text NOT NULL,
	"weight_percent" real NOT NULL,
	"drop_lowest" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "grade_categories_course_id_name_pk" PRIMARY KEY("course_id","name")
);
--> statement-breakpoint
CREATE TABLE "grade_excusals" (
	"assessment_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grade_excusals_assessment_id_user_id_pk" PRIMARY KEY("assessment_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "grade_categories" ADD CONSTRAINT "grade_categories_course_id_courses_id_fk" FOREIGN KEY ("course_id") REFERENCES "public"."courses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_excusals" ADD CONSTRAINT "grade_excusals_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "grade_excusals" ADD CONSTRAINT "grade_excusals_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;