CREATE TABLE "roster_sources" (
	"entity" text NOT NULL,
	"sourced_id" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"name" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "roster_sources_entity_sourced_id_pk" PRIMARY KEY("entity","sourced_id"),
	CONSTRAINT "roster_sources_entity_check" CHECK ("roster_sources"."entity" in ('user', 'course', 'section', 'org', 'academic-session'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "roster_sources_entity_entity_id_idx" ON "roster_sources" USING btree ("entity","entity_id");