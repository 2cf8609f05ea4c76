CREATE TABLE "assessment_draw_banks" (
	"assessment_id" uuid NOT NULL,
	"bank_id" uuid NOT NULL,
	CONSTRAINT "assessment_draw_banks_assessment_id_bank_id_pk" PRIMARY KEY("assessment_id","bank_id")
);
--> statement-breakpoint
CREATE TABLE "draw_candidate_sets" (
	"hash" text PRIMARY KEY NOT NULL,
	"candidates" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "assessment_draw_banks" ADD CONSTRAINT "assessment_draw_banks_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_draw_banks" ADD CONSTRAINT "assessment_draw_banks_bank_id_question_banks_id_fk" FOREIGN KEY ("bank_id") REFERENCES "public"."question_banks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "assessment_draw_banks_bank_id_idx" ON "assessment_draw_banks" USING btree ("bank_id");