import { ErrorBoundary, LocationProvider, Route, Router, useLocation } from "preact-iso";
import { useEffect, useState } from "preact/hooks";
import { loadUser, signOut } from "./api/client";
import { isStaff, session } from "./api/session";
import { Loading } from "./components/Loading";
import { Page } from "./components/Page";
import { useSession } from "./lib/use-session";
import { useUnreadCount } from "./lib/unread-count";
import { nav, type AppRoute, routes } from "./routes";

/**
 * Starts a stored session: who the user is, with this tab's access token while it lasts (the client renews it
 * through the stored refresh token when it is missing or about to lapse).
 */
async function resumeSession(): Promise<void> {
  if (session.stored()) await loadUser();
}

function allowed(route: AppRoute, user: ReturnType<typeof session.get>["user"]): boolean {
  switch (route.access) {
    case "public":
      return true;
    case "signed-in":
      return Boolean(user);
    case "staff":
      return isStaff(user);
    case "admin":
      return Boolean(user?.roles.includes("admin"));
  }
}

/** A page behind its access rule: signed-out visitors go to sign-in (and come back); others are told why not. */
function Guarded({ page, ...props }: { page: AppRoute } & Record<string, unknown>) {
  const { user } = useSession();
  const { url, route } = useLocation();
  useEffect(() => {
    // Once the address is the sign-in page this (old) page is leaving: asking again would wrap `next` in itself.
    if (page.access !== "public" && !user && !url.startsWith("/sign-in")) route(`/sign-in?next=${encodeURIComponent(url)}`, true);
  }, [user, page, url, route]);
  if (!allowed(page, user)) {
    return user ? (
      <Page title="Not available">
        <p>Your account cannot open this page.</p>
      </Page>
    ) : null;
  }
  const Component = page.component;
  return <Component {...props} />;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        Nothing is here. Go to the <a href="/">start page</a>.
      </p>
    </Page>
  );
}

function Header() {
  const { user } = useSession();
  const { route, url } = useLocation();
  const unread = useUnreadCount(Boolean(user), url);
  return (
    <header class="container">
      <nav aria-label="Main">
        <ul>
          <li>
            <a href="/" class="brand">
              Ringlet
            </a>
          </li>
        </ul>
        <ul class="nav-links">
          {nav
            .filter((item) => item.show(user))
            .map((item) => (
              <li key={item.href}>
                {/* The count in words joins the link's text (not an aria-label, which must contain what is seen). */}
                <a href={item.href}>
                  {item.label}
                  {item.unreadCount && unread ? (
                    <>
                      <span class="badge" aria-hidden="true">
                        {unread}
                      </span>
                      <span class="visually-hidden"> ({unread} unread)</span>
                    </>
                  ) : null}
                </a>
              </li>
            ))}
          {user ? (
            <li>
              <button
                type="button"
                class="secondary outline"
                onClick={async () => {
                  await signOut();
                  route("/sign-in", true);
                }}
              >
                Sign out
              </button>
            </li>
          ) : (
            <li>
              <a href="/sign-in">Sign in</a>
            </li>
          )}
        </ul>
      </nav>
    </header>
  );
}

export function App() {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    void resumeSession().finally(() => setReady(true));
  }, []);
  return (
    <LocationProvider>
      <a href="#main" class="skip-link">
        Skip to content
      </a>
      <Header />
      <main id="main" class="container">
        {ready ? (
          <ErrorBoundary>
            <Router>
              {[
                ...routes.map((page) => <Route key={page.path} path={page.path} component={(props: Record<string, unknown>) => <Guarded page={page} {...props} />} />),
                <Route key="*" default component={NotFound} />,
              ]}
            </Router>
          </ErrorBoundary>
        ) : (
          <Loading />
        )}
      </main>
    </LocationProvider>
  );
}
