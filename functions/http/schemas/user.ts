import { z } from "zod";
import { courseRoles } from "../../../domain/db/schema/index.js";
import { globalRoles, type UserView } from "../../../domain/identity/user-view.js";

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    locale: z.string(),
    roles: z.array(z.enum(globalRoles)).meta({ description: "Global roles: `admin`, `finance` (the bursar)" }),
    courseRoles: z.array(z.object({ courseId: z.uuid(), role: z.enum(courseRoles) })),
    disabled: z.boolean().meta({ description: "Deactivated by an admin: signing in is refused, every record stays" }),
    deactivatedAt: z.iso.datetime().nullable(),
    emailVerified: z.boolean().meta({ description: "The address is confirmed (an emailed link, or an identity provider that vouches for it)" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: "User" });
export type UserBody = z.infer<typeof userSchema>;

export const userBody = (u: UserView): UserBody => ({
  ...u,
  createdAt: u.createdAt.toISOString(),
  updatedAt: u.updatedAt.toISOString(),
  deactivatedAt: u.deactivatedAt?.toISOString() ?? null,
});

export const displayNameSchema = z.string().trim().min(1).max(100);
