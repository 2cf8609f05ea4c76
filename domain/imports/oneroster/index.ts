import type { RowPart } from "../import-kind.js";
import { classesPart } from "./classes.js";
import { coursesPart } from "./courses.js";
import { onerosterEnrollmentsPart } from "./enrollments.js";
import { academicSessionsPart, orgsPart } from "./recorded-sources.js";
import { onerosterUsersPart } from "./users.js";

/**
 * The `oneroster` kind: a OneRoster 1.2 CSV bundle, its files applied in this order so that what a row refers to
 * (a class's course, school and terms; an enrollment's class and user) was applied before it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each part has its own row type
export const onerosterParts: readonly RowPart<any>[] = [orgsPart, academicSessionsPart, coursesPart, classesPart, onerosterUsersPart, onerosterEnrollmentsPart];
