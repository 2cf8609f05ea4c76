import "./admin.css";
import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api } from "../../api/client";
import type { operations } from "../../api/schema";
import { Loading } from "../../components/Loading";
import { Page } from "../../components/Page";
import { Problem } from "../../components/Problem";
import { TableScroll } from "../../components/TableScroll";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { Invitations } from "./Invitations";
import { Pager } from "../../components/Pager";

type RoleFilter = NonNullable<NonNullable<operations["users-list"]["parameters"]["query"]>["role"]>;
type StatusFilter = NonNullable<NonNullable<operations["users-list"]["parameters"]["query"]>["status"]>;
const roleFilters: { value: RoleFilter; label: string }[] = [
  { value: "admin", label: "Administrator" },
  { value: "finance", label: "Finance" },
  { value: "course-creator", label: "Course creator" },
  { value: "instructor", label: "Instructor" },
  { value: "grader", label: "Grader" },
  { value: "learner", label: "Learner" },
];
const statusFilters: { value: StatusFilter; label: string }[] = [
  { value: "active", label: "Active" },
  { value: "deactivated", label: "Deactivated" },
];

const oneOf = <T extends string>(options: { value: T }[], value: string | undefined): T | undefined => options.find((o) => o.value === value)?.value;

/** Users, searched by part of the email and filtered by role and status, a page at a time; and invitations. */
export default function Users() {
  const { query, route } = useLocation();
  const email = query.email || undefined;
  const role = oneOf(roleFilters, query.role);
  const status = oneOf(statusFilters, query.status);
  const cursor = query.cursor;
  const [form, setForm] = useState({ email: email ?? "", role: role ?? "", status: status ?? "" });
  const users = useApi(() => api.GET("/v1/users", { params: { query: { email, role, status, cursor, limit: 20 } } }), [email, role, status, cursor]);

  const search = (e: Event) => {
    e.preventDefault();
    const params = new URLSearchParams(Object.entries({ ...form, email: form.email.trim() }).filter(([, v]) => v));
    route(params.size ? `/administration/users?${params.toString()}` : "/administration/users");
  };

  return (
    <Page title="Users">
      <form role="search" onSubmit={search} aria-label="Find users">
        <div class="grid">
          <label for="users-email">
            Email contains
            <input id="users-email" type="search" value={form.email} onInput={(e) => setForm({ ...form, email: e.currentTarget.value })} />
          </label>
          <label for="users-role">
            Role
            <select id="users-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}>
              <option value="">Any role</option>
              {roleFilters.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </label>
          <label for="users-status">
            Status
            <select id="users-status" value={form.status} onChange={(e) => setForm({ ...form, status: e.currentTarget.value })}>
              <option value="">Any status</option>
              {statusFilters.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit">Search</button>
      </form>
      {users.loading ? <Loading what="Loading users" /> : null}
      <Problem problem={users.problem} />
      {users.data ? (
        users.data.items.length === 0 ? (
          <p role="status">No user matches.</p>
        ) : (
          <TableScroll label="Users">
            <table>
              <caption class="visually-hidden">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name and email</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Status</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((u) => (
                  <tr key={u.id}>
                    <th scope="row">
                      <a href={`/administration/users/${u.id}`}>{u.displayName}</a>
                      <br />
                      <small>{u.email}</small>
                    </th>
                    <td>{[...u.roles, ...new Set(u.courseRoles.map((c) => c.role))].join(", ") || "learner"}</td>
                    <td>{u.disabled ? "Deactivated" : u.emailVerified ? "Active" : "Active (email not confirmed)"}</td>
                    <td>{formatDate(u.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        )
      ) : null}
      <Pager path="/administration/users" query={{ email, role, status, cursor }} nextCursor={users.data?.nextCursor} />
      <Invitations />
    </Page>
  );
}
